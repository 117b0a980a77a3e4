package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// stopError: a conflict at ents[idx] and no rejects writer; nothing of the
// attempt was written.
type stopError struct {
	idx int
	err error
}

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// mismatchError: what the store holds after the writes differs from what
// they meant to write for these keys (a concurrent write won, or something
// on the way changed what was sent).
type mismatchError struct {
	keys    map[key]bool
	line    int64  // the first line concerned, for the message
	problem string // what is wrong with it
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("%d items did not read back as written (first at line %d: %s): %v",
		len(e.keys), e.line, e.problem, ErrVerify)
}
func (e *mismatchError) Unwrap() error { return ErrVerify }

// beforePut, when set (by tests only), runs between the decisions and the
// writes of a merge: the window in which a concurrent write can win.
var beforePut func(puts []*record.Item)

// errNotFresh: a Fresh attempt met a line only the store's content can
// decide (a conflict with an earlier line of the batch, which against the
// store might be stale instead).
var errNotFresh = errors.New("batch needs the store's content")

// merge decides each of ents against what tx holds, writes what is to be
// written and verifies it, in four steps: look up, decide, write, verify.
// Outcomes land in the entries; nothing else changes, so a failed attempt
// can simply be run again.
//
// In Fresh mode the store is taken to hold none of the batch's keys: nothing
// is looked up, and Put fails with adapters.ErrExists if one is there. found
// is how many of the keys the store held (0 in Fresh mode). ordered says
// that the keys of ents are strictly increasing (see batch.unordered): no
// entry is then decided against an earlier one.
func (l *loader) merge(ctx context.Context, tx adapters.Tx, ents []*entry, ordered bool, mode adapters.PutMode) (found int, err error) {
	fresh := mode == adapters.Fresh
	v, err := lookUp(ctx, tx, ents, ordered, fresh)
	if err != nil {
		return 0, err
	}
	d := decider{now: l.nowString(), ordered: ordered, fresh: fresh, stopAtConflict: l.opt.Rejects == nil}
	puts, err := d.decide(ents, v)
	if err != nil {
		return v.found, err
	}
	if len(puts) == 0 {
		// The batch wrote nothing of its own, but its transaction wrote
		// persist_stores (Begin), where code of another's may run.
		return v.found, l.checkCode(ctx, tx)
	}
	if beforePut != nil {
		beforePut(puts)
	}
	if err := tx.Put(ctx, puts, mode); err != nil {
		return v.found, fmt.Errorf("writing: %w", err)
	}
	if l.opt.NoVerify {
		return v.found, nil
	}
	if err := l.checkCode(ctx, tx); err != nil {
		return v.found, err
	}
	return v.found, verify(ctx, tx, ents, puts, nil)
}

// storeView is what the store holds that a batch is decided against.
type storeView struct {
	held  map[key]*record.Item // the records and events the store holds, by key
	found int                  // how many keys the store held
	// next is, per stream the batch appends to, the highest seq so far.
	next map[string]int64
}

