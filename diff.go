package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cuitty/persist/internal/diff"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// DiffFormat selects what Diff writes.
type DiffFormat int

const (
	// DiffHuman is persist-diff's default output: one block per difference,
	// with the JSON path of what changed inside a value.
	DiffHuman DiffFormat = iota
	// DiffJSONL is one JSON object per difference.
	DiffJSONL
	// DiffSummary is one line of counts.
	DiffSummary
	// DiffPatch is a patch stream that, loaded into B, makes it equal A.
	DiffPatch
)

// DiffOptions tune Diff.
type DiffOptions struct {
	Format DiffFormat
	Color  bool // ANSI colours in human output
	// SortMemory bounds the memory used to sort a stream that is not in
	// dump order, in bytes (0: a default); beyond it, runs spill to TempDir
	// ("" for the system's).
	SortMemory int
	TempDir    string
	// ReadOptions pick the stores and filter both sides alike. A patch
	// covers whole stores: it cannot be made with a filter.
	ReadOptions
}

// DiffResult counts items by how they compare.
type DiffResult struct {
	OnlyA, OnlyB, Changed, Same int64
}

// Differ reports whether anything differs.
func (r DiffResult) Differ() bool { return r.OnlyA+r.OnlyB+r.Changed > 0 }

// String is the counts as persist-diff --summary prints them.
func (r DiffResult) String() string {
	return fmt.Sprintf("only in A: %d, only in B: %d, changed: %d, same: %d", r.OnlyA, r.OnlyB, r.Changed, r.Same)
}

// ErrPatchFilter: a patch was asked for with a filter.
var ErrPatchFilter = errors.New("a patch covers whole stores: it cannot be made with a filter")

// ErrPatchDelta: a patch was asked for of a delta (a stream whose header
// has a since), which holds only what changed: the patch would remove
// everything else from B.
var ErrPatchDelta = errors.New("a patch covers whole stores: it cannot be made from a delta, which holds only what changed")

// Diff compares the stores or streams at a and b, as persist-diff does, and
// writes what differs to w in opt.Format. Stores are read in consistent
// snapshots, side by side in dump order, in memory that does not grow with
// them; a stream not in dump order is sorted first, in bounded memory.
// Two locations of one store, or one file twice, are refused
// (ErrSameStore): they would be found equal whatever they hold.
// Items are the same when their canonical lines are byte-identical.
// Differences are not an error: check DiffResult.Differ.
func Diff(ctx context.Context, a, b string, w io.Writer, opt DiffOptions) (_ DiffResult, err error) {
	defer ofContext(ctx, &err)
	if opt.Format == DiffPatch && !opt.Filter.IsZero() {
		return DiffResult{}, fmt.Errorf("diff: %w", ErrPatchFilter)
	}
	// A name one side lacks is a difference to show (a collection lost in
	// B), not trouble: only a name neither holds is (a typo).
	opt.unmatched = true
	sa, sb, err := openSources(ctx, a, b, opt.ReadOptions)
	if err != nil {
		return DiffResult{}, fmt.Errorf("diff: %w", err)
	}
	defer sa.Close()
	defer sb.Close()
	if err := notOneStore(ctx, sa, sb, "a diff would find it equal to itself"); err != nil {
		return DiffResult{}, fmt.Errorf("diff: %w", err)
	}
	if opt.Format == DiffPatch {
		if err := wholeSides(sa, sb, opt.ReadOptions); err != nil {
			return DiffResult{}, fmt.Errorf("diff: %w", err)
		}
		if err := patchFramed(sa, patchTo{a, b, opt.Store, sb.IsStore()}); err != nil {
			return DiffResult{}, fmt.Errorf("diff: %w", err)
		}
	}
	r, err := diffSources(ctx, sa, sb, w, opt, a, b)
	if err == nil {
		err = missingBoth(sa, sb)
	}
	if err != nil {
		return r, fmt.Errorf("diff: %w", err)
	}
	return r, nil
}

