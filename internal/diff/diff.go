// Package diff compares two stores or dumps by merging them in dump order,
// and writes what differs as text for people, as JSON lines, as counts, or as
// a patch stream that turns B into A.
//
// Memory does not grow with the stores: the merge holds the current item of
// each side and, for a changed item, the pair being described.
package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/spool"
)

// Iterator yields items in dump order and io.EOF at the end. The item
// returned may be reused by the next call.
type Iterator interface {
	Next() (*record.Item, error)
}

// Lazy is an Iterator that may hand on an item's value unchecked, as its
// store holds it, when the other side is expected to hold the same bytes
// and to have checked them (a store's half of the work, see
// adapters.Snapshot.ScanShared). Unchecked tells such an item; Settle
// checks its value, making it canonical or returning what is wrong with it.
// Diff settles every unchecked value it does not find byte for byte equal
// to a checked one, so its answer is what a full check would give.
type Lazy interface {
	Iterator
	Unchecked() bool
	Settle() error
}

// Format selects what Diff writes.
type Format int

const (
	Human   Format = iota // like diff -u: one block per difference
	JSONL                 // one JSON object per difference
	Summary               // one line of counts
	Patch                 // a patch stream that, loaded into B, makes it equal to A
)

func (f Format) String() string {
	switch f {
	case Human:
		return "human"
	case JSONL:
		return "jsonl"
	case Summary:
		return "summary"
	case Patch:
		return "patch"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrFormat is returned for a format name or value Diff does not know.
var ErrFormat = errors.New("unknown diff format")

// ParseFormat maps a --format name to a Format.
func ParseFormat(s string) (Format, error) {
	for f := Human; f <= Patch; f++ {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want human, jsonl, summary or patch)", ErrFormat, s)
}

// Options tune Diff.
type Options struct {
	Format Format
	Color  bool // ANSI colour in human output

	// NameA and NameB label the sides in the "---"/"+++" lines; the caller
	// has already hidden any password in them. Empty means "A" and "B".
	NameA, NameB string

	// TargetSum is B's persist1 sum for a patch header, when the caller
	// already knows it; when empty, Diff computes it while merging.
	TargetSum string

	// TempDir holds the spooled patch body when it outgrows memory;
	// empty means os.TempDir().
	TempDir string

	// Hold keeps what Diff writes until both sides have been read whole,
	// and writes nothing if either fails: a side whose order or trailer is
	// checked only as it is merged (a dump on a pipe) must not have put
	// differences on w that its error then takes back. It is held in
	// memory while small, then in a temporary file in TempDir.
	Hold bool

	// EachA, when not nil, is called with every item of A once its value
	// is known canonical: checked on A's side, or equal byte for byte to
	// B's checked one. A caller that sums A so does not check its values
	// a second time.
	EachA func(*record.Item) error
}

// Stats counts items by how they compare.
type Stats struct {
	OnlyA, OnlyB, Changed, Same int64
}

// Differ reports whether anything differs.
func (s Stats) Differ() bool { return s.OnlyA+s.OnlyB+s.Changed > 0 }

// sink receives the merge's verdicts in dump order. The items are valid
// only during the call.
type sink interface {
	onlyA(a *record.Item) error
	onlyB(b *record.Item) error
	changed(a, b *record.Item) error
	finish(st Stats, sumA, sumB record.Sum) error
}

// Diff merges a and b, both in dump order, and writes their differences to w
// in opt.Format. An item is the same on both sides when its canonical lines
// would be byte-identical; they are compared field by field, so that no
// line is built for it (a huge value is not copied once more).
//
// A side out of dump order, or naming one item twice, is an error (ErrOrder,
// ErrDuplicate): the merge would otherwise report nonsense.
func Diff(ctx context.Context, a, b Iterator, w io.Writer, opt Options) (Stats, error) {
	if opt.Hold {
		return held(ctx, a, b, w, opt)
	}
	return merge(ctx, a, b, w, opt)
}

// merge is Diff, writing as it goes.
func merge(ctx context.Context, a, b Iterator, w io.Writer, opt Options) (Stats, error) {
	var st Stats
	out, err := newSink(w, opt)
	if err != nil {
		return st, err
	}
	if c, ok := out.(io.Closer); ok {
		defer c.Close()
	}
	// A patch carries the sum B has after it (A's), so that a load can tell
	// a patch already applied from one made for another state.
	sa := side{it: a, name: "A", sum: opt.Format == Patch}
	sb := side{it: b, name: "B", sum: opt.Format == Patch && opt.TargetSum == ""}
	sa.lazy, _ = a.(Lazy)
	sb.lazy, _ = b.(Lazy)
	if err := sa.advance(); err != nil {
		return st, err
	}
	if err := sb.advance(); err != nil {
		return st, err
	}
	for n := 0; sa.cur != nil || sb.cur != nil; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return st, fmt.Errorf("diff: %w", err)
			}
		}
		c := 0
		switch {
		case sa.cur == nil:
			c = 1
		case sb.cur == nil:
			c = -1
		default:
			c = record.Compare(sa.cur, sb.cur)
		}
		switch {
		case c < 0:
			st.OnlyA++
			if err := sa.only(out.onlyA); err != nil {
				return st, err
			}
			if err := each(opt.EachA, sa.cur); err != nil {
				return st, err
			}
			err = sa.advance()
		case c > 0:
			st.OnlyB++
			if err := sb.only(out.onlyB); err != nil {
				return st, err
			}
			err = sb.advance()
		default:
			eq, merr := match(&sa, &sb)
			if merr == nil {
				merr = each(opt.EachA, sa.cur)
			}
			if merr != nil {
				return st, merr
			}
			if eq {
				st.Same++
			} else {
				st.Changed++
				if err := out.changed(sa.cur, sb.cur); err != nil {
					return st, err
				}
			}
			if err = sa.advance(); err == nil {
				err = sb.advance()
			}
		}
		if err != nil {
			return st, err
		}
	}
	if err := out.finish(st, sa.total, sb.total); err != nil {
		return st, err
	}
	return st, nil
}

