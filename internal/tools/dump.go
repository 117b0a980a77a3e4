package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
)

// DumpOptions are persist-dump's flags.
type DumpOptions struct {
	cli.Common
	Select
	Location   string
	Store      string
	Output     string
	Since      string // a delta of what changed after this cursor
	CursorFile string // the since to read when it exists, and where the new cursor goes
	NoCursor   bool   // no cursor in the trailer
}

// Dump writes a consistent snapshot of a store as a stream: all of it, or
// with a since what changed after the dump that made that cursor.
func Dump(ctx context.Context, st Stdio, o DumpOptions) error {
	return streamHint(dump(ctx, st, o), false)
}

func dump(ctx context.Context, st Stdio, o DumpOptions) error {
	name := program(ctx, "persist-dump")
	start := time.Now()
	if err := cli.CheckOutputName(o.Output); err != nil {
		return err
	}
	if err := o.Select.Check(); err != nil {
		return err
	}
	var err error
	if o.Output, err = streamOutput(ctx, o.Output); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.Location}, cli.Named{What: "-o", Path: o.Output},
		cli.Named{What: "--cursor-file", Path: o.CursorFile}); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources = []cli.Side{readSide(o.Location, o.Store)}
		r.Output = cli.Ptr(o.Output)
	})
	since, release, err := o.start(st)
	if err != nil {
		return err
	}
	defer release()
	src, err := persist.OpenSource(ctx, o.Location, persist.ReadOptions{Store: o.Store, StreamStore: true, Filter: o.Filter(), Since: since,
		NoCursor: o.NoCursor, Stdin: st.Stdin})
	if errors.Is(err, persist.ErrLocation) && len(hint.All(err)) == 0 {
		return cli.Hint(err, "a store is sqlite:PATH or postgres://…; see persist-dump --help")
	}
	if err != nil {
		return err
	}
	defer src.Close()
	cursor, err := o.checkCursor(ctx, src)
	if err != nil {
		return err
	}
	// The new cursor's file is made (a new file, not yet in place) before a
	// byte of the dump is written: a cursor that cannot be kept fails the
	// dump at once, not after it looked complete.
	var next *cli.Output
	if o.CursorFile != "" {
		if next, err = createCursorFile(o.CursorFile); err != nil {
			return err
		}
		defer next.Abort()
	}
	out, err := cli.CreateOutput(o.Output, st.Stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	bar := newBar(st, o.Common, "dumping")
	res, err := src.Dump(ctx, out, bar.progress)
	bar.Finish()
	if err != nil {
		return o.cursorHint(err, src)
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Records, r.Events, r.Sum = res.Records, res.Events, cli.Ptr(res.Sum)
		r.Sources = []cli.Side{counted(readSide(src.Location(), src.Store()), res.Records, res.Events, res.Sum)}
	})
	warnMissing(warner(st, o.Common, name, ""), src)
	if err := finish(out, next, cursor, st.Stdout, o); err != nil {
		return err
	}
	d := time.Since(start)
	what := fmt.Sprintf("dumped %d records and %d events from %s", res.Records, res.Events, storeName(src))
	if since != "" {
		what = fmt.Sprintf("dumped %d records and %d events changed since the cursor from %s", res.Records, res.Events, storeName(src))
	}
	summary(st, o.Common, name, what, d.Round(time.Millisecond).String(), cli.Rate(res.Records+res.Events, d))
	return nil
}

func storeName(s *persist.Source) string {
	if s.Store() != "" && s.IsStore() {
		return s.Location() + " (store " + s.Store() + ")"
	}
	return s.Location()
}

// bar is a progress display fed by the API's progress callbacks: it is
// drawn once the first callback tells the total.
type bar struct {
	st    Stdio
	c     cli.Common
	what  string
	p     *cli.Progress
	bytes func() (done, total int64) // see cli.Progress.Bytes
}

func newBar(st Stdio, c cli.Common, what string) *bar { return &bar{st: st, c: c, what: what} }

func (b *bar) progress(p persist.Progress) {
	if b.p == nil {
		b.p = cli.NewProgress(b.st.Stderr, cli.ShowProgress(b.c, b.st.Stdout, b.st.Stderr), p.Total, b.what)
		if b.bytes != nil {
			b.p.Bytes(b.bytes)
		}
	}
	b.p.Total(p.Completed, p.Total)
}

// Finish clears the bar, or writes its last line.
func (b *bar) Finish() {
	if b.p != nil {
		b.p.Finish()
	}
}

// start is where the dump starts (since), with its cursor file held until
// release.
func (o DumpOptions) start(st Stdio) (since string, release func(), err error) {
	if release, err = o.holdCursor(st); err != nil {
		return "", nil, err
	}
	if since, err = o.since(); err != nil {
		release()
		return "", nil, err
	}
	return since, release, nil
}

// holdCursor readies a dump with --cursor-file: its stdout must lead
// somewhere (cli.CheckCursorStdout), and the file is held until the next
// cursor is in place (holdCursorFile).
func (o DumpOptions) holdCursor(st Stdio) (release func(), err error) {
	if o.CursorFile == "" || o.Since != "" || o.NoCursor {
		return func() {}, nil // nothing to hold, or refused by since with its reason
	}
	if toStdout(o.Output) {
		if err := cli.CheckCursorStdout(st.Stdout); err != nil {
			return nil, err
		}
	}
	if err := checkCursorFile(o.CursorFile); err != nil {
		return nil, err
	}
	return holdCursorFile(o.CursorFile)
}

// toStdout reports whether -o names the standard output: none, "-", or
// one of the paths that open the process's descriptor 1.
func toStdout(output string) bool { return output == "" || cli.StdoutName(output) }

// streamOutput readies the -o of a command that writes a stream: standard
// output under any of its own names is written as "-" is (another name of
// the file the shell opened is not: -o F >> F would append a second stream
// to F, and guard refuses it), and a stream there leaves no room for
// --summary.
func streamOutput(ctx context.Context, output string) (string, error) {
	if !toStdout(output) {
		return output, nil
	}
	return "-", report(ctx).ToStdout("the stream")
}

// rejectsOutput refuses, where --rejects goes to standard output, a
// --summary there too.
func rejectsOutput(ctx context.Context, rejects string, stdout io.Writer) error {
	if !cli.OnStdout(rejects, stdout) {
		return nil
	}
	return report(ctx).ToStdout("the rejected lines (--rejects " + rejects + ")")
}

// warnMissing warns of the names a filter gave that a delta did not hold:
// no error, as nothing may have changed there, but maybe a typo.
func warnMissing(warn func(string), src *persist.Source) {
	if m := src.Missing(); len(m) > 0 && warn != nil {
		warn(fmt.Sprintf("%s is a delta with no %s: nothing there changed, or the name is mistyped", src.Location(), strings.Join(m, " and no ")))
	}
}
