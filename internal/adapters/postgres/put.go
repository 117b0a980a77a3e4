package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Put streams the items with COPY into temporary staging tables and merges
// them with one INSERT … SELECT … ON CONFLICT per kind: no row-by-row INSERTs.
// Fresh items skip the staging: COPY writes them straight into the tables,
// half the server's work, and the primary key turns any item already there
// into a unique violation (ErrExists). Values go in as canonical JSON text
// that COPY casts to jsonb, times as canonical text cast to timestamptz (the
// trailing Z makes it exact whatever the session's TimeZone).
func (t *writeTx) Put(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
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
	if nrec+nev == 0 {
		return nil
	}
	switch mode {
	case adapters.Fresh:
		return t.putFresh(ctx, items, nrec, nev)
	case adapters.Guarded, adapters.Overwrite:
	default:
		return fmt.Errorf("put: unknown mode %d", mode)
	}
	if err := t.staging(ctx); err != nil {
		return err
	}
	guarded := mode == adapters.Guarded
	if nrec > 0 {
		if err := t.putRecords(ctx, items, guarded); err != nil {
			return err
		}
	}
	if nev > 0 {
		if err := t.putEvents(ctx, items, guarded); err != nil {
			return err
		}
	}
	return nil
}

// putFresh copies the items straight into persist_records and persist_events.
func (t *writeTx) putFresh(ctx context.Context, items []*record.Item, nrec, nev int) error {
	store := func(w *copyWriter, _ int) { w.text(t.store) }
	if nrec > 0 {
		err := t.copyItems(ctx, `COPY persist_records (store, collection, key, version, updated_at, deleted, value) FROM STDIN`,
			items, record.KindRecord, store)
		if err != nil {
			return fmt.Errorf("put records: %w", existing(err))
		}
	}
	if nev > 0 {
		err := t.copyItems(ctx, `COPY persist_events (store, stream, seq, type, at, data) FROM STDIN`,
			items, record.KindEvent, store)
		if err != nil {
			return fmt.Errorf("put events: %w", existing(err))
		}
	}
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

// staging creates the session's staging tables on first use and empties
// them when this transaction filled them before.
func (t *writeTx) staging(ctx context.Context) error {
	if !t.stagingReady {
		for _, q := range []string{
			`CREATE TEMP TABLE IF NOT EXISTS persist_stage_records (
				ord bigint, collection text COLLATE "C", key text COLLATE "C", version bigint,
				updated_at timestamptz, deleted boolean, value jsonb) ON COMMIT DELETE ROWS`,
			`CREATE TEMP TABLE IF NOT EXISTS persist_stage_events (
				ord bigint, stream text COLLATE "C", seq bigint, type text,
				at timestamptz, data jsonb) ON COMMIT DELETE ROWS`,
		} {
			if _, err := t.tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create staging table: %w", err)
			}
		}
		t.stagingReady = true
	}
	return nil
}

func (t *writeTx) empty(ctx context.Context, table string, used *bool) error {
	if *used {
		if _, err := t.tx.ExecContext(ctx, `TRUNCATE `+table); err != nil {
			return fmt.Errorf("empty staging table: %w", err)
		}
	}
	*used = true
	return nil
}

func (t *writeTx) putRecords(ctx context.Context, items []*record.Item, guarded bool) error {
	if err := t.empty(ctx, "persist_stage_records", &t.recordsUsed); err != nil {
		return err
	}
	err := t.copyItems(ctx, `COPY persist_stage_records (ord, collection, key, version, updated_at, deleted, value) FROM STDIN`,
		items, record.KindRecord, position)
	if err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	order, guard := `ord DESC`, ``
	if guarded {
		order, guard = `version DESC, ord`, ` WHERE r.version < EXCLUDED.version`
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO persist_records AS r (store, collection, key, version, updated_at, deleted, value)
		SELECT DISTINCT ON (collection, key) $1, collection, key, version, updated_at, deleted, value
		FROM persist_stage_records ORDER BY collection, key, `+order+`
		ON CONFLICT (store, collection, key) DO UPDATE SET version = EXCLUDED.version,
			updated_at = EXCLUDED.updated_at, deleted = EXCLUDED.deleted, value = EXCLUDED.value`+guard,
		t.store)
	if err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	return nil
}

func (t *writeTx) putEvents(ctx context.Context, items []*record.Item, guarded bool) error {
	if err := t.empty(ctx, "persist_stage_events", &t.eventsUsed); err != nil {
		return err
	}
	err := t.copyItems(ctx, `COPY persist_stage_events (ord, stream, seq, type, at, data) FROM STDIN`,
		items, record.KindEvent, position)
	if err != nil {
		return fmt.Errorf("put events: %w", err)
	}
	order, conflict := `ord DESC`, `DO UPDATE SET type = EXCLUDED.type, at = EXCLUDED.at, data = EXCLUDED.data`
	if guarded {
		order, conflict = `ord`, `DO NOTHING`
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO persist_events (store, stream, seq, type, at, data)
		SELECT DISTINCT ON (stream, seq) $1, stream, seq, type, at, data
		FROM persist_stage_events ORDER BY stream, seq, `+order+`
		ON CONFLICT (store, stream, seq) `+conflict, t.store)
	if err != nil {
		return fmt.Errorf("put events: %w", err)
	}
	return nil
}

// copyItems copies the items of one kind with query, a COPY … FROM STDIN
// whose first column first writes (the store, or the item's position) and
// whose others are the item's columns.
func (t *writeTx) copyItems(ctx context.Context, query string, items []*record.Item, kind record.Kind,
	first func(w *copyWriter, i int)) error {
	row := recordRow
	if kind == record.KindEvent {
		row = eventRow
	}
	return t.copyRows(ctx, query, func(w *copyWriter) error {
		for i, it := range items {
			if it.Kind != kind {
				continue
			}
			first(w, i)
			if err := row(w, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// position is the staging tables' first column: the item's place in the
// batch, which orders duplicates.
func position(w *copyWriter, i int) { w.int(int64(i)) }

// recordRow writes a record's columns after the first: collection, key,
// version, updated_at, deleted, value (NULL for a tombstone, which has none;
// JSON null for an absent value).
func recordRow(w *copyWriter, it *record.Item) error {
	w.text(it.Collection)
	w.text(it.Key)
	w.int(it.Version)
	w.text(it.UpdatedAt)
	w.bool(it.Deleted)
	switch {
	case it.Deleted:
		w.null()
	case it.Value == nil:
		w.text("null")
	default:
		w.bytes(it.Value)
	}
	return w.end()
}

// eventRow writes an event's columns after the first: stream, seq, type,
// at, data.
func eventRow(w *copyWriter, it *record.Item) error {
	w.text(it.Stream)
	w.int(it.Seq)
	w.text(it.Type)
	w.text(it.At)
	if it.Data == nil {
		w.text("null")
	} else {
		w.bytes(it.Data)
	}
	return w.end()
}
