package sqlite

import (
	"context"
	"sync/atomic"

	"github.com/cuitty/persist/internal/record"
)

// A write transaction holds the database's write lock from its first
// statement (_txlock=immediate) to its end: no other connection writes a
// row or changes the schema meanwhile. What can then make a row differ from
// what Persist's statement bound is the schema itself: a trigger (and what
// it writes in turn), a column's type affinity, default, CHECK or
// collation, a generated column, a UNIQUE index whose conflict an upsert
// resolves, or a table that is not what it seems (a view, a virtual
// table). SQLite builds all of that from the SQL text in sqlite_master, so
// where every object of Persist's tables is this release's text, word for
// word, and nothing else is on them, the rows are stored as bound: Persist's
// own triggers stand aside for its writes (quiet = 1, the transaction's
// counter on every row), which the tests hold them to.
//
// ReadBack then reads back nothing that this transaction's Put wrote, as
// long as it is asked about those very items: the statements' own counts
// say which rows a guarded write left as they were. The items stay as they
// were between Put and ReadBack (the adapter contract); keeping a copy of
// each to compare cost more than the read-back it saves. Any other schema
// (an application's trigger, an index of its own, a file of an earlier
// schema version whose tables ALTER TABLE changed) is read back and
// compared row by row.

// asMade reports whether the connection runs no trigger at all
// (setTriggers turned them off: none but Persist's own) and every object on
// Persist's tables (persist_*) is as this release makes it, all of this
// release's there. It is read once per transaction; the write lock keeps
// it true to the end.
func (t *tx) asMade(ctx context.Context) (bool, error) {
	if t.proof != 0 {
		return t.proof > 0, nil
	}
	if !t.triggersOff {
		// Some trigger may run (setTriggers found one not Persist's).
		t.proof = -1
		return false, nil
	}
	ours, err := ownSchema()
	if err != nil {
		return false, err
	}
	theirs, err := persistObjects(ctx, t.tx)
	if err != nil {
		return false, err
	}
	t.proof = -1
	if len(theirs) != len(ours) {
		return false, nil
	}
	for name, def := range ours {
		if theirs[name] != def {
			return false, nil
		}
	}
	t.proof = 1
	return true, nil
}

// provenReadBacks counts the ReadBacks that took the proof; tests tell by
// it which way a write went.
var provenReadBacks atomic.Int64

// persistObjects is schemaOf for the objects on Persist's tables (and any
// table named like one): an index or trigger of another name on
// persist_records is among them, by its tbl_name.
func persistObjects(ctx context.Context, q querier) (map[string]string, error) {
	return objects(ctx, q, `tbl_name LIKE 'persist\_%' ESCAPE '\' OR name LIKE 'persist\_%' ESCAPE '\'`)
}

// unproven is what ReadBack must still read of items: all of them, unless
// asMade holds and the puts among items are, in order, the very items this
// transaction's Put wrote (the contract's "those this transaction's Put
// wrote", unchanged since) with nothing removed since; then only the
// removes, and the puts a guarded statement left as the store had them.
func (t *tx) unproven(ctx context.Context, items []*record.Item) ([]*record.Item, error) {
	if t.unprovable || len(t.wrote) == 0 || !t.sameAsWritten(items) {
		return items, nil
	}
	if ok, err := t.asMade(ctx); err != nil || !ok {
		return items, err
	}
	provenReadBacks.Add(1)
	var rest []*record.Item
	for _, it := range items {
		if it.Kind == record.KindRemove || t.unwritten[addressOf(it)] {
			rest = append(rest, it)
		}
	}
	return rest, nil
}

// sameAsWritten reports whether the puts among items are t.wrote, pointer
// for pointer.
func (t *tx) sameAsWritten(items []*record.Item) bool {
	j := 0
	for _, it := range items {
		if it.Kind == record.KindRemove {
			continue
		}
		if j == len(t.wrote) || t.wrote[j] != it {
			return false
		}
		j++
	}
	return j == len(t.wrote)
}
