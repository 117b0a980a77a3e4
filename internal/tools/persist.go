package tools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
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
	Since, CursorFile              string
}

// Export dumps the named store.
func Export(ctx context.Context, st Stdio, o ExportOptions) error {
	if o.Format != "jsonl" {
		return cli.Hint(fmt.Errorf("--format %q: only jsonl is written", o.Format), "use --format jsonl (compress with an --output name ending in .zst or .gz)")
	}
	loc := o.Location
	if loc == "" {
		var err error
		if loc, err = storeLocation(ctx, o.Name, o.again, makeStore); err != nil {
			return err
		}
		if err := missingStore(o.Name, loc, makeStore(o.Name)); err != nil {
			return err
		}
	}
	if err := sameName(o.Name, loc, "--location"); err != nil {
		return err
	}
	err := Dump(ctx, st, DumpOptions{Common: o.Common, Location: loc, Store: storeFlag(loc, o.Name), Output: o.Output,
		Since: o.Since, CursorFile: o.CursorFile})
	if errors.Is(err, persist.ErrNoStore) {
		return noStoreHint(err, o.Name, loc, makeStore(o.Name))
	}
	return err
}

// makeStore is a write that makes store name.
func makeStore(name string) string { return makeCommand(name, persist.Filter{}) }

// again is the export for another store (storeLocation).
func (o ExportOptions) again(store string) string {
	var flags []string
	for _, f := range []struct{ flag, value, unset string }{
		{"--output", o.Output, "-"}, {"--since", o.Since, ""}, {"--cursor-file", o.CursorFile, ""},
	} {
		if f.value != f.unset {
			flags = append(flags, f.flag+" "+location.ShellQuote(f.value))
		}
	}
	return command("export", flags, store)
}

// storeFlag is the --store to pass for store name at loc: none when the
// location names its store itself.
func storeFlag(loc, name string) string {
	if l, err := location.Parse(loc, true); err == nil && l.Store != "" {
		return ""
	}
	return name
}

// withName is loc naming store name, unless it names one itself.
func withName(loc, name string) string {
	if storeFlag(loc, name) == "" || loc == "-" {
		return loc
	}
	return location.WithStore(loc, name)
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
	if o.Connection == "" {
		again := func(store string) string {
			return command("import", append([]string{"--from " + location.ShellQuote(o.From)}, o.LoadFlags.args()...), store)
		}
		if loc, err = storeLocation(ctx, o.Name, again, nil); err != nil {
			return err
		}
	}
	if err := sameName(o.Name, loc, "--connection"); err != nil {
		return err
	}
	if o.LoadFlags.Store != "" && o.LoadFlags.Store != o.Name {
		return cli.Hint(fmt.Errorf("--store names store %s, but the command names store %s", jsonQuote(o.LoadFlags.Store), jsonQuote(o.Name)),
			"leave --store out: the command's NAME says which store: %s%s", o.withoutStore(), passwordNote(o.Connection))
	}
	if o.LoadFlags.Store == "" {
		o.LoadFlags.Store = storeFlag(loc, o.Name)
	}
	// The load removes what it made of the database when it fails (a
	// scratch file, or a file it wrote nothing into); a file under the
	// target's name by then is another program's. What is left to undo is
	// the folder, when nothing is in it.
	madeDir, err := makeDataDir(loc)
	if err != nil {
		return err
	}
	err = Load(ctx, st, LoadOptions{Common: o.Common, LoadFlags: o.LoadFlags, Location: loc, Input: o.From})
	if err != nil {
		removeIfEmpty(madeDir)
	}
	return err
}

// withoutStore is the import as given, without its --store.
func (o ImportOptions) withoutStore() string {
	flags := []string{"--from " + location.ShellQuote(o.From)}
	if o.Adapter != "" && o.Adapter != "auto" {
		flags = append(flags, "--adapter "+location.ShellQuote(o.Adapter))
	}
	if o.Connection != "" {
		flags = append(flags, "--connection "+location.ForShell(location.Redact(o.Connection)))
	}
	lf := o.LoadFlags
	lf.Store = ""
	return command("import", append(flags, lf.args()...), o.Name)
}

