package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/cuitty/persist/internal/record"
)

// A batch of new keys is copied straight into the tables, as pg_restore and
// a hand `\copy` do, when the server can be shown to store every row exactly
// as COPY sent it; otherwise it goes through the staging tables and is
// compared there (readback.go). COPY runs no rules, so what can change a row
// on its way in is what runs on an INSERT: the tables' triggers, and what
// those run in turn, column defaults and check constraints (which may call
// any function), row security policies, and the column types' input
// functions or another table access method. provenRows reads all of that
// from the catalog after the batch's COPY, in the same transaction: the
// COPY holds the tables' ROW EXCLUSIVE lock until the transaction ends, and
// CREATE TRIGGER, CREATE RULE and ALTER TABLE all need a lock it excludes,
// so nothing added later can have acted on the batch, and anything added
// before is in the catalog this query reads. Where the catalog shows
// anything Persist did not make, that batch is read back and compared row
// by row in the loader (compareRows) and the later batches are staged.
//
// The one trigger that runs on an insert is Persist's statement trigger,
// which inserts into persist_history: the query holds persist_mark to this
// release's text and persist_history to nothing of its own either.
const proofQuery = `WITH t(name, oid) AS (
		SELECT n, to_regclass(n) FROM unnest(ARRAY['persist_records', 'persist_events', 'persist_history']) n),
	c AS (SELECT t.name, c.oid, c.relkind, c.relam, c.relhasrules, c.relrowsecurity, c.relnamespace, c.relpersistence
		FROM t JOIN pg_class c ON c.oid = t.oid),
	mark AS (SELECT p.* FROM c JOIN pg_proc p ON p.proname = 'persist_mark'
		AND p.pronamespace = c.relnamespace AND p.pronargs = 0 WHERE c.name = 'persist_records'),
	cols(tab, col, typ) AS (VALUES
		('persist_records', 'store', 'text'), ('persist_records', 'collection', 'text'),
		('persist_records', 'key', 'text'), ('persist_records', 'version', 'bigint'),
		('persist_records', 'updated_at', 'timestamp with time zone'), ('persist_records', 'deleted', 'boolean'),
		('persist_records', 'value', 'jsonb'),
		('persist_events', 'store', 'text'), ('persist_events', 'stream', 'text'), ('persist_events', 'seq', 'bigint'),
		('persist_events', 'type', 'text'), ('persist_events', 'at', 'timestamp with time zone'),
		('persist_events', 'data', 'jsonb'))
	SELECT coalesce(
		(SELECT format('table %s is missing', name) FROM t WHERE oid IS NULL LIMIT 1),
		(SELECT format('%s is not a plain table', name) FROM c
			WHERE relkind <> 'r' OR relam IS DISTINCT FROM (SELECT oid FROM pg_am WHERE amname = 'heap') LIMIT 1),
		(SELECT format('%s is a temporary table', name) FROM c WHERE relpersistence = 't' LIMIT 1),
		(SELECT 'the tables are not in one schema' FROM c HAVING count(DISTINCT relnamespace) > 1),
		(SELECT format('%s has rules', name) FROM c WHERE relhasrules LIMIT 1),
		(SELECT format('%s has row security', name) FROM c WHERE relrowsecurity LIMIT 1),
		(SELECT format('trigger %s on %s', g.tgname, c.name) FROM c JOIN pg_trigger g ON g.tgrelid = c.oid
			WHERE NOT g.tgisinternal AND g.tgtype & 4 <> 0
			AND NOT (c.name <> 'persist_history' AND g.tgname = c.name || '_mark' AND g.tgtype = 60
				AND g.tgfoid IS NOT DISTINCT FROM (SELECT oid FROM mark))
			LIMIT 1),
		(SELECT 'function persist_mark is missing' WHERE NOT EXISTS (SELECT FROM mark)),
		(SELECT 'function persist_mark is not this release''s' FROM mark m JOIN pg_namespace n ON n.oid = m.pronamespace
			WHERE m.prosrc <> $1 OR m.prolang IS DISTINCT FROM (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
			OR m.proconfig IS DISTINCT FROM ARRAY[format('search_path=%s, pg_temp', quote_ident(n.nspname))]),
		(SELECT format('the default of %s.%s', c.name, a.attname) FROM c
			JOIN pg_attrdef d ON d.adrelid = c.oid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.adnum
			WHERE NOT (c.name <> 'persist_history' AND a.attname = 'chg' AND pg_get_expr(d.adbin, d.adrelid) = 'txid_current()')
			LIMIT 1),
		(SELECT format('constraint %s on %s', k.conname, c.name) FROM c JOIN pg_constraint k ON k.conrelid = c.oid
			WHERE k.contype = 'c' AND pg_get_constraintdef(k.oid) NOT IN ('CHECK ((version >= 1))', 'CHECK ((seq >= 1))')
			LIMIT 1),
		(SELECT format('column %s.%s is %s, not %s', e.tab, e.col, coalesce(format_type(a.atttypid, a.atttypmod), 'missing'), e.typ)
			FROM cols e JOIN c ON c.name = e.tab
			LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = e.col AND NOT a.attisdropped
			WHERE format_type(a.atttypid, a.atttypmod) IS DISTINCT FROM e.typ LIMIT 1))`

