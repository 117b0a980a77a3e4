package postgres

import (
	"cmp"
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
	recs, evs := ranges[string]{}, ranges[int64]{}
	for _, k := range keys {
		if k.IsRecord() {
			recs.add(k.Collection, k.Key, k)
		} else {
			evs.add(k.Stream, k.Seq, k)
		}
	}
	if len(recs) > 0 {
		if err := t.readBackRecords(ctx, recs, fn); err != nil {
			return err
		}
	}
	if len(evs) > 0 {
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

func (t *writeTx) readBackRecords(ctx context.Context, want ranges[string], fn func(*record.Item) error) error {
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
		read      counts
	)
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&coll, &key, &it.Version, &at, &it.Deleted, &hash); err != nil {
				return err
			}
			read.add(coll)
			// The key's own strings serve the row: no string is made per row.
			k := want[string(coll)][string(key)]
			if k == nil {
				continue
			}
			delete(want[k.Collection], k.Key)
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
	probe := append(whole, want.cutShort(colls, limits, read.done())...)
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

func (t *writeTx) readBackEvents(ctx context.Context, want ranges[int64], fn func(*record.Item) error) error {
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
		read   counts
	)
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&stream, &it.Seq, &it.Type, &at, &hash); err != nil {
				return err
			}
			read.add(stream)
			k := want[string(stream)][it.Seq]
			if k == nil {
				continue
			}
			delete(want[k.Stream], k.Seq)
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
	probe := append(whole, want.cutShort(streams, limits, read.done())...)
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

// counts counts the rows read per collection (or stream); a range's rows
// come together, so a name's string is made once per range, not per row.
type counts struct {
	m    map[string]int64
	name string
	n    int64
}

func (c *counts) add(name []byte) {
	if string(name) != c.name {
		c.done()
		c.name = string(name)
	}
	c.n++
}

func (c *counts) done() map[string]int64 {
	if c.m == nil {
		c.m = map[string]int64{}
	}
	if c.n > 0 {
		c.m[c.name] += c.n
		c.n = 0
	}
	return c.m
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

// ranges holds keys by collection (or stream), each with the item that
// named it, whose value (if any) is what the store is expected to hold.
type ranges[K cmp.Ordered] map[string]map[K]*record.Item

func (r ranges[K]) add(name string, k K, it *record.Item) {
	if r[name] == nil {
		r[name] = map[K]*record.Item{}
	}
	r[name][k] = it
}

// bounds gives each name with its lowest and highest key, and how many rows
// its range is read up to: twice its keys, plus a margin.
func (r ranges[K]) bounds() (names []string, los, his []K, limits []int64) {
	for name, ks := range r {
		var lo, hi K
		first := true
		for k := range ks {
			if first || k < lo {
				lo = k
			}
			if first || k > hi {
				hi = k
			}
			first = false
		}
		names, los, his = append(names, name), append(los, lo), append(his, hi)
		limits = append(limits, int64(2*len(ks)+16))
	}
	return names, los, his, limits
}

// cutShort lists the keys not found in the ranges whose read reached its
// limit: they may lie beyond it. A range read whole lacks what is missing.
func (r ranges[K]) cutShort(names []string, limits []int64, read map[string]int64) []*record.Item {
	var out []*record.Item
	for i, name := range names {
		if read[name] < limits[i] {
			continue
		}
		for _, it := range r[name] {
			out = append(out, it)
		}
	}
	return out
}