// adapterLocation turns --adapter and --connection into a location.
func adapterLocation(adapter, conn, name string) (string, error) {
	if adapter == "" || adapter == "auto" {
		if conn == "" {
			return DefaultLocation(name), nil
		}
		return conn, nil
	}
	d := adapters.ByName(adapter)
	if d == nil {
		var names []string
		for _, d := range adapters.Drivers() {
			names = append(names, d.Name)
		}
		return "", cli.Hint(fmt.Errorf("--adapter %q is not known", adapter), "use --adapter %s", strings.Join(names, " or --adapter "))
	}
	if conn == "" {
		if d.Sniff == nil {
			return "", cli.Hint(fmt.Errorf("--adapter %s needs --connection", adapter), "--connection %s", exampleLocation(d, name))
		}
		return DefaultLocation(name), nil
	}
	for _, scheme := range d.Schemes {
		if strings.HasPrefix(conn, scheme+":") {
			return conn, nil
		}
	}
	loc := d.Schemes[0] + ":" + conn
	if _, err := location.Parse(loc, true); err != nil {
		return "", cli.Hint(fmt.Errorf("--adapter %s --connection %s: %w", adapter, location.Redact(conn), err),
			"%s", connectionHint(d, conn, name))
	}
	if other := connectionDriver(conn); other != nil && other != d {
		// Another adapter's location can still be one of d's once d's
		// scheme is put in front — sqlite:postgres://h/db is a file under
		// a directory "postgres:" — and the load would make junk there.
		return "", cli.Hint(fmt.Errorf("--adapter %s --connection %s: that is a %s location, not a %s one",
			adapter, location.Redact(conn), other.Name, d.Name), "%s", connectionHint(d, conn, name))
	}
	return loc, nil
}

// connectionDriver is the adapter conn names by itself: by its scheme, or,
// for a path to an existing file, by the file's first bytes. Nil when it
// names none (a path not made yet, a keyword/value string).
func connectionDriver(conn string) *adapters.Driver {
	for _, d := range adapters.Drivers() {
		for _, scheme := range d.Schemes {
			if strings.HasPrefix(conn, scheme+":") {
				return d
			}
		}
	}
	if l, err := location.Parse(conn, false); err == nil {
		return l.Driver
	}
	return nil
}

// connectionHint says what a --connection for d looks like, and what the
// one given is when it is something else.
func connectionHint(d *adapters.Driver, conn, name string) string {
	if other := connectionDriver(conn); other != nil && other != d {
		return fmt.Sprintf("%s is a %s location: use --adapter %s, or give --connection %s (or leave --adapter out: auto takes the adapter from the connection)",
			location.Redact(conn), other.Name, other.Name, exampleLocation(d, name))
	}
	return "give --connection " + exampleLocation(d, name)
}

// exampleLocation is a connection of d's for store name: for a file, the
// one the store's name keeps it in (another store's file would take it
// in beside that store, where NAME alone does not find it).
func exampleLocation(d *adapters.Driver, name string) string {
	if d.Sniff != nil {
		if badFileName(name) == "" {
			return location.ShellQuote(strings.TrimPrefix(DefaultLocation(name), "sqlite:"))
		}
		return "./data/NAME.db"
	}
	return d.Schemes[0] + "://user@host:5432/persist"
}

// VerifyOptions are `persist verify`'s flags.
type VerifyOptions struct {
	cli.Common
	Name, Source, Target string
}

// Verify compares the counts and sums of a store in two places side by
// side; it returns cli.ErrDiffer on a mismatch.
func Verify(ctx context.Context, st Stdio, o VerifyOptions) error {
	return streamHint(verify(ctx, st, o), false)
}

