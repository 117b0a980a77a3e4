package postgres

import (
	"cmp"
	"context"
	"fmt"

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
// probed one by one after all.
func (t *writeTx) readBack(ctx context.Context, keys []*record.Item, fn func(*record.Item) error) error {
	recs, evs := ranges[string]{}, ranges[int64]{}
	for _, k := range keys {
		if k.IsRecord() {
			recs.add(k.Collection, k.Key)
		} else {
			evs.add(k.Stream, k.Seq)
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

func (t *writeTx) readBackRecords(ctx context.Context, want ranges[string], fn func(*record.Item) error) error {
	colls, los, his, limits := want.bounds()
	rows, err := t.tx.QueryContext(ctx, `SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(c, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+recordCols+` FROM persist_records
			WHERE store = $1 AND collection = u.c AND key >= u.lo AND key <= u.hi ORDER BY key LIMIT u.n) r`,
		t.store, pq.Array(colls), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	read := map[string]int64{}
	err = eachRecord(rows, func(it *record.Item) error {
		read[it.Collection]++
		if !want.take(it.Collection, it.Key) {
			return nil
		}
		return fn(it)
	})
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	probe := want.cutShort(colls, limits, read, func(c, k string) *record.Item {
		return &record.Item{Kind: record.KindRecord, Collection: c, Key: k}
	})
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

func (t *writeTx) readBackEvents(ctx context.Context, want ranges[int64], fn func(*record.Item) error) error {
	streams, los, his, limits := want.bounds()
	rows, err := t.tx.QueryContext(ctx, `SELECT e.* FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(s, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+eventCols+` FROM persist_events
			WHERE store = $1 AND stream = u.s AND seq >= u.lo AND seq <= u.hi ORDER BY seq LIMIT u.n) e`,
		t.store, pq.Array(streams), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	read := map[string]int64{}
	err = eachEvent(rows, func(it *record.Item) error {
		read[it.Stream]++
		if !want.take(it.Stream, it.Seq) {
			return nil
		}
		return fn(it)
	})
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	probe := want.cutShort(streams, limits, read, func(s string, q int64) *record.Item {
		return &record.Item{Kind: record.KindEvent, Stream: s, Seq: q}
	})
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

// ranges is one kind's keys by collection (records) or stream (events).
type ranges[K cmp.Ordered] map[string]map[K]bool

func (r ranges[K]) add(name string, k K) {
	if r[name] == nil {
		r[name] = map[K]bool{}
	}
	r[name][k] = true
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

// take reports whether k of name is wanted, and forgets it: what remains
// after a read was not found.
func (r ranges[K]) take(name string, k K) bool {
	if !r[name][k] {
		return false
	}
	delete(r[name], k)
	return true
}

// cutShort lists the keys not found in the ranges whose read reached its
// limit: they may lie beyond it. A range read whole lacks what is missing.
func (r ranges[K]) cutShort(names []string, limits []int64, read map[string]int64, item func(string, K) *record.Item) []*record.Item {
	var out []*record.Item
	for i, name := range names {
		if read[name] < limits[i] {
			continue
		}
		for k := range r[name] {
			out = append(out, item(name, k))
		}
	}
	return out
}
