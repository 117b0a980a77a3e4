package tools

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
)

// report is the run's --summary (cli.SummaryOf), as the tools fill it.
func report(ctx context.Context) *cli.Summary { return cli.SummaryOf(ctx) }

// program is the name the run's messages begin with: the program run
// (persist, for persist export and import), or def where no run names one.
func program(ctx context.Context, def string) string {
	if p := report(ctx).Program(); p != "" {
		return p
	}
	return def
}

// readSide describes a store or stream read, for the summary.
func readSide(loc, store string) cli.Side {
	s := cli.Side{Location: location.Redact(loc)}
	if l, err := location.Parse(loc, false); store == "" && err == nil && l.IsStore() {
		store = l.Store // the database location's own #NAME
	}
	if store != "" {
		s.Store = cli.Ptr(store)
	}
	return s
}

// counted is s with the counts and the sum of a whole read of it; where
// the read did not end (no sum), what it counted so far is not the
// source's, and the counts stay null.
func counted(s cli.Side, records, events int64, sum string) cli.Side {
	if sum != "" {
		s.Records, s.Events, s.Sum = cli.Ptr(records), cli.Ptr(events), cli.Ptr(sum)
	}
	return s
}

// loaded is what a load did to its target, for the summary.
func loaded(r *persist.LoadResult) cli.Target {
	return cli.Target{
		Location: r.Target, Store: r.Store, Lines: r.Lines,
		Written: r.Written, Unchanged: r.Unchanged, Stale: r.Stale, Conflicts: r.Conflicts, Rejects: r.Rejects,
		EventsWritten: r.Events, EventsUnchanged: r.EventsUnchanged, Removed: r.Removed, Retries: r.Retries, Batches: r.Batches,
	}
}

// addLoad adds a load's account to the summary: its target, and what it
// wrote to the run's counts.
func addLoad(r *cli.Result, res *persist.LoadResult) {
	r.Targets = append(r.Targets, loaded(res))
	r.Records += res.Written
	r.Events += res.Events
	r.Retries += res.Retries
	r.Rejects += res.Rejects
}

// guard refuses, before anything is written, an output file (and the
// --summary file) that is one of the files the run reads or writes through
// its locations, or another output (cli.CheckClash): -o app.db would
// replace the database being dumped; and a standard output that is one of
// those files (cli.CheckStdout): >> app.db would write into it. Where a
// location is "-", no output may be the file on standard input either
// (cli.CheckStdin): -o F < F would replace the stream being read.
func guard(ctx context.Context, locations []string, outputs ...cli.Named) error {
	if slices.ContainsFunc(locations, location.StdinName) {
		if err := cli.CheckStdInput(); err != nil {
			return err
		}
	}
	for _, loc := range locations {
		if location.NamesDescriptor(loc, 1) || location.NamesDescriptor(loc, 2) {
			// Opened for reading, it is the file the shell opened there
			// (read while the command writes into it), a pipe's other end
			// or the terminal: never an input.
			return cli.Hint(fmt.Errorf("%s: %w: it names standard output or error, where the command writes, as something to read", loc, cli.ErrClash),
				"name the file itself, or give it on standard input (< FILE)")
		}
	}
	var used []cli.Named
	for _, loc := range locations {
		for _, f := range location.Files(loc) {
			used = append(used, cli.Named{What: location.Redact(loc), Path: f})
		}
	}
	if err := cli.CheckClash(outputs, used); err != nil {
		return err
	}
	// Standard output the shell opened onto an output file (`--rejects F
	// > F`) would be written twice, the stream lost under the other.
	if err := cli.CheckStdout(report(ctx).Stdout(), slices.Concat(used, outputs)); err != nil {
		if report(ctx).Path() == "-" {
			report(ctx).Abandon()
		}
		return err
	}
	summary := cli.Named{What: "--summary", Path: report(ctx).Path()}
	if err := cli.CheckStdout(report(ctx).Stdout(), []cli.Named{summary}); err != nil {
		report(ctx).Abandon()
		return err
	}
	if err := cli.CheckClash(append(outputs, summary), used); err != nil {
		// The summary itself would do the damage: it must not be written.
		report(ctx).Abandon()
		return err
	}
	if !slices.Contains(locations, "-") {
		return nil
	}
	// The shell opened standard input: the summary must not be written
	// there either.
	if err := cli.CheckStdin(os.Stdin, []cli.Named{summary}); err != nil {
		report(ctx).Abandon()
		return err
	}
	if err := cli.CheckStdoutStdin(report(ctx).Stdout(), os.Stdin); err != nil {
		if report(ctx).Path() == "-" {
			report(ctx).Abandon() // it would land in the file too
		}
		return err
	}
	return cli.CheckStdin(os.Stdin, outputs)
}
