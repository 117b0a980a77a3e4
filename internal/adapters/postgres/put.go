package postgres

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Put copies new keys (Fresh) straight into the tables where the server
// can be shown to store them as sent (proof.go). Otherwise it streams the
// items with COPY into temporary staging tables and writes
// them with one INSERT … SELECT per kind: no row-by-row INSERTs. Fresh items
// are inserted as they are, and the primary key turns any item already there
// into a unique violation (ErrExists); the other modes merge with ON
// CONFLICT. The staged rows stay until the next Put, so that ReadBack can
// compare the tables with them on the server: the values cross the wire
// once, and nothing is read back. Values go in as canonical JSON text that
// COPY casts to jsonb, times as canonical text cast to timestamptz (the
// trailing Z makes it exact whatever the session's TimeZone).
func (t *writeTx) Put(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	// The COPY runs on the driver's connection, past database/sql's check
	// of an ended context: a batch could go in whole after it ended.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return cutShort(ctx, t.put(ctx, items, mode))
}

// cutShort says why a statement ctx cut short failed: the driver tells it
// as a bad connection.
func cutShort(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("put: %w: %w", ctx.Err(), err)
	}
	return err
}

func (t *writeTx) put(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	t.staged, t.direct, t.directShort = nil, nil, ""
	var nrec, nev int
	for _, it := range items {
		if err := validPut(it); err != nil {
			return err
		}
		if it.Kind == record.KindRecord {
			nrec++
		} else {
			nev++
		}
	}
	switch mode {
	case adapters.Fresh, adapters.Guarded, adapters.Overwrite:
	default:
		return fmt.Errorf("put: unknown mode %d", mode)
	}
	if nrec+nev == 0 {
		return nil
	}
	if mode == adapters.Fresh {
		direct, err := t.goesDirect(ctx, items)
		if err != nil {
			return err
		}
		if direct {
			return t.putDirect(ctx, items, nrec, nev)
		}
	}
	if err := t.staging(ctx); err != nil {
		return err
	}
	if nrec > 0 {
		if err := t.putRecords(ctx, items, mode); err != nil {
			return err
		}
	}
	if nev > 0 {
		if err := t.putEvents(ctx, items, mode); err != nil {
			return err
		}
	}
	t.staged = items
	return nil
}

// existing marks a unique violation as adapters.ErrExists.
func existing(err error) error {
	var perr *pq.Error
	if errors.As(err, &perr) && perr.Code == "23505" {
		return fmt.Errorf("%w: %w", adapters.ErrExists, err)
	}
	return err
}

// validPut refuses what Put cannot write faithfully, before anything is sent.
// What Check refuses the server refuses too, with an error: callers check
// each item before they write it, so it is not checked twice here.
func validPut(it *record.Item) error {
	if err := adapters.NoNext(it); err != nil {
		return err
	}
	switch it.Kind {
	case record.KindRecord:
		if it.Version < 1 || it.UpdatedAt == "" {
			return fmt.Errorf("put record %q/%q: version and updated_at must be set", it.Collection, it.Key)
		}
		if it.Deleted && it.Value != nil {
			return fmt.Errorf("put record %q/%q: a tombstone has no value", it.Collection, it.Key)
		}
	case record.KindEvent:
		if it.Seq < 1 || it.At == "" {
			return fmt.Errorf("put event %q/%d: seq and at must be set", it.Stream, it.Seq)
		}
	default:
		return fmt.Errorf("put: cannot write a %s line", it.Kind)
	}
	return nil
}

