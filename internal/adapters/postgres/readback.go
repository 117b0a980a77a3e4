package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/record"
)

// readBack is Lookup without locks: it reads back what a batch just wrote.
// The keys of one collection (or stream) in a batch lie close together when
// the stream is in dump order, so each collection's keys are read as one
// index range from the lowest to the highest: probing 5000 keys one by one
// cost the server seven times as much. A range is read up to twice as many
// rows as it has keys, plus a margin; where the store holds more than that
// between them (keys spread thinly among others), the keys still missing are
// probed one by one after all. Each value is read as its hash and compared
// with the hash of the value the key carries; a row that differs is read
// whole by probe, so fn sees what the store holds.
func (t *writeTx) readBack(ctx context.Context, keys []*record.Item, fn func(*record.Item) error) error {
	recs, evs := recordKeys(keys), eventKeys(keys)
	if recs.len() > 0 {
		if err := t.readBackRecords(ctx, recs, fn); err != nil {
			return err
		}
	}
	if evs.len() > 0 {
		if err := t.readBackEvents(ctx, evs, fn); err != nil {
			return err
		}
	}
	return nil
}

// The read-back selects each value as its jsonb hash (see jsonbHash).
const (
	hashedRecordCols = `collection, key, version, updated_at::text, deleted, jsonb_hash_extended(value, 0)`
	hashedEventCols  = `stream, seq, type, at::text, jsonb_hash_extended(data, 0)`
)

func (t *writeTx) readBackRecords(ctx context.Context, want *keySet[string], fn func(*record.Item) error) error {
	colls, los, his, limits := want.bounds()
	rows, err := t.tx.QueryContext(ctx, `SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(c, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+hashedRecordCols+` FROM persist_records
			WHERE store = $1 AND collection = u.c AND key >= u.lo AND key <= u.hi ORDER BY key LIMIT u.n) r`,
		t.store, pq.Array(colls), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	var (
		it        = record.Item{Kind: record.KindRecord}
		coll, key sql.RawBytes
		at        sql.RawBytes
		hash      sql.NullInt64
		h         jsonbHasher
		whole     []*record.Item // found, but not with the value expected: read whole
	)
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&coll, &key, &it.Version, &at, &it.Deleted, &hash); err != nil {
				return err
			}
			// The key's own strings serve the row: no string is made per row.
			k := want.find(view(coll), view(key), true)
			if k == nil {
				continue
			}
			it.Collection, it.Key = k.Collection, k.Key
			switch {
			case it.Deleted:
				it.Value = nil
			case h.holds(hash, k.Value):
				it.Value = k.Value
			default:
				reread.Add(1)
				whole = append(whole, k)
				continue
			}
			var err error
			if it.UpdatedAt, err = pgTimeIs(at, k.UpdatedAt); err != nil {
				return fmt.Errorf("record %q/%q: updated_at: %w", it.Collection, it.Key, err)
			}
			if err := fn(&it); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	probe := append(whole, want.cutShort(limits)...)
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

func (t *writeTx) readBackEvents(ctx context.Context, want *keySet[int64], fn func(*record.Item) error) error {
	streams, los, his, limits := want.bounds()
	rows, err := t.tx.QueryContext(ctx, `SELECT e.* FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(s, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+hashedEventCols+` FROM persist_events
			WHERE store = $1 AND stream = u.s AND seq >= u.lo AND seq <= u.hi ORDER BY seq LIMIT u.n) e`,
		t.store, pq.Array(streams), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	var (
		it     = record.Item{Kind: record.KindEvent}
		stream sql.RawBytes
		at     sql.RawBytes
		hash   sql.NullInt64
		h      jsonbHasher
		whole  []*record.Item
	)
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&stream, &it.Seq, &it.Type, &at, &hash); err != nil {
				return err
			}
			k := want.find(view(stream), it.Seq, true)
			if k == nil {
				continue
			}
			it.Stream = k.Stream
			if !h.holds(hash, k.Data) {
				reread.Add(1)
				whole = append(whole, k)
				continue
			}
			it.Data = k.Data
			var err error
			if it.At, err = pgTimeIs(at, k.At); err != nil {
				return fmt.Errorf("event %q/%d: at: %w", it.Stream, it.Seq, err)
			}
			if err := fn(&it); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	probe := append(whole, want.cutShort(limits)...)
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

// reread counts the rows read back whole because their hash was not that of
// the value expected; tests hold it at zero where the store holds exactly
// what was written.
var reread atomic.Int64

// holds reports whether a row's value hash is that of the expected value v.
func (h *jsonbHasher) holds(hash sql.NullInt64, v []byte) bool {
	if !hash.Valid || v == nil {
		return false
	}
	x, ok := h.sum(v)
	return ok && x == uint64(hash.Int64)
}
