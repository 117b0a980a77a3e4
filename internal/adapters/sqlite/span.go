package sqlite

import (
	"context"
	"database/sql"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/record"
)

// A batch in dump order names runs of keys of one collection (or seqs of
// one stream) that lie close together in the primary key. Reading such a
// run back as one range of the primary key walks the b-tree once, where a
// join with the keys as a VALUES list binds two parameters and probes the
// b-tree from its root for each key: on the 1M-record bench load the probes
// were 30% of the loader's CPU, as much as the inserts.

// spanMin is the fewest keys of one name read back as a range; fewer are
// probed with the others (a query per name would cost more than they save).
const spanMin = 16

// Range queries of one name's keys from lo to hi, in key order, at most
// limit rows. The limit keeps a run of keys spread thinly among many other
// rows from reading all of those: a range cut short by it leaves the keys
// it did not reach to be probed.
var (
	spanRecords = `SELECT collection, key, version, updated_at, deleted, value FROM persist_records
		WHERE store = ? AND collection = ? AND key >= ? AND key <= ? ORDER BY key LIMIT ?`
	spanEvents = `SELECT stream, seq, type, at, data FROM persist_events
		WHERE store = ? AND stream = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`
)

// spanLimit is how many rows a range of n keys may read: twice as many,
// and a margin.
func spanLimit(n int) int { return 2*n + 16 }

// lookupSorted is lookup for keys sorted by record.Compare, each named once:
// runs of spanMin or more keys of one name are read as ranges, the rest
// probed. fn gets each row found, with its key's index in keys.
func (t *tx) lookupSorted(ctx context.Context, keys []*record.Item, fn func(got *record.Item, i int) error) error {
	var probe []int
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && sameName(keys[i], keys[j]) {
			j++
		}
		if j-i < spanMin {
			for k := i; k < j; k++ {
				probe = append(probe, k)
			}
			i = j
			continue
		}
		left, err := t.span(ctx, keys, i, j, fn)
		if err != nil {
			return err
		}
		probe = append(probe, left...)
		i = j
	}
	if len(probe) == 0 {
		return nil
	}
	sub := make([]*record.Item, len(probe))
	for n, k := range probe {
		sub[n] = keys[k]
	}
	return t.lookup(ctx, sub, func(got *record.Item, n int) error { return fn(got, probe[n]) })
}

// span reads the rows of keys[i:j], one name's, as one range and calls fn
// with those that are keys of the run. When the limit cut the range short,
// it returns the keys it did not find, to be probed.
func (t *tx) span(ctx context.Context, keys []*record.Item, i, j int, fn func(got *record.Item, i int) error) ([]int, error) {
	lo, hi := keys[i], keys[j-1]
	kind, q, args := record.KindRecord, spanRecords, []any{t.store, lo.Collection, lo.Key, hi.Key, int64(spanLimit(j - i))}
	if !lo.IsRecord() {
		kind, q, args = record.KindEvent, spanEvents, []any{t.store, lo.Stream, lo.Seq, hi.Seq, int64(spanLimit(j - i))}
	}
	found := make([]bool, j-i)
	rows, next := 0, i
	match := func(got *record.Item) error {
		rows++
		// Both sides are in key order: walk the keys in step with the rows.
		for next < j && record.Compare(keys[next], got) < 0 {
			next++
		}
		if next == j || record.Compare(keys[next], got) != 0 {
			return nil // a row between the keys, not asked for
		}
		found[next-i] = true
		next++
		return fn(got, next-1)
	}
	if err := t.readSpan(ctx, q, args, kind, match); err != nil {
		return nil, err // ReadBack names the step
	}
	if rows < spanLimit(j-i) {
		return nil, nil // the whole range was read: what it lacks is missing
	}
	var left []int
	for k, ok := range found {
		if !ok {
			left = append(left, i+k)
		}
	}
	return left, nil
}

// readSpan runs a range query of span and calls fn with each row as
// stored. It steps SQLite in C (cRows) on the transaction's connection, as
// a snapshot's scan does: through database/sql, each row took a call into
// C per column and a string per text, most of what reading back a load's
// batches cost besides SQLite's own work. A range query is prepared each
// time: a load runs one per run of keys, a few per batch.
func (t *tx) readSpan(ctx context.Context, q string, args []any, kind record.Kind, fn func(*record.Item) error) error {
	handled, err := withHandle(t.conn, func(c *sqlite3.SQLiteConn) error {
		return rawRows(ctx, c, q, args, t.store, kind, asStored, false, plain(fn))
	})
	if handled || err != nil {
		return err
	}
	st, err := t.cachedStmt(ctx, q)
	if err != nil {
		return err
	}
	var it record.Item
	return scanItems(ctx, prepared{st}, q, args, t.store, kind, &it, asStored, plain(fn))
}

// cachedStmt prepares a query once per transaction (the read-back's ranges
// and full lookup chunks run the same few queries many times).
func (t *tx) cachedStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := t.fullLookup[q]; st != nil {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if t.fullLookup == nil {
		t.fullLookup = map[string]*sql.Stmt{}
	}
	t.fullLookup[q] = st
	return st, nil
}

// sameName reports whether two keys are of one collection, or one stream.
func sameName(a, b *record.Item) bool {
	if a.IsRecord() != b.IsRecord() {
		return false
	}
	if a.IsRecord() {
		return a.Collection == b.Collection
	}
	return a.Stream == b.Stream
}
