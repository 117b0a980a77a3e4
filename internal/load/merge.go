package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
// they meant to write for these keys (a concurrent newer write won).
type mismatchError struct {
	keys map[key]bool
	line int64 // the first line concerned, for the message
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("%d items did not read back as written (first at line %d): %v", len(e.keys), e.line, ErrVerify)
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
// written and verifies it. Entries are decided in order, each against the
// result of the earlier ones, so a key twice in a batch merges as in the
// stream. Outcomes land in the entries; nothing else changes, so a failed
// attempt can simply be run again.
//
// In Fresh mode the store is taken to hold none of the batch's keys: nothing
// is looked up, and Put fails with adapters.ErrExists if one is there. found
// is how many of the keys the store held (0 in Fresh mode). ordered says
// that the keys of ents are strictly increasing (see batch.unordered): no
// entry is then decided against an earlier one.
func (l *loader) merge(ctx context.Context, tx adapters.Tx, ents []*entry, ordered bool, mode adapters.PutMode) (found int, err error) {
	now := l.nowString()
	fresh := mode == adapters.Fresh

	// What the store holds for the batch's keys, and where appended events go.
	var keys []*record.Item
	var seen map[key]bool
	if !fresh && !ordered {
		seen = make(map[key]bool, len(ents))
	}
	var streams []string
	appendTo := map[string]bool{}
	for _, e := range ents {
		if e.it.Kind == record.KindEvent && e.it.Seq == 0 {
			if !appendTo[e.it.Stream] {
				appendTo[e.it.Stream] = true
				streams = append(streams, e.it.Stream)
			}
			continue
		}
		if fresh {
			continue // nothing to look up
		}
		if !ordered {
			k := keyOf(e.it)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		// The item itself is the key: where the store already holds its
		// value (a rerun), the adapter need not parse the store's.
		keys = append(keys, e.it)
	}
	state := make(map[key]*record.Item, len(keys))
	if len(keys) > 0 && !fresh {
		err := tx.Lookup(ctx, keys, true, func(it *record.Item) error {
			c := it.Clone()
			normalize(c)
			state[keyOf(c)] = c
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("looking up: %w", err)
		}
		found = len(state)
	}
	var next map[string]int64 // highest seq so far, per stream appended to
	if len(streams) > 0 {
		m, err := tx.MaxSeq(ctx, streams)
		if err != nil {
			return found, fmt.Errorf("reading last seqs: %w", err)
		}
		next = make(map[string]int64, len(streams))
		for _, s := range streams {
			next[s] = m[s]
		}
	}

	// Decide, in stream order.
	var slot map[key]int // where a key's item is in puts
	if !ordered {
		slot = make(map[key]int, len(ents))
	}
	puts := make([]*record.Item, 0, len(ents))
	for i, e := range ents {
		var c *record.Item
		var k key
		switch e.it.Kind {
		case record.KindRecord:
			k = keyOf(e.it)
			e.out, c, e.reason = l.decideRecord(e.it, state[k], now)
		case record.KindEvent:
			e.out, c, e.reason = l.decideEvent(e.it, state, next, now)
			k = keyOf(e.it)
			if c != nil {
				k = keyOf(c)
			}
		default:
			return found, fmt.Errorf("line %d: a %s line outside a patch stream", e.line, e.it.Kind)
		}
		e.target = k
		if e.out == outConflict && fresh {
			return found, errNotFresh
		}
		if e.out == outConflict && l.opt.Rejects == nil {
			return found, &stopError{idx: i, err: fmt.Errorf("%w: line %d: %w: %s", ErrRejected, e.line, ErrConflict, e.reason)}
		}
		if c == nil {
			continue
		}
		if ordered {
			puts = append(puts, c)
			continue
		}
		state[k] = c
		if j, ok := slot[k]; ok {
			puts[j] = c
		} else {
			slot[k] = len(puts)
			puts = append(puts, c)
		}
	}
	if len(puts) == 0 {
		return found, nil
	}
	if beforePut != nil {
		beforePut(puts)
	}
	if err := tx.Put(ctx, puts, mode); err != nil {
		return found, fmt.Errorf("writing: %w", err)
	}
	if l.opt.NoVerify {
		return found, nil
	}
	return found, l.verify(ctx, tx, ents, puts, nil)
}

// decideRecord merges one record line with what the store (or an earlier
// line of the batch) holds. It returns the complete item to write, if any.
func (l *loader) decideRecord(in, cur *record.Item, now string) (outcome, *record.Item, string) {
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

// decideEvent merges one event line. next tracks, per stream appended to,
// the highest seq so far, so hand-made events append after the store's last
// event and after the batch's earlier ones.
func (l *loader) decideEvent(in *record.Item, state map[key]*record.Item, next map[string]int64, now string) (outcome, *record.Item, string) {
	c := *in
	normalize(&c)
	if c.At == "" {
		c.At = now
	}
	if in.Seq == 0 {
		c.Seq = next[c.Stream] + 1
		next[c.Stream] = c.Seq
		return outEventWritten, put(in, c), ""
	}
	if n, ok := next[c.Stream]; ok && c.Seq > n {
		next[c.Stream] = c.Seq
	}
	cur := state[keyOf(&c)]
	if cur == nil {
		return outEventWritten, put(in, c), ""
	}
	same := cur.Type == c.Type && bytes.Equal(cur.Data, c.Data)
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