func verify(ctx context.Context, st Stdio, o VerifyOptions) error {
	if o.Target == "" {
		return cli.Hint(errors.New("verify needs --target"), "persist verify %s --source LOC --target LOC", o.Name)
	}
	if o.Source == "" {
		again := func(store string) string {
			return command("verify", []string{"--target " + location.ForShell(o.Target)}, store)
		}
		var err error
		if o.Source, err = storeLocation(ctx, o.Name, again, makeStore); err != nil {
			return err
		}
	}
	if err := sourceAndTarget("verify", o.Name, o.Source, o.Target, ""); err != nil {
		return err
	}
	if err := report(ctx).ToStdout("the comparison table"); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.Source, o.Target}); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources = []cli.Side{readSide(o.Source, o.Name), readSide(o.Target, o.Name)}
	})
	source, target, store := o.Source, o.Target, ""
	if storeFlag(source, o.Name) != "" && storeFlag(target, o.Name) != "" {
		// The store goes apart from the locations: a NAME with '#' or '/'
		// (any text, in a database named by $PERSIST_URL) is not a
		// location's #NAME.
		store = o.Name
	} else {
		source, target = withName(source, o.Name), withName(target, o.Name)
	}
	c, err := persist.Compare(ctx, source, target, persist.CompareOptions{
		ReadOptions: persist.ReadOptions{Store: store, Stdin: st.Stdin},
		Unsupported: 10,
	})
	if err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources[0] = counted(r.Sources[0], c.SumA.Records, c.SumA.Events, c.SumA.Sum)
		r.Sources[1] = counted(r.Sources[1], c.SumB.Records, c.SumB.Events, c.SumB.Sum)
		r.Records, r.Events = c.SumA.Records, c.SumA.Events
		if c.Diffed {
			r.Differences = &cli.Differences{OnlyA: c.Diff.OnlyA, OnlyB: c.Diff.OnlyB, Changed: c.Diff.Changed}
		}
	})
	if err := verifyTable(st, o, c); err != nil {
		return err
	}
	if c.Equal() {
		summary(st, o.Common, "persist", "verify: "+o.Name+" is the same in both places")
		return nil
	}
	if c.Diffed {
		fmt.Fprintf(st.Stderr, "persist: verify: %s differs: only in source: %d, only in target: %d, changed: %d\n",
			hint.Printable(o.Name), c.Diff.OnlyA, c.Diff.OnlyB, c.Diff.Changed)
	} else {
		fmt.Fprintf(st.Stderr, "persist: verify: %s differs (a side read from a pipe cannot be read again to count how)\n", hint.Printable(o.Name))
	}
	printUnsupported(st, c.Unsupported)
	return cli.Hint(cli.ErrDiffer, "see each difference with: persist-diff %s%s",
		diffArgs(source, target, store), passwordNote(o.Source, o.Target))
}

// diffArgs are persist-diff's arguments for the locations as compared: a
// target's #NAME (the copy's) stays its own, where a --store would
// contradict it.
func diffArgs(source, target, store string) string {
	args := location.ForShell(source) + " " + location.ForShell(target)
	if store != "" {
		args = "--store " + location.ShellQuote(store) + " " + args
	}
	return args
}

// printUnsupported lists the source's items the target cannot hold.
func printUnsupported(st Stdio, u persist.Unsupported) {
	if u.Count == 0 {
		return
	}
	fmt.Fprintf(st.Stderr, "persist: verify: %s cannot hold %d items of the source:\n", hint.Printable(u.Target), u.Count)
	for _, it := range u.Items {
		fmt.Fprintf(st.Stderr, "persist: verify:   %s\n", hint.Printable(it))
	}
	if n := u.Count - int64(len(u.Items)); n > 0 {
		fmt.Fprintf(st.Stderr, "persist: verify:   … and %d more\n", n)
	}
}

// passwordNote says where a pasted command's password comes from, when the
// locations had one, shown or masked already (a hint never shows it).
// upgradeCommand is persist upgrade of store in the database at loc, as
// a hint writes it to be run.
func upgradeCommand(store, loc string) string {
	return fmt.Sprintf("persist upgrade %s --location %s%s", location.ShellQuote(store), location.ForShell(loc), passwordNote(loc))
}

// namedUpgrade is err with, where a store's hint says to run persist
// upgrade NAME --location LOCATION (an adapter knows neither), the same
// command for the database at loc: named by store where the database
// holds it, else by a store it does hold (persist upgrade works on the
// whole database, and refuses a name it does not hold); none where it
// holds none, or cannot be listed.
func namedUpgrade(ctx context.Context, err error, store, loc string) error {
	if loc == "" || !slices.ContainsFunc(hint.All(err), func(h string) bool {
		return strings.Contains(h, "persist upgrade NAME --location LOCATION")
	}) {
		return err
	}
	held, lerr := persist.Stores(ctx, location.WithoutStore(location.Unmask(loc))) // every store, not loc's alone
	if lerr != nil || len(held) == 0 {
		return err
	}
	name := held[0].Name
	if slices.ContainsFunc(held, func(s persist.StoreInfo) bool { return s.Name == store }) {
		name = store
	}
	return cli.Hint(err, "here: %s", upgradeCommand(name, location.WithoutStore(loc)))
}

func passwordNote(raws ...string) string {
	for _, r := range raws {
		if location.HasPassword(r) || location.Unmask(r) != r {
			return " (the password from PGPASSWORD or ~/.pgpass)"
		}
	}
	return ""
}

