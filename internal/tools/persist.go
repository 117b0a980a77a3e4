package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/diff"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// DefaultLocation is where the persist command finds store name when no
// location is given: $PERSIST_URL, else sqlite:./data/NAME.db.
func DefaultLocation(name string) string {
	if u := os.Getenv("PERSIST_URL"); u != "" {
		return u
	}
	return "sqlite:./data/" + name + ".db"
}

// ExportOptions are `persist export`'s flags.
type ExportOptions struct {
	cli.Common
	Name, Format, Output, Location string
}

// Export dumps the named store.
func Export(ctx context.Context, st Stdio, o ExportOptions) error {
	if o.Format != "jsonl" {
		return cli.Hint(fmt.Errorf("--format %q: only jsonl is written", o.Format), "use --format jsonl (compress with an --output name ending in .zst or .gz)")
	}
	loc := o.Location
	if loc == "" {
		loc = DefaultLocation(o.Name)
	}
	return Dump(ctx, st, DumpOptions{Common: o.Common, Location: loc, Store: storeFlag(loc, o.Name), Output: o.Output})
}

// storeFlag is the --store to pass for store name at loc: none when the
// location names its store itself.
func storeFlag(loc, name string) string {
	if l, err := location.Parse(loc, true); err == nil && l.Store != "" {
		return ""
	}
	return name
}

// ImportOptions are `persist import`'s flags.
type ImportOptions struct {
	cli.Common
	LoadFlags
	Name, From, Adapter, Connection string
}

// Import loads a stream file into the named store.
func Import(ctx context.Context, st Stdio, o ImportOptions) error {
	loc, err := adapterLocation(o.Adapter, o.Connection, o.Name)
	if err != nil {
		return err
	}
	if o.LoadFlags.Store == "" {
		o.LoadFlags.Store = storeFlag(loc, o.Name)
	}
	return Load(ctx, st, LoadOptions{Common: o.Common, LoadFlags: o.LoadFlags, Location: loc, Input: o.From})
}

// adapterLocation turns --adapter and --connection into a location.
func adapterLocation(adapter, conn, name string) (string, error) {
	if conn == "" {
		if adapter == "postgres" {
			return "", cli.Hint(errors.New("--adapter postgres needs --connection"), `--connection "postgresql://user@host:5432/persist"`)
		}
		return DefaultLocation(name), nil
	}
	switch adapter {
	case "", "auto":
		return conn, nil
	case "postgres", "postgresql":
		if strings.HasPrefix(conn, "postgres:") || strings.HasPrefix(conn, "postgresql:") {
			return conn, nil
		}
		return "postgres:" + conn, nil
	case "sqlite":
		if strings.HasPrefix(conn, "sqlite:") {
			return conn, nil
		}
		return "sqlite:" + conn, nil
	}
	return "", cli.Hint(fmt.Errorf("--adapter %q is not known", adapter), "use --adapter sqlite or --adapter postgres")
}

// VerifyOptions are `persist verify`'s flags.
type VerifyOptions struct {
	cli.Common
	Name, Source, Target string
}