// wholeSides refuses a patch of a delta: its remove lines would delete
// from B everything that did not change.
func wholeSides(a, b *Source, opt ReadOptions) error {
	if opt.Since != "" {
		return hint.With(ErrPatchDelta, "make the patch of the whole stores, without --since")
	}
	for _, s := range []*Source{a, b} {
		if h := s.src.Header(); h != nil && h.Since != "" {
			return hint.With(fmt.Errorf("%s: %w", s.Location(), ErrPatchDelta),
				"load a delta as it is (persist-load STORE < DELTA): it merges what changed; a patch is made of a full dump or the store itself")
		}
	}
	return nil
}

// A patch makes B exactly A: it removes from B whatever A lacks, so A, a
// stream, must be a whole store's, as a replace's stream must be. A stream
// without a header (a producer that died midway leaves a part that reads
// as whole) is refused before anything is read, and one whose trailer says
// persist-dump filtered it (--collection, --live, …) at its end, before
// the patch, which is written whole at the end, is.
func patchFramed(a *Source, to patchTo) error {
	if a.IsStore() || a.src.Header() != nil {
		return nil
	}
	return to.hint(fmt.Errorf("%s: %w: it has no header, so nothing tells whether it is whole, and the patch would remove "+
		"from B everything it lacks", a.Location(), ErrPartialStream), "persist-seal --unframed")
}

// wholeA is A's items for a patch, refused at their end where the
// trailer says persist-dump filtered the stream.
type wholeA struct {
	diff.Iterator
	src *Source
	to  patchTo
}

func (w wholeA) Next() (*record.Item, error) {
	it, err := w.Iterator.Next()
	if err != io.EOF {
		return it, err
	}
	c, cerr := w.src.src.Cursor(context.Background())
	if cerr != nil {
		return nil, cerr
	}
	if perr := partialCursor(c, "the patch would remove from B everything the filter left out"); perr != nil {
		return nil, w.to.hint(fmt.Errorf("%s: %w", w.src.Location(), perr), unframe)
	}
	return nil, io.EOF
}

// patchTo is what a refused patch's hint names: A and B as given, the
// store asked for, and whether B is a store (a patch is made against the
// store a stream B was dumped from, which the hint then calls STORE).
type patchTo struct {
	rawA, rawB, store string
	bStore            bool
}

// hint says what to do with A instead: load it as it is, which adds
// without removing; or vouch for it as B's whole content (seal, the
// commands that frame it anew, reading A first).
func (p patchTo) hint(err error, seal string) error {
	b := "STORE"
	if p.bStore {
		b = location.ForShell(location.Redact(p.rawB))
		if p.store != "" {
			b = location.NamedForShell(location.Redact(p.rawB), p.store)
		}
	}
	load, exact := "… | persist-load "+b, "… | "+seal+" | persist-diff --patch - "+b
	if p.rawA != "-" {
		a := location.ForShell(p.rawA)
		load, exact = "persist-load "+b+" < "+a, "< "+a+" "+seal+" | persist-diff --patch - "+b
	}
	err = hint.With(err, "to add A's items to B without removing anything, load A as it is: %s; if B is to hold exactly A's items: %s", load, exact)
	if p.bStore && location.HasPassword(p.rawB) {
		err = hint.With(err, "the password is not shown: give it with PGPASSWORD or ~/.pgpass")
	}
	return err
}

// missingBoth is the error for the filter's names neither side holds.
func missingBoth(a, b *Source) error {
	var both []string
	for _, m := range a.src.Missing() {
		if slices.Contains(b.src.Missing(), m) {
			both = append(both, m)
		}
	}
	if len(both) == 0 {
		return nil
	}
	err := fmt.Errorf("%w: neither %s nor %s has %s", ErrNoMatch, a.Location(), b.Location(), strings.Join(both, " or "))
	if (a.IsStore() || a.rereadable()) && (b.IsStore() || b.rereadable()) {
		err = hint.With(err, "see the collections and streams each holds: persist-sum --by collection %s %s",
			location.ForShell(a.src.Loc.Raw), location.ForShell(b.src.Loc.Raw))
	}
	return err
}

