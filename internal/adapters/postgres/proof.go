package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cuitty/persist/internal/record"
)

// A batch of new keys is copied straight into the tables, as pg_restore and
// a hand `\copy` do, when the server can be shown to store every row exactly
// as COPY sent it; otherwise it goes through the staging tables and is
// compared there (readback.go). COPY runs no rules, so what can change a row
// on its way in is what runs on an INSERT into the tables the transaction
// writes (persist_stores in Begin, the two data tables, persist_history from
// persist_mark): their triggers, and what those run in turn, column
// defaults, check and foreign key constraints, index expressions and
// operator classes, a partition's key (any of which may call any
// function), row security policies, the column types' input functions or
// domains, another table access method, and the casts persist_mark's body
// makes. provenRows reads all of that from the catalog after the batch's
// COPY, in the same transaction: the COPY holds the tables' ROW EXCLUSIVE
// lock until the transaction ends, and CREATE TRIGGER, CREATE RULE and
// ALTER TABLE all need a lock it excludes, so nothing added later can have
// acted on the batch, and anything added before is in the catalog this
// query reads. What no table lock guards is checked otherwise: persist_mark
// must be the very row version it was before the load's first COPY
// (directState.pin), and the transaction must hold no lock that DDL takes
// and keeps to its end (on an object, or on a table beyond a write's),
// which code that ran in it and then dropped what it came by would. Where
// the catalog shows anything Persist did not make, that batch is read back
// and compared row by row in the loader (compareRows) and the later
// batches are staged.
//
// The query is read under the session's search_path, which another schema
// could use to put its own functions, operators and tables in the place of
// the catalog's: every name in it is qualified with pg_catalog but the
// operators, each of which is called on the exact types of one of
// pg_catalog's (an oid is never compared with a regclass: an operator of
// another schema on exactly those types would win wherever that schema
// is), which is found first as long as no schema comes before it (the
// first check; txSetup puts pg_catalog first); the Persist tables are
// looked up by that path, as COPY looks them up.
const proofQuery = `WITH t(name, oid) AS (
		SELECT n, pg_catalog.to_regclass(n)::pg_catalog.oid FROM pg_catalog.unnest(ARRAY['persist_stores', 'persist_records', 'persist_events',
			'persist_history']::pg_catalog.text[]) n),
	c AS (SELECT t.name, c.oid, c.relkind, c.relam, c.relhasrules, c.relrowsecurity, c.relnamespace, c.relpersistence,
			c.relispartition
		FROM t JOIN pg_catalog.pg_class c ON c.oid = t.oid),
	mark AS (SELECT p.*, p.xmin::pg_catalog.text || p.ctid::pg_catalog.text AS version FROM c
		JOIN pg_catalog.pg_proc p ON p.proname = 'persist_mark' AND p.pronamespace = c.relnamespace AND p.pronargs = 0
		WHERE c.name = 'persist_records'),
	cols(tab, col, typ) AS (VALUES
		('persist_stores', 'name', 'text'), ('persist_stores', 'created_at', 'timestamp with time zone'),
		('persist_records', 'store', 'text'), ('persist_records', 'collection', 'text'),
		('persist_records', 'key', 'text'), ('persist_records', 'version', 'bigint'),
		('persist_records', 'updated_at', 'timestamp with time zone'), ('persist_records', 'deleted', 'boolean'),
		('persist_records', 'value', 'jsonb'), ('persist_records', 'chg', 'bigint'),
		('persist_events', 'store', 'text'), ('persist_events', 'stream', 'text'), ('persist_events', 'seq', 'bigint'),
		('persist_events', 'type', 'text'), ('persist_events', 'at', 'timestamp with time zone'),
		('persist_events', 'data', 'jsonb'), ('persist_events', 'chg', 'bigint'),
		('persist_history', 'txid', 'bigint'), ('persist_history', 'token', 'text')),
	-- What runs code of its own when a row goes in: the tables, their
	-- indexes, defaults and constraints, by what they depend on.
	part(classid, objid, name) AS (
		SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, c.oid, c.name FROM c
		UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, i.indexrelid, c.name
			FROM c JOIN pg_catalog.pg_index i ON i.indrelid = c.oid
		UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, d.oid, c.name
			FROM c JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid
		UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, k.oid, c.name
			FROM c JOIN pg_catalog.pg_constraint k ON k.conrelid = c.oid)
	SELECT coalesce(
		(SELECT pg_catalog.format('the search_path puts %s before pg_catalog', s.n)
			FROM pg_catalog.unnest(pg_catalog.current_schemas(true)) WITH ORDINALITY s(n, i)
			WHERE s.i OPERATOR(pg_catalog.<) (SELECT p.i FROM pg_catalog.unnest(pg_catalog.current_schemas(true))
					WITH ORDINALITY p(n, i) WHERE p.n OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.name)
				AND s.n OPERATOR(pg_catalog.<>) coalesce((SELECT nspname FROM pg_catalog.pg_namespace
					WHERE oid OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()), '')
			LIMIT 1),
		(SELECT pg_catalog.format('table %s is missing', name) FROM t WHERE oid IS NULL LIMIT 1),
		(SELECT pg_catalog.format('%s is not a plain table', name) FROM c
			WHERE relkind <> 'r' OR relispartition
				OR relam IS DISTINCT FROM (SELECT oid FROM pg_catalog.pg_am WHERE amname = 'heap') LIMIT 1),
		(SELECT pg_catalog.format('%s is a temporary table', name) FROM c WHERE relpersistence = 't' LIMIT 1),
		(SELECT 'the tables are not in one schema' FROM c HAVING pg_catalog.count(DISTINCT relnamespace) > 1),
		(SELECT pg_catalog.format('%s has rules', name) FROM c WHERE relhasrules LIMIT 1),
		(SELECT pg_catalog.format('%s has row security', name) FROM c WHERE relrowsecurity LIMIT 1),
		(SELECT pg_catalog.format('trigger %s on %s', g.tgname, c.name) FROM c JOIN pg_catalog.pg_trigger g ON g.tgrelid = c.oid
			WHERE NOT g.tgisinternal AND g.tgtype & 4::pg_catalog.int2 <> 0
			AND NOT (c.name IN ('persist_records', 'persist_events') AND g.tgname = c.name || '_mark' AND g.tgtype = 60
				AND g.tgfoid IS NOT DISTINCT FROM (SELECT oid FROM mark))
			LIMIT 1),
		(SELECT 'function persist_mark is missing' WHERE NOT EXISTS (SELECT FROM mark)),
		(SELECT 'function persist_mark is not this release''s' FROM mark m JOIN pg_catalog.pg_namespace n ON n.oid = m.pronamespace
			WHERE m.prosrc <> $1 OR m.prolang IS DISTINCT FROM (SELECT oid FROM pg_catalog.pg_language WHERE lanname = 'plpgsql')
			OR m.proconfig IS NULL OR pg_catalog.array_length(m.proconfig, 1) <> 1
			OR m.proconfig[1] <> pg_catalog.format('search_path=%s, pg_temp', pg_catalog.quote_ident(n.nspname::pg_catalog.text))),
		(SELECT 'function persist_mark changed during the load' FROM mark WHERE version <> $2),
		(SELECT pg_catalog.format('a cast from %s to text, which persist_mark makes', k.castsource::pg_catalog.regtype)
			FROM pg_catalog.pg_cast k WHERE k.casttarget = 'pg_catalog.text'::pg_catalog.regtype::pg_catalog.oid
			AND k.castsource IN ('pg_catalog.float8'::pg_catalog.regtype::pg_catalog.oid,
				'pg_catalog.timestamptz'::pg_catalog.regtype::pg_catalog.oid) LIMIT 1),
		(SELECT pg_catalog.format('the default of %s.%s', c.name, a.attname) FROM c
			JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid
			JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.adnum
			WHERE NOT (c.name IN ('persist_records', 'persist_events') AND a.attname = 'chg'
					AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'txid_current()')
				AND NOT (c.name = 'persist_stores' AND a.attname = 'created_at' AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'now()')
			LIMIT 1),
		(SELECT pg_catalog.format('constraint %s on %s', k.conname, c.name) FROM c JOIN pg_catalog.pg_constraint k ON k.conrelid = c.oid
			WHERE k.contype <> 'p' AND pg_catalog.pg_get_constraintdef(k.oid) NOT IN ('CHECK ((version >= 1))', 'CHECK ((seq >= 1))')
				AND NOT (c.name IN ('persist_records', 'persist_events') AND k.contype = 'c'
					AND pg_catalog.pg_get_expr(k.conbin, k.conrelid) = '` + chgCheck + `')
			LIMIT 1),
		(SELECT pg_catalog.format('column %s.%s is %s, not %s', e.tab, e.col,
				coalesce(pg_catalog.format_type(a.atttypid, a.atttypmod), 'missing'), e.typ)
			FROM cols e JOIN c ON c.name = e.tab
			LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = e.col AND NOT a.attisdropped
			WHERE pg_catalog.format_type(a.atttypid, a.atttypmod) IS DISTINCT FROM e.typ LIMIT 1),
		(SELECT pg_catalog.format('column %s.%s is of type %s', c.name, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
			FROM c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
			JOIN pg_catalog.pg_type y ON y.oid = a.atttypid
			WHERE y.typtype <> 'b' OR y.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace::pg_catalog.oid LIMIT 1),
		(SELECT pg_catalog.format('%s on %s uses %s', pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), p.name,
				pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0))
			FROM part p JOIN pg_catalog.pg_depend d ON d.classid = p.classid AND d.objid = p.objid
			WHERE d.refobjid >= 16384::pg_catalog.oid AND d.refclassid IN (
				'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid,
				'pg_catalog.pg_operator'::pg_catalog.regclass::pg_catalog.oid,
				'pg_catalog.pg_opclass'::pg_catalog.regclass::pg_catalog.oid,
				'pg_catalog.pg_opfamily'::pg_catalog.regclass::pg_catalog.oid,
				'pg_catalog.pg_collation'::pg_catalog.regclass::pg_catalog.oid)
			LIMIT 1),
		(SELECT 'the session''s client_encoding is not UTF8' WHERE pg_catalog.current_setting('client_encoding') <> 'UTF8'),
		(SELECT pg_catalog.format('this transaction changed the catalog (a %s on %s)', l.mode,
				coalesce(l.relation::pg_catalog.regclass::pg_catalog.text, pg_catalog.pg_describe_object(l.classid, l.objid, l.objsubid)))
			FROM pg_catalog.pg_locks l WHERE l.pid = pg_catalog.pg_backend_pid()
			AND (l.locktype = 'object' OR l.locktype = 'relation' AND l.mode NOT IN ('AccessShareLock', 'RowExclusiveLock'))
			LIMIT 1))`

