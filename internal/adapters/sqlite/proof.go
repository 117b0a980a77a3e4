package sqlite

import (
	"context"
	"sync/atomic"

	"github.com/cuitty/persist/internal/adapters"
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
// ReadBack then reads nothing back: the statements' own counts say which
// rows a guarded write left as they were. Any other schema (an application's
// trigger, an index of its own, a file of an earlier schema version whose
// tables ALTER TABLE changed) is read back and compared row by row.

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
	provenReadBacks.Add(1)
	return true, nil
}

// provenReadBacks counts the transactions whose ReadBack took the proof;
// tests tell by it which way a write went.
var provenReadBacks atomic.Int64

// persistObjects is schemaOf for the objects on Persist's tables (and any
// table named like one): an index or trigger of another name on
// persist_records is among them, by its tbl_name.
func persistObjects(ctx context.Context, q querier) (map[string]string, error) {
	return objects(ctx, q, `tbl_name LIKE 'persist\_%' ESCAPE '\' OR name LIKE 'persist\_%' ESCAPE '\'`)
}

// unproven is what ReadBack must still read of items: all of them unless
// asMade holds; else the removes, and the puts other than what this
// transaction's statements wrote, exactly (sentLog): one a guarded
// statement left as the store had it, one another transaction wrote, one
// asked about as other than it was written. Of an address named twice,
// only the last naming is what the store must hold, as ReadBack reads.
func (t *tx) unproven(ctx context.Context, items []*record.Item) ([]*record.Item, error) {
	if len(t.sent.at) == 0 {
		return items, nil
	}
	if ok, err := t.asMade(ctx); err != nil || !ok {
		return items, err
	}
	last := make(map[address]int, len(items))
	for i, it := range items {
		if it.Kind != record.KindRemove {
			last[addressOf(it)] = i
		}
	}
	var rest []*record.Item
	for i, it := range items {
		if it.Kind != record.KindRemove {
			a := addressOf(it)
			if last[a] != i || t.sent.wrote(a, it) {
				continue
			}
		}
		rest = append(rest, it)
	}
	return rest, nil
}

// sentLog is what this transaction's statements wrote, row by row: each
// item as bound, its value copied (the caller's buffers may be reused), up
// to maxSent bytes in all; past them, or for a value of bigBind or more, an
// item is not noted, and ReadBack reads it back.
type sentLog struct {
	items []record.Item
	at    map[address]int
	buf   []byte
	size  int // what the log holds: the items' bytes, and sentCost each
}

// maxSent bounds a sentLog: a batch's items are a few MB; one transaction
// for a whole stream (--atomic, or with no ReadBack to empty it) reads
// back past it.
const maxSent = 16 << 20

// sentCost is what noting an item costs beyond its bytes: the Item, the
// map's entry.
const sentCost = 256

// note records that it was written as it is now; forget that it was not
// (a guarded statement left the row as it was).
func (l *sentLog) note(it *record.Item) {
	v := it.Value
	if !it.IsRecord() {
		v = it.Data
	}
	cost := it.Size() + sentCost
	if len(v) >= bigBind || l.size+cost > maxSent {
		l.forget(it)
		return
	}
	l.size += cost
	if l.at == nil {
		l.at = map[address]int{}
	}
	c := *it
	start := len(l.buf)
	l.buf = append(l.buf, v...)
	if v != nil {
		v = l.buf[start:len(l.buf):len(l.buf)]
	}
	if c.IsRecord() {
		c.Value = v
	} else {
		c.Data = v
	}
	l.at[addressOf(it)] = len(l.items)
	l.items = append(l.items, c)
}

func (l *sentLog) forget(it *record.Item) { delete(l.at, addressOf(it)) }

// wrote reports whether it, at a, is exactly what was last written there.
func (l *sentLog) wrote(a address, it *record.Item) bool {
	i, ok := l.at[a]
	return ok && adapters.Differs(it, &l.items[i]) == ""
}

// reset empties the log for the next batch; what was noted is read back.
func (l *sentLog) reset() {
	l.items = l.items[:0]
	clear(l.at)
	l.buf = l.buf[:0]
	l.size = 0
}