// diffSources merges a and b side by side; rawA and rawB are their
// locations, to read a stream file twice when that is cheaper than sorting.
func diffSources(ctx context.Context, a, b *Source, w io.Writer, opt DiffOptions, rawA, rawB string) (DiffResult, error) {
	format, err := diffFormat(opt.Format)
	if err != nil {
		return DiffResult{}, err
	}
	var iters [2]diff.Iterator
	late := false
	for i, side := range []struct {
		src *Source
		raw string
	}{{a, rawA}, {b, rawB}} {
		it, closeIt, checkedLate, err := side.src.diffIterator(ctx, side.raw, i, opt)
		if err != nil {
			return DiffResult{}, err
		}
		defer closeIt()
		iters[i], late = it, late || checkedLate
	}
	if format == diff.Patch && !a.IsStore() {
		iters[0] = wholeA{iters[0], a, patchTo{rawA, rawB, opt.Store, b.IsStore()}}
	}
	st, err := diff.Diff(ctx, iters[0], iters[1], w, diff.Options{
		Format:  format,
		Color:   opt.Color,
		NameA:   a.Location(),
		NameB:   b.Location(),
		TempDir: opt.TempDir,
		// A side checked only as it is merged (a stream on a pipe: its
		// order, its trailer; one sorted: an item named twice) has what
		// differs written once both have been read whole. A patch and a
		// summary are written at the end anyway.
		Hold: (format == diff.Human || format == diff.JSONL) && late,
	})
	return DiffResult{OnlyA: st.OnlyA, OnlyB: st.OnlyB, Changed: st.Changed, Same: st.Same}, err
}

func diffFormat(f DiffFormat) (diff.Format, error) {
	switch f {
	case DiffHuman:
		return diff.Human, nil
	case DiffJSONL:
		return diff.JSONL, nil
	case DiffSummary:
		return diff.Summary, nil
	case DiffPatch:
		return diff.Patch, nil
	}
	return 0, fmt.Errorf("%w: %d", diff.ErrFormat, f)
}

// diffIterator yields the source in dump order. A store is in dump order,
// and checks its share of the values (A 0, B 1): a value the other side
// checked and holds byte for byte needs no second check. A stream is
// merged as it is when it is: a regular file is read once beforehand to
// tell, and a pipe that begins with a header is a dump (its order is
// checked as it is merged). Anything else is sorted in bounded memory,
// spilling to temporary files.
//
// checkedLate is true where the side is found wrong only as it is merged:
// a stream on a pipe (its order, its trailer), or one sorted (an item named
// twice, which the sort's last merge finds). A stream file in dump order
// was read whole already, by inDumpOrder.
func (s *Source) diffIterator(ctx context.Context, raw string, share int, opt DiffOptions) (it diff.Iterator, closeIt func(), checkedLate bool, err error) {
	if s.IsStore() {
		it := s.src.SharedIterator(ctx, share)
		return it, it.Close, false, nil
	}
	in := s.src.Iterator(ctx)
	if s.src.Header() != nil && !s.rereadable() {
		return in, in.Close, true, nil
	}
	if s.rereadable() {
		ordered, err := inDumpOrder(ctx, raw, opt.ReadOptions)
		if err != nil {
			in.Close()
			return nil, nil, false, err
		}
		if ordered {
			return in, in.Close, false, nil
		}
	}
	sorted, err := diff.Sorted(in, opt.TempDir, opt.SortMemory)
	if err != nil {
		in.Close()
		return nil, nil, false, fmt.Errorf("%s: %w", s.Location(), err)
	}
	return sorted, func() { sorted.Close(); in.Close() }, true, nil
}

// rereadable reports whether the source is a regular file, which can be
// read twice.
func (s *Source) rereadable() bool {
	if s.src.Loc.Kind != location.File {
		return false
	}
	st, err := os.Stat(s.src.Loc.Target)
	return err == nil && st.Mode().IsRegular()
}

// inDumpOrder reports whether the stream file raw is in dump order, by one
// reading pass: merging it directly is cheaper than copying a large dump
// through the sorter's temporary files.
func inDumpOrder(ctx context.Context, raw string, opt ReadOptions) (bool, error) {
	src, err := OpenSource(ctx, raw, opt)
	if err != nil {
		return false, err
	}
	defer src.Close()
	it := diff.InOrder(src.src.Iterator(ctx))
	for {
		_, err := it.Next()
		switch {
		case errors.Is(err, io.EOF):
			return true, nil
		case errors.Is(err, diff.ErrOrder), errors.Is(err, diff.ErrDuplicate):
			return false, nil
		case err != nil:
			return false, err
		}
	}
}
