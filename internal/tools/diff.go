package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/diff"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/source"
	"golang.org/x/term"
)

// DiffOptions are persist-diff's flags.
type DiffOptions struct {
	cli.Common
	Select
	A, B          string
	Store         string
	Format        string
	Summary       bool
	Patch         bool
	Color         string
	IgnoreTrailer bool
	SortMemory    int
}

// Diff compares two stores or streams. It returns cli.ErrDiffer when they
// differ.
func Diff(ctx context.Context, st Stdio, o DiffOptions) error {
	const name = "persist-diff"
	if o.A == "-" && o.B == "-" {
		return errors.New("only one side can be standard input (-)")
	}
	format, err := diff.ParseFormat(o.Format)
	if err != nil {
		return cli.Hint(err, "--format human or --format jsonl")
	}
	switch {
	case o.Patch && o.Summary:
		return errors.New("--patch and --summary cannot be combined")
	case o.Patch:
		format = diff.Patch
	case o.Summary:
		format = diff.Summary
	}
	if o.Patch && (o.Live || len(o.Collection) > 0 || len(o.Stream) > 0 || o.Records || o.Events) {
		// A patch must make all of B equal to A; a filtered one would
		// carry a target sum of part of B and be refused by every load.
		return cli.Hint(errors.New("--patch covers whole stores: it cannot be combined with filters"), "diff with filters to look; make the patch without them")
	}
	start := time.Now()
	sides := make([]*source.Source, 2)
	iters := make([]diff.Iterator, 2)
	for i, raw := range []string{o.A, o.B} {
		opts := source.Options{Store: o.Store, Filter: o.Filter(), IgnoreTrailer: o.IgnoreTrailer, Stdin: st.Stdin}
		ordered, err := inDumpOrder(ctx, raw, opts)
		if err != nil {
			return err
		}
		src, err := source.Open(ctx, raw, opts)
		if err != nil {
			return err
		}
		defer src.Close()
		sides[i] = src
		it := src.Iterator(ctx)
		defer it.Close()
		if src.IsStore() || ordered {
			iters[i] = it
			continue
		}
		// A stream in another order (shuffled, hand-made, or stdin, which
		// cannot be read twice): sort it with bounded memory, spilling to
		// temporary files.
		sorted, err := diff.Sorted(it, "", o.SortMemory<<20)
		if err != nil {
			return fmt.Errorf("%s: %w", src.Loc, err)
		}
		defer sorted.Close()
		iters[i] = sorted
	}
	color := o.Color == "always"
	if o.Color == "auto" {
		if f, ok := st.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" {
			color = true
		}
	}
	out := bufio.NewWriterSize(st.Stdout, 64<<10)
	stats, err := diff.Diff(ctx, iters[0], iters[1], out, diff.Options{
		Format: format,
		Color:  color,
		NameA:  location.Redact(o.A),
		NameB:  location.Redact(o.B),
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	d := time.Since(start)
	if format == diff.Summary {
		// The counts are already the output.
		o.Quiet = true
	}
	summary(st, o.Common, name, fmt.Sprintf("only in A: %d, only in B: %d, changed: %d, same: %d", stats.OnlyA, stats.OnlyB, stats.Changed, stats.Same),
		d.Round(time.Millisecond).String())
	if stats.Differ() {
		return cli.ErrDiffer
	}
	return nil
}

// inDumpOrder reports whether raw is a stream file already in dump order,
// by one reading pass: merging it directly is cheaper than copying a large
// dump through the sorter's temporary files. Stores and stdin report false.
func inDumpOrder(ctx context.Context, raw string, opts source.Options) (bool, error) {
	if raw == "-" {
		return false, nil
	}
	src, err := source.Open(ctx, raw, opts)
	if err != nil {
		return false, err
	}
	defer src.Close()
	if src.IsStore() {
		return false, nil
	}
	it := diff.InOrder(src.Iterator(ctx))
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
