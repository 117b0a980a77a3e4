package persist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/diff"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/source"
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
	// SortMemory bounds the memory used to sort a stream file that is not in
	// dump order, in bytes (0: a default); beyond it, runs spill to TempDir
	// ("" for the system's).
	SortMemory int
	TempDir    string
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

// Diff compares the stores or streams at a and b, as persist-diff does, and
// writes what differs to w in opt.Format. Stores are read in consistent
// snapshots, side by side in dump order, in memory that does not grow with
// them. Items are the same when their canonical lines are byte-identical.
// Differences are not an error: check DiffResult.Differ.
func Diff(ctx context.Context, a, b string, w io.Writer, opt DiffOptions) (DiffResult, error) {
	if a == "-" && b == "-" {
		return DiffResult{}, errors.New("diff: only one side can be standard input (-)")
	}
	var srcs [2]*source.Source
	for i, raw := range []string{a, b} {
		src, err := source.Open(ctx, raw, source.Options{})
		if err != nil {
			return DiffResult{}, fmt.Errorf("diff: %w", err)
		}
		defer src.Close()
		srcs[i] = src
	}
	r, err := diffSources(ctx, srcs[0], srcs[1], w, opt)
	if err != nil {
		return r, fmt.Errorf("diff: %w", err)
	}
	return r, nil
}

func diffSources(ctx context.Context, a, b *source.Source, w io.Writer, opt DiffOptions) (DiffResult, error) {
	var format diff.Format
	switch opt.Format {
	case DiffHuman:
		format = diff.Human
	case DiffJSONL:
		format = diff.JSONL
	case DiffSummary:
		format = diff.Summary
	case DiffPatch:
		format = diff.Patch
	default:
		return DiffResult{}, fmt.Errorf("%w: %d", diff.ErrFormat, opt.Format)
	}
	var iters [2]diff.Iterator
	for i, src := range []*source.Source{a, b} {
		it := src.Iterator(ctx)
		defer it.Close()
		if src.IsStore() {
			iters[i] = it
			continue
		}
		// A stream file may be in any order; a store is always in dump order.
		sorted, err := diff.Sorted(it, opt.TempDir, opt.SortMemory)
		if err != nil {
			return DiffResult{}, fmt.Errorf("%s: %w", src.Loc, err)
		}
		defer sorted.Close()
		iters[i] = sorted
	}
	st, err := diff.Diff(ctx, iters[0], iters[1], w, diff.Options{
		Format:  format,
		Color:   opt.Color,
		NameA:   location.Redact(a.Loc.Raw),
		NameB:   location.Redact(b.Loc.Raw),
		TempDir: opt.TempDir,
	})
	return DiffResult{OnlyA: st.OnlyA, OnlyB: st.OnlyB, Changed: st.Changed, Same: st.Same}, err
}