// Verify compares the counts and sums of a store in two places side by
// side; it returns cli.ErrDiffer on a mismatch.
func Verify(ctx context.Context, st Stdio, o VerifyOptions) error {
	if o.Source == "" {
		o.Source = DefaultLocation(o.Name)
	}
	if o.Target == "" {
		return cli.Hint(errors.New("verify needs --target"), "persist verify NAME --source LOC --target LOC")
	}
	var tallies [2]Tally
	for i, loc := range []string{o.Source, o.Target} {
		src, err := source.Open(ctx, loc, source.Options{Store: storeFlag(loc, o.Name), Stdin: st.Stdin})
		if err != nil {
			return err
		}
		bar := cli.NewProgress(st.Stderr, cli.ShowProgress(o.Common, st.Stderr), -1, "summing "+src.Loc.String())
		tallies[i], _, err = SumSource(ctx, src, "", bar)
		bar.Finish()
		src.Close()
		if err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(st.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\trecords\tevents\tsum\n")
	mark := func(ok bool) string {
		if ok {
			return ""
		}
		return " ≠"
	}
	s, t := tallies[0], tallies[1]
	fmt.Fprintf(tw, "source\t%d\t%d\t%s\t%s\n", s.Records, s.Events, s.Sum, location.Redact(o.Source))
	fmt.Fprintf(tw, "target\t%d%s\t%d%s\t%s%s\t%s\n", t.Records, mark(s.Records == t.Records), t.Events, mark(s.Events == t.Events),
		t.Sum, mark(s.Sum == t.Sum), location.Redact(o.Target))
	if err := tw.Flush(); err != nil {
		return err
	}
	if s == t {
		if !o.Quiet {
			fmt.Fprintf(st.Stderr, "persist: verify: %s is the same in both places\n", o.Name)
		}
		return nil
	}
	// Say what differs, in counts, the way persist-diff would.
	counts, err := diffCounts(ctx, st, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.Stderr, "persist: verify: %s differs: %s\n", o.Name, counts)
	fmt.Fprintf(st.Stderr, "persist: hint: see each difference with: persist-diff '%s' '%s'\n", location.Redact(o.Source), location.Redact(o.Target))
	return cli.ErrDiffer
}

func diffCounts(ctx context.Context, st Stdio, o VerifyOptions) (string, error) {
	var iters [2]diff.Iterator
	for i, loc := range []string{o.Source, o.Target} {
		src, err := source.Open(ctx, loc, source.Options{Store: storeFlag(loc, o.Name), Stdin: st.Stdin})
		if err != nil {
			return "", err
		}
		defer src.Close()
		it := src.Iterator(ctx)
		defer it.Close()
		iters[i] = it
	}
	stats, err := diff.Diff(ctx, iters[0], iters[1], io.Discard, diff.Options{Format: diff.Summary})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("only in source: %d, only in target: %d, changed: %d", stats.OnlyA, stats.OnlyB, stats.Changed), nil
}

// MigrateOptions are `persist migrate`'s flags.
type MigrateOptions struct {
	cli.Common
	LoadFlags
	Name, Source, Target string
}

// Migrate copies a store from one place to another through the same path
// as persist-dump | persist-load: one consistent snapshot, batches merged
// by version and verified.
func Migrate(ctx context.Context, st Stdio, o MigrateOptions) error {
	if o.Source == "" {
		o.Source = DefaultLocation(o.Name)
	}
	if o.Target == "" {
		return cli.Hint(errors.New("migrate needs --target"), "persist migrate NAME --source LOC --target LOC")
	}
	start := time.Now()
	src, err := source.Open(ctx, o.Source, source.Options{Store: storeFlag(o.Source, o.Name), Stdin: st.Stdin})
	if err != nil {
		return err
	}
	defer src.Close()
	records, events, _, err := src.Counts(ctx)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, _, _, err := src.WriteStream(ctx, pw, record.Header{Format: record.Format, Store: src.Store, Records: records, Events: events}, nil)
		pw.CloseWithError(err)
	}()
	if src.IsStore() {
		// The snapshot is closed (deferred above) only once its reader is
		// done. A stream source is not waited for: its reader may be
		// blocked on an idle stdin, and nothing is left to close under it.
		defer func() { <-written }()
	}
	if o.LoadFlags.Store == "" {
		o.LoadFlags.Store = storeFlag(o.Target, o.Name)
	}
	var last time.Time
	progress := func(done, total int64) {
		if o.Quiet || time.Since(last) < time.Second && done < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(st.Stderr, "persist: %d/%d records migrated\n", min(done, records), records)
	}
	res, err := loadInto(ctx, st, o.LoadFlags, o.Target, pr, o.Name, progress)
	pr.CloseWithError(errors.New("load stopped"))
	if err != nil {
		return err
	}
	if !o.Quiet {
		fmt.Fprintf(st.Stderr, "persist: migrated %s from %s to %s: %d records, %d events in %s (%s)\n",
			o.Name, src.Loc, res.target, records, events, time.Since(start).Round(time.Millisecond), res.String())
	}
	return nil
}