// lookUp reads, and locks, what tx holds for the keys of ents, and the last
// seq of each stream ents append to. In Fresh mode no key is looked up.
func lookUp(ctx context.Context, tx adapters.Tx, ents []*entry, ordered, fresh bool) (*storeView, error) {
	var keys []*record.Item
	var seen map[key]bool
	if !fresh && !ordered {
		seen = make(map[key]bool, len(ents))
	}
	var streams []string
	appendTo := map[string]bool{}
	for _, e := range ents {
		switch {
		case appends(e.it):
			if !appendTo[e.it.Stream] {
				appendTo[e.it.Stream] = true
				streams = append(streams, e.it.Stream)
			}
		case fresh:
		case seen == nil:
			keys = append(keys, e.it)
		case !seen[keyOf(e.it)]:
			seen[keyOf(e.it)] = true
			// The item itself is the key: where the store already
			// holds its value (a rerun), the adapter need not parse
			// the store's.
			keys = append(keys, e.it)
		}
	}
	v := &storeView{held: make(map[key]*record.Item, len(keys))}
	if len(keys) > 0 {
		err := tx.Lock(ctx, keys, func(it *record.Item) error {
			c := it.Clone()
			normalize(c)
			v.held[keyOf(c)] = c
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("looking up: %w", err)
		}
		v.found = len(v.held)
	}
	if len(streams) > 0 {
		m, err := tx.MaxSeq(ctx, streams)
		if err != nil {
			return nil, fmt.Errorf("reading last seqs: %w", err)
		}
		v.next = make(map[string]int64, len(streams))
		for _, s := range streams {
			v.next[s] = m[s]
		}
	}
	return v, nil
}

// decider decides a batch's lines against a storeView, touching no
// database.
type decider struct {
	now            string // the time of lines without one
	ordered        bool   // keys strictly increasing: no line decided against an earlier one
	fresh          bool   // a Fresh attempt: a conflict calls for the full way (errNotFresh)
	stopAtConflict bool   // no rejects writer: a conflict stops the batch (stopError)
}

// decide decides ents in stream order, each against v as the earlier ones
// left it, so a key twice in a batch merges as in the stream. It sets each
// entry's outcome and target and returns the items to write, one per key.
func (d decider) decide(ents []*entry, v *storeView) ([]*record.Item, error) {
	var slot map[key]int // where a key's item is in puts
	if !d.ordered {
		slot = make(map[key]int, len(ents))
	}
	puts := make([]*record.Item, 0, len(ents))
	for i, e := range ents {
		c, err := d.decideOne(e, v)
		switch {
		case err != nil:
			return nil, err
		case e.out == outConflict && d.fresh:
			return nil, errNotFresh
		case e.out == outConflict && d.stopAtConflict:
			return nil, &stopError{idx: i, err: fmt.Errorf("%w: line %d: %w: %s", ErrRejected, e.line, ErrConflict, e.reason)}
		case c == nil:
		case d.ordered:
			puts = append(puts, c)
		default:
			v.held[e.target] = c
			if j, ok := slot[e.target]; ok {
				puts[j] = c
			} else {
				slot[e.target] = len(puts)
				puts = append(puts, c)
			}
		}
	}
	return puts, nil
}

// decideOne decides one line, setting its outcome and target, and returns
// the item to write, if any.
func (d decider) decideOne(e *entry, v *storeView) (*record.Item, error) {
	var c *record.Item
	switch e.it.Kind {
	case record.KindRecord:
		e.target = keyOf(e.it)
		e.out, c, e.reason = decideRecord(e.it, v.held[e.target], d.now)
	case record.KindEvent:
		e.out, c, e.reason = decideEvent(e.it, v, d.now)
		e.target = keyOf(e.it)
		if c != nil {
			e.target = keyOf(c)
		}
	default:
		return nil, fmt.Errorf("line %d: a %s line outside a patch stream", e.line, e.it.Kind)
	}
	return c, nil
}

// decideRecord merges one record line with what the store (or an earlier
// line of the batch) holds. It returns the complete item to write, if any.
func decideRecord(in, cur *record.Item, now string) (outcome, *record.Item, string) {
	c := *in
	normalize(&c)
	if c.UpdatedAt == "" {
		c.UpdatedAt = now
	}
	if in.Version == 0 {
		// A hand-made write: a new version unless it changes nothing, so
		// that loading the same hand-made file twice is a no-op.
		if cur != nil && sameRecordContent(cur, &c) {
			return outUnchanged, nil, ""
		}
		c.Version = 1
		if cur != nil && cur.Version == math.MaxInt64 {
			return outConflict, nil, fmt.Sprintf("the store holds version %d of %s/%s, the largest possible: a write without a version cannot follow it",
				cur.Version, quote(cur.Collection), quote(cur.Key))
		}
		if cur != nil {
			c.Version = cur.Version + 1
		}
		return outWritten, put(in, c), ""
	}
	switch {
	case cur == nil || cur.Version < c.Version:
		return outWritten, put(in, c), ""
	case cur.Version > c.Version:
		return outStale, nil, ""
	}
	// Equal versions. A line without updated_at cannot disagree on it.
	same := sameRecordContent(cur, &c)
	if same && in.UpdatedAt != "" {
		same = cur.UpdatedAt == c.UpdatedAt
	}
	if same {
		return outUnchanged, nil, ""
	}
	return outConflict, nil, fmt.Sprintf("the store holds version %d of %s/%s with other content", cur.Version, quote(cur.Collection), quote(cur.Key))
}

// decideEvent merges one event line. v.next tracks, per stream appended
// to, the highest seq so far, so hand-made events append after the store's
// last event and after the batch's earlier ones.
func decideEvent(in *record.Item, v *storeView, now string) (outcome, *record.Item, string) {
	c := *in
	normalize(&c)
	if c.At == "" {
		c.At = now
	}
	if in.Seq == 0 {
		if v.next[c.Stream] == math.MaxInt64 {
			return outConflict, nil, fmt.Sprintf("stream %s's last seq is %d, the largest possible: an event without a seq cannot follow it",
				quote(c.Stream), int64(math.MaxInt64))
		}
		c.Seq = v.next[c.Stream] + 1
		v.next[c.Stream] = c.Seq
		return outEventWritten, put(in, c), ""
	}
	if n, ok := v.next[c.Stream]; ok && c.Seq > n {
		v.next[c.Stream] = c.Seq
	}
	cur := v.held[keyOf(&c)]
	if cur == nil {
		return outEventWritten, put(in, c), ""
	}
	same := sameEventContent(cur, &c)
	if same && in.At != "" {
		same = cur.At == c.At
	}
	if same {
		return outEventUnchanged, nil, ""
	}
	return outConflict, nil, fmt.Sprintf("the store holds event %s/%d with other content", quote(cur.Stream), cur.Seq)
}

// put is what a decision writes: the line's own item when nothing had to
// be filled in (a dump's lines are complete), else the completed copy c.
// The line's item is not changed after, so both may share it.
func put(in *record.Item, c record.Item) *record.Item {
	if c.Version == in.Version && c.Seq == in.Seq && c.UpdatedAt == in.UpdatedAt && c.At == in.At &&
		(c.Value == nil) == (in.Value == nil) && (c.Data == nil) == (in.Data == nil) {
		return in
	}
	p := new(record.Item)
	*p = c
	return p
}

func sameRecordContent(a, b *record.Item) bool {
	return a.Deleted == b.Deleted && bytes.Equal(a.Value, b.Value)
}

func sameEventContent(a, b *record.Item) bool {
	return a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

// quote shows a name in a message unambiguously but without the escaping
// clutter of %q for ordinary names.
func quote(s string) string {
	for _, r := range s {
		if r < 0x20 || r == '/' || r == '"' || r == 0x7f {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
