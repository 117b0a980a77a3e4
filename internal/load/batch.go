package load

import (
	"github.com/cuitty/persist/internal/record"
)

// outcome is what the loader decided for one line.
type outcome uint8

const (
	outNone outcome = iota
	outWritten
	outUnchanged
	outStale
	outConflict
	outEventWritten
	outEventUnchanged
	outRemoved
)

// entry is one accepted input line of a batch.
type entry struct {
	line   int64
	raw    [2]int // span of the raw line in batch.raw, for the rejects
	it     *record.Item
	out    outcome
	reason string // why a conflict is one
	target key    // what the line decided about (an appended event's assigned seq)
}

// batch is a run of consecutive input lines written in one transaction.
// Raw lines share one buffer so that a batch costs few allocations.
type batch struct {
	ents []*entry
	bad  []badLine // lines set aside for the rejects
	raw  []byte
	// The entries, their items and the items' values live in memory the
	// batch keeps for the next one read into it: a copy on the heap for
	// each line was most of what a load allocated, and of its collector's
	// work.
	slab  []entry
	items []record.Item
	vals  []byte
	// unordered: the entries' keys are not strictly increasing in dump
	// order, or one is an event to append (its key is not known yet). A
	// batch in order, as a dump's are, names each key once and spans the
	// keys from its first entry's to its last's, which spares the maps
	// that would otherwise find keys that repeat or overlap.
	unordered bool

	// What reading the batch counted, for the load's Stats: lines read, and
	// the line that stopped a load without a rejects writer.
	lines, stopped int64
}

// badLine is a line the target cannot take.
type badLine struct {
	line  int64
	raw   [2]int
	cause error
}

func (b *batch) reset() {
	// Cleared, so that what the last batch pointed to (a huge value) is
	// not kept alive; a huge buffer is let go rather than kept.
	clear(b.ents)
	clear(b.bad)
	clear(b.slab)
	clear(b.items)
	b.ents, b.bad, b.raw = b.ents[:0], b.bad[:0], b.raw[:0]
	b.unordered, b.lines, b.stopped = false, 0, 0
	b.slab, b.items, b.vals = b.slab[:0], b.items[:0], b.vals[:0]
	if cap(b.vals) > keepVals {
		b.vals = nil
	}
}

// reserve makes room for n entries at once, rather than in steps.
func (b *batch) reserve(n int) {
	if cap(b.slab) < n {
		b.slab = make([]entry, 0, n)
	}
	if cap(b.items) < n {
		b.items = make([]record.Item, 0, n)
	}
}

// keepVals is the most value bytes a batch keeps room for between batches:
// a batch of the default size holds about 2 MiB of a dump's values, and a
// load has up to three batches alive.
const keepVals = 4 << 20

// keep copies it into the batch's memory. Memory that is full is replaced
// by a larger one, not grown: what was handed out stays in the one before,
// which lives as long as it is pointed to, and nothing is copied twice. A
// detached value is the batch's already: it is kept where it lies.
func (b *batch) keep(it *record.Item, detached bool) *record.Item {
	if len(b.items) == cap(b.items) {
		b.items = make([]record.Item, 0, max(2*cap(b.items), 256))
	}
	b.items = append(b.items, *it)
	c := &b.items[len(b.items)-1]
	if !detached {
		c.Value, c.Data = b.keepBytes(it.Value), b.keepBytes(it.Data)
	}
	return c
}

func (b *batch) keepBytes(v []byte) []byte {
	switch {
	case v == nil:
		return nil
	case len(v) >= hugeLine:
		return append([]byte(nil), v...) // let go with its batch
	case len(b.vals)+len(v) > cap(b.vals):
		b.vals = make([]byte, 0, max(2*cap(b.vals), len(v), 64<<10))
	}
	start := len(b.vals)
	b.vals = append(b.vals, v...)
	return b.vals[start:len(b.vals):len(b.vals)]
}

func (b *batch) newEntry() *entry {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]entry, 0, max(2*cap(b.slab), 256))
	}
	b.slab = append(b.slab, entry{})
	return &b.slab[len(b.slab)-1]
}

// keepRaw is the longest raw line a batch keeps a copy of, for the rejects.
// A longer one is not copied: were it rejected, its canonical form (the same
// data) is written instead.
const keepRaw = 1 << 20

// add appends a copy of a line's item to b (of its value unless detached);
// a nil raw is a line that was canonical.
func (b *batch) add(line int64, raw []byte, detached bool, it *record.Item) {
	if !b.unordered {
		n := len(b.ents)
		b.unordered = appends(it) || (n > 0 && record.Compare(b.ents[n-1].it, it) >= 0)
	}
	e := b.newEntry()
	e.line, e.it, e.raw = line, b.keep(it, detached), [2]int{-1, -1}
	if raw != nil && len(raw) <= keepRaw {
		start := len(b.raw)
		b.raw = append(b.raw, raw...)
		e.raw = [2]int{start, len(b.raw)}
	}
	b.ents = append(b.ents, e)
}

func (b *batch) rawOf(e *entry) []byte {
	if e.raw[0] < 0 {
		return record.AppendItem(nil, e.it)
	}
	return b.raw[e.raw[0]:e.raw[1]]
}

// first and last are the line numbers a batch spans, for messages.
func (b *batch) first() int64 {
	if len(b.bad) > 0 && (len(b.ents) == 0 || b.bad[0].line < b.ents[0].line) {
		return b.bad[0].line
	}
	return b.ents[0].line
}

func (b *batch) last() int64 {
	if len(b.bad) > 0 && (len(b.ents) == 0 || b.bad[len(b.bad)-1].line > b.ents[len(b.ents)-1].line) {
		return b.bad[len(b.bad)-1].line
	}
	return b.ents[len(b.ents)-1].line
}

// prefix is the batch's first n entries (sharing the raw buffer).
func (b *batch) prefix(n int) *batch {
	p := &batch{ents: b.ents[:n], raw: b.raw, unordered: b.unordered}
	for _, r := range b.bad {
		if r.line < b.ents[n].line {
			p.bad = append(p.bad, r)
		}
	}
	return p
}

// appends reports whether it is an event to append to its stream, whose
// seq the loader assigns.
func appends(it *record.Item) bool { return it.Kind == record.KindEvent && it.Seq == 0 }

// key names a record or an event, as a map key.
type key struct {
	event bool
	a, b  string // collection and key, or stream
	seq   int64
}

func keyOf(it *record.Item) key {
	if it.IsRecord() {
		return key{a: it.Collection, b: it.Key}
	}
	return key{event: true, a: it.Stream, seq: it.Seq}
}

// item is the remove line naming k, as Tx.Remove and Tx.ReadBack take it.
func (k key) item() *record.Item {
	if k.event {
		return &record.Item{Kind: record.KindRemove, Stream: k.a, Seq: k.seq}
	}
	return &record.Item{Kind: record.KindRemove, Collection: k.a, Key: k.b}
}

var jsonNull = []byte("null")

// normalize gives absent values their meaning, so that an item read from a
// stream and the same item read back from a store compare equal whichever
// way the adapter hands back a JSON null.
func normalize(it *record.Item) {
	switch it.Kind {
	case record.KindRecord:
		if it.Deleted {
			it.Value = nil
		} else if it.Value == nil {
			it.Value = jsonNull
		}
	case record.KindEvent:
		if it.Data == nil {
			it.Data = jsonNull
		}
	}
}