// provenRows says why the server may not store a row as COPY sent it, or ""
// when the catalog shows it does (proofQuery).
func provenRows(ctx context.Context, q querier) (string, error) {
	var why sql.NullString
	if err := q.QueryRowContext(ctx, proofQuery, markBody).Scan(&why); err != nil {
		return "", fmt.Errorf("read the tables' definitions: %w", err)
	}
	return why.String, nil
}

// directState is whether an adapter copies new keys straight into the
// tables: until a check after a COPY shows the tables are not only
// Persist's, then never again in its life.
type directState struct {
	refused atomic.Bool
	why     atomic.Value // string: what the catalog showed
}

func (d *directState) allowed() bool { return !d.refused.Load() }

func (d *directState) refuse(why string) {
	d.why.Store(why)
	d.refused.Store(true)
}

// directBatches counts the batches copied straight into the tables and
// proven; tests use it to tell which way a load went.
var directBatches atomic.Int64

// goesDirect says whether Put copies items straight into the tables: new
// keys only, none of the huge values that are staged in parts.
func (t *writeTx) goesDirect(items []*record.Item) bool {
	if !t.a.direct.allowed() {
		return false
	}
	for _, it := range items {
		if len(it.Value) >= bigCopy || len(it.Data) >= bigCopy {
			return false
		}
	}
	return true
}

// putDirect copies items, all new keys, straight into the tables, and
// notes whether COPY wrote fewer rows than it was sent.
func (t *writeTx) putDirect(ctx context.Context, items []*record.Item, nrec, nev int) error {
	for _, k := range []struct {
		kind  record.Kind
		n     int
		query string
	}{
		{record.KindRecord, nrec, `COPY persist_records (store, collection, key, version, updated_at, deleted, value) FROM STDIN`},
		{record.KindEvent, nev, `COPY persist_events (store, stream, seq, type, at, data) FROM STDIN`},
	} {
		if k.n == 0 {
			continue
		}
		row := recordRow
		if k.kind == record.KindEvent {
			row = eventRow
		}
		n, err := t.copyCount(ctx, k.query, func(w *copyWriter) error {
			for _, it := range items {
				if it.Kind != k.kind {
					continue
				}
				w.text(t.store)
				if err := row(w, it, false); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("put %ss: %w", k.kind, existing(err))
		}
		if n != int64(k.n) {
			// ReadBack names the rows that are not there.
			t.directShort = fmt.Sprintf("COPY wrote %d %ss of %d", n, k.kind, k.n)
		}
	}
	t.direct = items
	return nil
}

// checkDirect is ReadBack of a batch putDirect wrote: proven by the
// catalog, or else compared row by row.
func (t *writeTx) checkDirect(ctx context.Context, puts []*record.Item, fn func(*record.Item, string) error) error {
	why, err := provenRows(ctx, t.tx)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if why == "" {
		why = t.directShort
	}
	if why == "" {
		directBatches.Add(1)
		return nil
	}
	t.a.direct.refuse(why)
	readBackRows.Add(1)
	return t.compareRows(ctx, puts, fn)
}
