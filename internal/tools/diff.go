package tools

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
	"golang.org/x/term"
)

// DiffOptions are persist-diff's flags.
type DiffOptions struct {
	cli.Common
	Select
	A, B          string
	Store         string
	Format        string
	Patch         bool
	ExitCode      bool
	Color         string
	IgnoreTrailer bool
	SortMemory    int
}

// format is the API's output format the flags ask for.
func (o DiffOptions) format() (persist.DiffFormat, error) {
	switch {
	case o.Patch && o.Format != "human" && o.Format != "":
		return 0, cli.Hint(fmt.Errorf("--patch and --format %s cannot be combined", o.Format), "a patch is a persist.v1 stream: drop --format")
	case o.Patch && !o.Filter().IsZero():
		// A patch must make all of B equal to A; a filtered one would
		// carry a target sum of part of B and be refused by every load.
		return 0, cli.Hint(persist.ErrPatchFilter, "diff with filters to look; make the patch without them")
	case o.Patch:
		return persist.DiffPatch, nil
	case o.Format == "summary":
		return persist.DiffSummary, nil
	case o.Format == "jsonl":
		return persist.DiffJSONL, nil
	case o.Format == "human", o.Format == "":
		return persist.DiffHuman, nil
	}
	return 0, cli.Hint(fmt.Errorf("--format %q is not known", o.Format), "--format human, --format jsonl or --format summary")
}

// Diff compares two stores or streams. It returns cli.ErrDiffer when they
// differ, except for a patch: writing one is a success, unless --exit-code
// asks for diff's 1-on-difference.
func Diff(ctx context.Context, st Stdio, o DiffOptions) error {
	return streamHint(diff(ctx, st, o), true)
}

func diff(ctx context.Context, st Stdio, o DiffOptions) error {
	const name = "persist-diff"
	if err := o.Select.Check(); err != nil {
		return err
	}
	format, err := o.format()
	if err != nil {
		return err
	}
	if err := report(ctx).ToStdout("the differences"); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.A, o.B}); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources = []cli.Side{readSide(o.A, o.Store), readSide(o.B, o.Store)}
	})
	if o.SortMemory < 0 {
		return cli.Hint(fmt.Errorf("--sort-memory %d: must be 0 or more", o.SortMemory), "--sort-memory 64")
	}
	start := time.Now()
	out := bufio.NewWriterSize(st.Stdout, 64<<10)
	stats, err := persist.Diff(ctx, o.A, o.B, out, persist.DiffOptions{
		Format:     format,
		Color:      o.color(st),
		SortMemory: o.SortMemory << 20,
		ReadOptions: persist.ReadOptions{
			// With a database on one side, --store picks its store, and
			// a stream on the other is compared as it is.
			Store: o.Store, StreamStore: !isStore(o.A) && !isStore(o.B), Filter: o.Filter(), IgnoreTrailer: o.IgnoreTrailer, Stdin: st.Stdin,
		},
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		// Counts of a comparison that did not end say nothing of the two.
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Differences = &cli.Differences{OnlyA: stats.OnlyA, OnlyB: stats.OnlyB, Changed: stats.Changed}
	})
	if format == persist.DiffSummary {
		// The counts are already the output.
		o.Quiet = true
	}
	summary(st, o.Common, name, stats.String(), time.Since(start).Round(time.Millisecond).String())
	if stats.Differ() && (format != persist.DiffPatch || o.ExitCode) {
		return cli.ErrDiffer
	}
	return nil
}

func (o DiffOptions) color(st Stdio) bool {
	switch o.Color {
	case "always":
		return true
	case "auto":
		f, ok := st.Stdout.(*os.File)
		return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
	}
	return false
}

// isStore reports whether loc names a database (not a stream).
func isStore(loc string) bool {
	l, err := location.Parse(loc, false)
	return err == nil && l.IsStore()
}