// staging creates the session's staging tables on first use in this
// transaction (they outlive it, their rows do not: ON COMMIT DELETE ROWS).
// Every statement names them by pg_temp: a search_path that lists pg_temp
// after another schema would find a table of that schema by their name.
//
// It also turns merge joins off for the rest of the transaction, for
// ReadBack's comparison of the tables with the staging tables: without
// statistics on a temporary table the planner sorts both sides of a batch
// to merge them, which tripled the comparison's cost; a hash join needs no
// sort. Nothing else the transaction runs joins.
func (t *writeTx) staging(ctx context.Context) error {
	if t.stagingReady {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS pg_temp.persist_stage_records (
			ord bigint, collection text COLLATE "C", key text COLLATE "C", version bigint,
			updated_at timestamptz, deleted boolean, value jsonb) ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE IF NOT EXISTS pg_temp.persist_stage_events (
			ord bigint, stream text COLLATE "C", seq bigint, type text,
			at timestamptz, data jsonb) ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE IF NOT EXISTS pg_temp.persist_stage_parts (
			ord bigint, part integer, chunk text) ON COMMIT DELETE ROWS;
		SET LOCAL enable_mergejoin = off`)
	if err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	t.stagingReady = true
	return nil
}

// stage empties a staging table filled earlier in this transaction, then
// copies the items of one kind into it, each with its place in items.
func (t *writeTx) stage(ctx context.Context, items []*record.Item, kind record.Kind) error {
	table, used, cols := stagedRecords.stage, &t.recordsUsed, "ord, collection, key, version, updated_at, deleted, value"
	if kind == record.KindEvent {
		table, used, cols = stagedEvents.stage, &t.eventsUsed, "ord, stream, seq, type, at, data"
	}
	if *used {
		if _, err := t.tx.ExecContext(ctx, `TRUNCATE `+table); err != nil {
			return fmt.Errorf("empty staging table: %w", err)
		}
	}
	*used = true
	return t.copyItems(ctx, `COPY `+table+` (`+cols+`) FROM STDIN`, items, kind)
}

func (t *writeTx) putRecords(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	if err := t.stage(ctx, items, record.KindRecord); err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	const cols = `collection, key, version, updated_at, deleted, value`
	q := `INSERT INTO persist_records (store, ` + cols + `) SELECT $1, ` + cols + ` FROM pg_temp.persist_stage_records`
	if mode != adapters.Fresh {
		order, guard := `ord DESC`, ``
		if mode == adapters.Guarded {
			order, guard = `version DESC, ord`, ` WHERE r.version < EXCLUDED.version`
		}
		q = `INSERT INTO persist_records AS r (store, ` + cols + `)
		SELECT DISTINCT ON (collection, key) $1, ` + cols + `
		FROM pg_temp.persist_stage_records ORDER BY collection, key, ` + order + `
		ON CONFLICT (store, collection, key) DO UPDATE SET version = EXCLUDED.version,
			updated_at = EXCLUDED.updated_at, deleted = EXCLUDED.deleted, value = EXCLUDED.value, chg = EXCLUDED.chg` + guard
	}
	if _, err := t.tx.ExecContext(ctx, q, t.store); err != nil {
		return fmt.Errorf("put records: %w", existing(err))
	}
	return nil
}

func (t *writeTx) putEvents(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	if err := t.stage(ctx, items, record.KindEvent); err != nil {
		return fmt.Errorf("put events: %w", err)
	}
	const cols = `stream, seq, type, at, data`
	q := `INSERT INTO persist_events (store, ` + cols + `) SELECT $1, ` + cols + ` FROM pg_temp.persist_stage_events`
	if mode != adapters.Fresh {
		order, conflict := `ord DESC`, `DO UPDATE SET type = EXCLUDED.type, at = EXCLUDED.at, data = EXCLUDED.data, chg = EXCLUDED.chg`
		if mode == adapters.Guarded {
			order, conflict = `ord`, `DO NOTHING`
		}
		q = `INSERT INTO persist_events (store, ` + cols + `)
		SELECT DISTINCT ON (stream, seq) $1, ` + cols + `
		FROM pg_temp.persist_stage_events ORDER BY stream, seq, ` + order + `
		ON CONFLICT (store, stream, seq) ` + conflict
	}
	if _, err := t.tx.ExecContext(ctx, q, t.store); err != nil {
		return fmt.Errorf("put events: %w", existing(err))
	}
	return nil
}

// copyItems copies the items of one kind with query, a COPY … FROM STDIN
// whose first column is the item's place in items (which orders
// duplicates, and names the item to ReadBack) and whose others are the
// item's columns.
//
// A value of bigCopy bytes or more is staged as NULL, then in parts
// (stageParts).
func (t *writeTx) copyItems(ctx context.Context, query string, items []*record.Item, kind record.Kind) error {
	row := recordRow
	if kind == record.KindEvent {
		row = eventRow
	}
	var big []int // the items whose value goes in parts
	err := t.copyRows(ctx, query, func(w *copyWriter) error {
		for i, it := range items {
			if it.Kind != kind {
				continue
			}
			later := len(it.Value) >= bigCopy || len(it.Data) >= bigCopy
			if later {
				big = append(big, i)
			}
			w.int(int64(i))
			if err := row(w, it, later); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(big) == 0 {
		return err
	}
	return t.stageParts(ctx, items, big, kind)
}

// recordRow writes a record's columns after the first: collection, key,
// version, updated_at, deleted, value (NULL for a tombstone, which has none,
// and for a value staged later; JSON null for an absent value).
func recordRow(w *copyWriter, it *record.Item, later bool) error {
	w.text(it.Collection)
	w.text(it.Key)
	w.int(it.Version)
	w.text(it.UpdatedAt)
	w.bool(it.Deleted)
	switch {
	case it.Deleted || later:
		w.null()
	case it.Value == nil:
		w.text("null")
	default:
		w.bytes(it.Value)
	}
	return w.end()
}

// eventRow writes an event's columns after the first: stream, seq, type,
// at, data (NULL for data staged later).
func eventRow(w *copyWriter, it *record.Item, later bool) error {
	w.text(it.Stream)
	w.int(it.Seq)
	w.text(it.Type)
	w.text(it.At)
	switch {
	case later:
		w.null()
	case it.Data == nil:
		w.text("null")
	default:
		w.bytes(it.Data)
	}
	return w.end()
}

// bigCopy is the size of a value from which it is staged in parts.
const bigCopy = 1 << 20

// stageParts stages the values of items[big] in parts of about copyChunk
// bytes, and sets each staged row's value to its parts joined. lib/pq ends
// every piece of COPY data with a newline, so a row cannot be sent in
// pieces; a huge value sent in one would be held twice more, escaped in
// the chunk and again in the driver's buffer.
func (t *writeTx) stageParts(ctx context.Context, items []*record.Item, big []int, kind record.Kind) error {
	if t.partsUsed {
		if _, err := t.tx.ExecContext(ctx, `TRUNCATE pg_temp.persist_stage_parts`); err != nil {
			return fmt.Errorf("empty staging table: %w", err)
		}
	}
	t.partsUsed = true
	err := t.copyRows(ctx, `COPY pg_temp.persist_stage_parts (ord, part, chunk) FROM STDIN`, func(w *copyWriter) error {
		for _, i := range big {
			v := items[i].Value
			if kind == record.KindEvent {
				v = items[i].Data
			}
			for part := int64(0); len(v) > 0; part++ {
				n := partLen(v, copyChunk)
				w.int(int64(i))
				w.int(part)
				w.bytes(v[:n])
				if err := w.end(); err != nil {
					return err
				}
				v = v[n:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	table, col := stagedRecords.stage, "value"
	if kind == record.KindEvent {
		table, col = stagedEvents.stage, "data"
	}
	_, err = t.tx.ExecContext(ctx, `UPDATE `+table+` s SET `+col+` = p.v::pg_catalog.jsonb
		FROM (SELECT ord, pg_catalog.string_agg(chunk, '' ORDER BY part) AS v FROM pg_temp.persist_stage_parts GROUP BY ord) p
		WHERE s.ord = p.ord`)
	if err != nil {
		return fmt.Errorf("join staged parts: %w", err)
	}
	return nil
}

// partLen is the length of v's first part: at most n bytes (n ≥
// utf8.UTFMax), cut before a UTF-8 character rather than inside one (each
// part is text of its own).
func partLen(v []byte, n int) int {
	if len(v) <= n {
		return len(v)
	}
	for k := n; k > n-utf8.UTFMax; k-- {
		if utf8.RuneStart(v[k]) {
			return k
		}
	}
	return n // not UTF-8, which a canonical value always is
}
