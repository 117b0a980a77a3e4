package postgres

import (
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
	recs := map[string]map[string]bool{} // collection → keys
	evs := map[string]map[int64]bool{}   // stream → seqs
	for _, k := range keys {
		if k.IsRecord() {
			if recs[k.Collection] == nil {
				recs[k.Collection] = map[string]bool{}
			}
			recs[k.Collection][k.Key] = true
		} else {
			if evs[k.Stream] == nil {
				evs[k.Stream] = map[int64]bool{}
			}
			evs[k.Stream][k.Seq] = true
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

// rangeLimit is how many rows a range of n keys is read up to.
func rangeLimit(n int) int { return 2*n + 16 }

func (t *writeTx) readBackRecords(ctx context.Context, want map[string]map[string]bool, fn func(*record.Item) error) error {
	var colls, los, his []string
	var limits []int64
	for c, ks := range want {
		var lo, hi string
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
		colls, los, his = append(colls, c), append(los, lo), append(his, hi)
		limits = append(limits, int64(rangeLimit(len(ks))))
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(c, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+recordCols+` FROM persist_records
			WHERE store = $1 AND collection = u.c AND key >= u.lo AND key <= u.hi ORDER BY key LIMIT u.n) r`,
		t.store, pq.Array(colls), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	read := map[string]int{}
	err = eachRecord(rows, func(it *record.Item) error {
		read[it.Collection]++
		if !want[it.Collection][it.Key] {
			return nil
		}
		delete(want[it.Collection], it.Key)
		return fn(it)
	})
	if err != nil {
		return fmt.Errorf("read back records: %w", err)
	}
	var probe []*record.Item
	for i, c := range colls {
		if int64(read[c]) < limits[i] {
			continue // the whole range was read: what is missing is not there
		}
		for k := range want[c] {
			probe = append(probe, &record.Item{Kind: record.KindRecord, Collection: c, Key: k})
		}
	}
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}

func (t *writeTx) readBackEvents(ctx context.Context, want map[string]map[int64]bool, fn func(*record.Item) error) error {
	var streams []string
	var los, his, limits []int64
	for s, seqs := range want {
		var lo, hi int64
		first := true
		for q := range seqs {
			if first || q < lo {
				lo = q
			}
			if first || q > hi {
				hi = q
			}
			first = false
		}
		streams, los, his = append(streams, s), append(los, lo), append(his, hi)
		limits = append(limits, int64(rangeLimit(len(seqs))))
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT e.* FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(s, lo, hi, n)
		CROSS JOIN LATERAL (SELECT `+eventCols+` FROM persist_events
			WHERE store = $1 AND stream = u.s AND seq >= u.lo AND seq <= u.hi ORDER BY seq LIMIT u.n) e`,
		t.store, pq.Array(streams), pq.Array(los), pq.Array(his), pq.Array(limits))
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	read := map[string]int{}
	err = eachEvent(rows, func(it *record.Item) error {
		read[it.Stream]++
		if !want[it.Stream][it.Seq] {
			return nil
		}
		delete(want[it.Stream], it.Seq)
		return fn(it)
	})
	if err != nil {
		return fmt.Errorf("read back events: %w", err)
	}
	var probe []*record.Item
	for i, s := range streams {
		if int64(read[s]) < limits[i] {
			continue
		}
		for q := range want[s] {
			probe = append(probe, &record.Item{Kind: record.KindEvent, Stream: s, Seq: q})
		}
	}
	if len(probe) == 0 {
		return nil
	}
	return t.probe(ctx, probe, false, fn)
}