// markVersion is persist_mark's row version (xmin and ctid): a function
// replaced, even by its own text again, is another row.
const markVersion = `SELECT p.xmin::pg_catalog.text || p.ctid::pg_catalog.text
	FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass('persist_records')::pg_catalog.oid
	WHERE p.proname = 'persist_mark' AND p.pronamespace = c.relnamespace AND p.pronargs = 0`

// provenRows says why the server may not store a row as COPY sent it, or ""
// when the catalog shows it does; proof is proofQuery prepared, mark
// persist_mark's row version before the load's first COPY.
func provenRows(ctx context.Context, proof *sql.Stmt, mark string) (string, error) {
	var why sql.NullString
	if err := proof.QueryRowContext(ctx, markBody, mark).Scan(&why); err != nil {
		return "", fmt.Errorf("read the tables' definitions: %w", err)
	}
	return why.String, nil
}

// proofStmt is proofQuery prepared on the adapter's pool (lazyStmt):
// planning the query was most of its cost, run once for every batch of a
// load (1.8 ms a run as text, 0.5 ms prepared).
func (a *Adapter) proofStmt(ctx context.Context) (*sql.Stmt, error) {
	return a.proof.get(ctx, a.db, proofQuery)
}

// lazyStmt is a query prepared on the adapter's pool when first needed,
// and so once on each connection that runs it (Tx.StmtContext): for the
// catalog queries a load runs once a batch, whose planning costs more than
// their run. A plan kept reads the catalog as it is when it runs, as the
// text would.
type lazyStmt struct {
	mu sync.Mutex
	s  *sql.Stmt
}