func verifyTable(st Stdio, o VerifyOptions, c persist.Comparison) error {
	tw := tabwriter.NewWriter(st.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\trecords\tevents\tsum\n")
	mark := func(ok bool) string {
		if ok {
			return ""
		}
		return " ≠"
	}
	s, t := c.SumA, c.SumB
	fmt.Fprintf(tw, "source\t%d\t%d\t%s\t%s\n", s.Records, s.Events, s.Sum, c.A)
	fmt.Fprintf(tw, "target\t%d%s\t%d%s\t%s%s\t%s\n", t.Records, mark(s.Records == t.Records), t.Events, mark(s.Events == t.Events),
		t.Sum, mark(s.Sum == t.Sum), c.B)
	return tw.Flush()
}

// MigrateOptions are `persist migrate`'s flags.
type MigrateOptions struct {
	cli.Common
	LoadFlags
	Name, Source, Target string
}

// check refuses, before anything is read, flags that cannot be honoured:
// the load's, and a --source naming another store than NAME.
func (o MigrateOptions) check() error {
	if err := o.LoadFlags.check(); err != nil {
		return err
	}
	return sourceAndTarget("migrate", o.Name, o.Source, o.Target, o.LoadFlags.Store)
}

// notACopy says that a migration left the target unlike the source:
// records it holds in a newer version were kept (merged by version, as
// documented), and so were records and events only it holds. It is said
// whatever the terminal (but -q), and in the summary's differences, where
// a script that reads exit 0 finds it too. A target that cannot be counted
// is an error: nothing would show it holds only the source's items.
func notACopy(ctx context.Context, warn func(string), res persist.Result, loaded persist.LoadResult, o MigrateOptions) error {
	extra, err := extraItems(ctx, res, loaded, o)
	if err != nil {
		return cli.Hint(fmt.Errorf("every item was written and verified, but the target's store could not be counted after the migration, "+
			"so nothing shows it holds only the source's items: %w", err), "%s", eachDifference(o))
	}
	if loaded.Stale == 0 && extra == 0 {
		return nil
	}
	report(ctx).Update(func(r *cli.Result) { r.Differences = &cli.Differences{OnlyB: extra, Changed: loaded.Stale} })
	if warn == nil {
		return nil
	}
	if loaded.Stale > 0 {
		warn(fmt.Sprintf("%d records the target holds in a newer version than the source's were kept: the target is not a copy of the source (%s)",
			loaded.Stale, eachDifference(o)))
	}
	if extra > 0 {
		warn(fmt.Sprintf("the target holds %d records or events the source does not (held before, or written by another program while the migration ran), which were left as they are: the target is not a copy of the source (%s)",
			extra, eachDifference(o)))
	}
	return nil
}

// targetCount is how many records (tombstones too) and events the
// target's store holds, in one count.
func targetCount(ctx context.Context, o MigrateOptions) (int64, error) {
	// The store by name, not spelled into the location: a name holding a
	// # or a / is no #NAME a location can carry.
	src, err := persist.OpenSource(ctx, o.Target, persist.ReadOptions{Store: storeFlag(o.Target, o.LoadFlags.Store)})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	records, events, known, err := src.Counts(ctx)
	if err == nil && !known {
		err = errors.New("the store gave no count")
	}
	return records + events, err
}

// targetStore is the target's location naming the store the migration
// loads into (--store, once Migrate has made it the default).
func targetStore(o MigrateOptions) string { return withName(o.Target, o.LoadFlags.Store) }

// extraItems counts the records and events the target's store holds that
// the source does not: every item of the source is in the target after a
// migration, so what the target counts beyond the source is not the
// source's, whether the target held it before (a merge leaves it where it
// is) or another program wrote it while the migration ran, into a target
// that was empty when it began.
func extraItems(ctx context.Context, res persist.Result, loaded persist.LoadResult, o MigrateOptions) (int64, error) {
	n, err := targetCount(ctx, o)
	if err != nil {
		return 0, err
	}
	// A line set aside (--rejects) is an item of the source the target lacks.
	return max(n-(res.Records+res.Events-loaded.Rejects), 0), nil
}

// eachDifference is the persist-diff that shows each difference between a
// migration's source and target, or, where a location cannot carry its
// store's name, the verify that compares them (and names that diff).
func eachDifference(o MigrateOptions) string {
	store := o.Name
	if o.LoadFlags.Store != "" {
		store = o.LoadFlags.Store
	}
	if l, err := location.Parse(o.Target, false); err == nil && l.Store != "" {
		store = l.Store // the target names its store itself (#NAME)
	}
	source, target := location.Named(o.Source, o.Name), location.Named(o.Target, store)
	if !named(source, o.Name) || !named(target, store) {
		return verifyCommand(o) + " compares them, and names the persist-diff that shows each"
	}
	return "persist-diff " + location.ForShell(source) + " " + location.ForShell(target) + passwordNote(o.Source, o.Target) + " shows each"
}

// named reports whether the location raw names store.
func named(raw, store string) bool {
	l, err := location.Parse(raw, false)
	return err == nil && l.Store == store
}

// verifyCommand is the verify that compares a migration's source and target.
func verifyCommand(o MigrateOptions) string {
	target := o.Target
	if o.LoadFlags.Store != "" && o.LoadFlags.Store != o.Name {
		target = targetStore(o) // the copy has a name of its own
	}
	return command("verify", []string{"--source " + location.ForShell(o.Source), "--target " + location.ForShell(target)}, o.Name) +
		passwordNote(o.Source, o.Target)
}

// Migrate copies a store from one place to another through the same path
// as persist-dump | persist-load: one consistent snapshot, batches merged
// by version and verified.
func Migrate(ctx context.Context, st Stdio, o MigrateOptions) error {
	if o.Target == "" {
		return cli.Hint(errors.New("migrate needs --target"), "persist migrate %s --source LOC --target LOC", o.Name)
	}
	if o.Source == "" {
		again := func(store string) string {
			return command("migrate", append([]string{"--target " + location.ForShell(o.Target)}, o.LoadFlags.args()...), store)
		}
		var err error
		if o.Source, err = storeLocation(ctx, o.Name, again, makeStore); err != nil {
			return err
		}
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.LoadFlags.Store == "" {
		o.LoadFlags.Store = storeFlag(o.Target, o.Name)
	}
	if err := rejectsOutput(ctx, o.Rejects, st.Stdout); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.Source, o.Target}, cli.Named{What: "--rejects", Path: o.Rejects}); err != nil {
		return err
	}
	start := time.Now()
	// One bar over records and events, drawn in place; off a terminal,
	// with --progress, a line every few seconds.
	bar := newBar(st, o.Common, "migrating")
	defer bar.Finish()
	var rejects *cli.Output
	warn := warner(st, o.Common, "persist", "")
	lo := loadOptions(o.LoadFlags, nil, warn)
	if o.Rejects != "" {
		var err error
		if rejects, err = cli.CreateRejects(o.Rejects, st.Stdout); err != nil {
			return err
		}
		defer rejects.Abort()
		lo.Rejects = rejects
	}
	var loaded persist.LoadResult
	res, err := persist.Migrate(ctx, o.Source, o.Target, persist.MigrateOptions{
		BatchSize: o.BatchSize, OnProgress: bar.progress, OnLoaded: func(r persist.LoadResult) { loaded = r },
		Source: persist.ReadOptions{Store: storeFlag(o.Source, o.Name), Stdin: st.Stdin},
		Load:   lo,
	})
	bar.Finish()
	if rejects != nil {
		if cerr := rejects.Commit(); cerr != nil && err == nil {
			err = cerr
		}
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources = []cli.Side{counted(readSide(o.Source, o.Name), res.Records, res.Events, res.Sum)}
		if res.Sum != "" {
			r.Sum = cli.Ptr(res.Sum)
		}
		if loaded.Target != "" {
			addLoad(r, &loaded)
		}
	})
	if err := namedUpgrade(ctx, loadEnd(loaded, err, o.LoadFlags, warn), loaded.Store, loaded.Target); err != nil {
		return err
	}
	if err := notACopy(ctx, warn, res, loaded, o); err != nil {
		return err
	}
	if cli.ShowSummary(o.Common, st.Stderr) {
		fmt.Fprintf(st.Stderr, "persist: %s\n", hint.Printable(fmt.Sprintf("migrated %s from %s to %s: %d records, %d events in %s (%s)",
			o.Name, location.Redact(o.Source), loaded.Target, res.Records, res.Events, time.Since(start).Round(time.Millisecond), resultLine(&loaded))))
	}
	return nil
}