// held is Diff with opt.Hold: into a spool, copied to w once all is read.
func held(ctx context.Context, a, b Iterator, w io.Writer, opt Options) (Stats, error) {
	sp := &spool.Spool{Dir: opt.TempDir, Pattern: "persist-diff-*"}
	defer sp.Close()
	st, err := merge(ctx, a, b, sp, opt)
	if err != nil {
		return st, err
	}
	if _, err := sp.WriteTo(w); err != nil {
		return st, err
	}
	return st, nil
}

// each calls fn, if any, with it, whose value match or only made known
// canonical.
func each(fn func(*record.Item) error, it *record.Item) error {
	if fn == nil {
		return nil
	}
	return fn(it)
}

func newSink(w io.Writer, opt Options) (sink, error) {
	switch opt.Format {
	case Human:
		return newHumanSink(w, opt), nil
	case JSONL:
		return newJSONLSink(w), nil
	case Summary:
		return &summarySink{w: w}, nil
	case Patch:
		dir := opt.TempDir
		if dir == "" {
			dir = os.TempDir()
		}
		return newPatchSink(w, opt.TargetSum, dir), nil
	}
	return nil, fmt.Errorf("%w: %v", ErrFormat, opt.Format)
}

// same reports whether two items with the same address have the same
// canonical line: whether every field the line holds is equal.
func same(a, b *record.Item) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == record.KindEvent {
		return a.Type == b.Type && a.At == b.At && sameJSON(a.Data, b.Data)
	}
	return a.Version == b.Version && a.UpdatedAt == b.UpdatedAt && a.Deleted == b.Deleted &&
		(a.Deleted || sameJSON(a.Value, b.Value))
}

// match reports whether the current items of a and b, at one address, are
// the same. Values equal byte for byte are the same whatever their
// spelling, and a checked one vouches for the other; any other value is
// checked (settled) before the items are compared again.
func match(a, b *side) (bool, error) {
	if a.unchecked() && b.unchecked() {
		if err := a.settle(); err != nil {
			return false, err
		}
	}
	if same(a.cur, b.cur) {
		return true, nil
	}
	if !a.unchecked() && !b.unchecked() {
		return false, nil
	}
	if err := a.settle(); err != nil {
		return false, err
	}
	if err := b.settle(); err != nil {
		return false, err
	}
	return same(a.cur, b.cur), nil
}

// sameJSON compares values as lines spell them: absent is null.
func sameJSON(a, b []byte) bool { return bytes.Equal(orNull(a), orNull(b)) }

// side is one input of the merge: its current item, B's sum when a patch
// needs it, and the order check.
type side struct {
	it    Iterator
	lazy  Lazy // it, when it may hand on values unchecked
	name  string
	cur   *record.Item
	buf   []byte
	order orderCheck
	sum   bool // add every item's digest to total (B's sum for a patch)
	total record.Sum
}

func (s *side) advance() error {
	it, err := s.it.Next()
	if err == io.EOF {
		s.cur = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	if err := s.order.check(it); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.cur = it
	if s.sum {
		// The sum is of canonical lines.
		if err := s.settle(); err != nil {
			return err
		}
		s.buf = s.total.AddItem(it, s.buf)
	}
	return nil
}

// only reports the current item, found on this side only, to emit.
func (s *side) only(emit func(*record.Item) error) error {
	if err := s.settle(); err != nil {
		return err
	}
	return emit(s.cur)
}

func (s *side) unchecked() bool { return s.lazy != nil && s.lazy.Unchecked() }

// settle checks the current item's value if it is not checked yet.
func (s *side) settle() error {
	if !s.unchecked() {
		return nil
	}
	if err := s.lazy.Settle(); err != nil {
		return fmt.Errorf("read %s: %w", s.name, err)
	}
	return nil
}