func (l *lazyStmt) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s == nil {
		s, err := db.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		l.s = s
	}
	return l.s, nil
}

func (l *lazyStmt) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s != nil {
		l.s.Close()
	}
}

// readMarkVersion is markVersion, "" when there is no persist_mark.
func readMarkVersion(ctx context.Context, q querier) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, markVersion).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read persist_mark: %w", err)
	}
	return v, nil
}

// directState is whether an adapter copies new keys straight into the
// tables: until a check after a COPY shows the tables are not only
// Persist's, then never again in its life.
type directState struct {
	refused atomic.Bool
	why     atomic.Value // string: what the catalog showed

	// mark is persist_mark's row version, read once before the first
	// COPY: no lock keeps a function as it is, so each proof holds it to
	// the version that was there before any batch began.
	pinMu  sync.Mutex
	pinned bool
	mark   string
}

func (d *directState) allowed() bool { return !d.refused.Load() }

func (d *directState) refuse(why string) {
	d.why.Store(why)
	d.refused.Store(true)
}

// pin reads persist_mark's row version on the adapter's first direct
// batch, before its COPY, and returns it.
func (d *directState) pin(ctx context.Context, q querier) (string, error) {
	d.pinMu.Lock()
	defer d.pinMu.Unlock()
	if !d.pinned {
		v, err := readMarkVersion(ctx, q)
		if err != nil {
			return "", err
		}
		d.mark, d.pinned = v, true
	}
	return d.mark, nil
}

// directBatches counts the batches copied straight into the tables and
// proven; tests use it to tell which way a load went.
var directBatches atomic.Int64

// goesDirect says whether Put copies items straight into the tables: new
// keys only, none of the huge values that are staged in parts.
func (t *writeTx) goesDirect(ctx context.Context, items []*record.Item) (bool, error) {
	if !t.a.direct.allowed() {
		return false, nil
	}
	for _, it := range items {
		if len(it.Value) >= bigCopy || len(it.Data) >= bigCopy {
			return false, nil
		}
	}
	mark, err := t.a.direct.pin(ctx, t.tx)
	if err != nil {
		return false, fmt.Errorf("put: %w", err)
	}
	t.mark = mark
	return true, nil
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
	proof, err := t.a.proofStmt(ctx)
	if err != nil {
		return fmt.Errorf("read back: read the tables' definitions: %w", err)
	}
	why, err := provenRows(ctx, t.tx.StmtContext(ctx, proof), t.mark)
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
	if err := t.runDeferred(ctx); err != nil {
		return err
	}
	readBackRows.Add(1)
	return t.compareRows(ctx, puts, fn)
}
