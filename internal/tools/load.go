package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// LoadFlags are the flags persist-load and persist-tee share.
type LoadFlags struct {
	Store         string         `help:"The store to load into (same as #NAME). Default: the only store there, else the stream header's store, else \"default\"." placeholder:"NAME"`
	Mode          string         `default:"merge" enum:"merge,replace" help:"merge: by version (see docs/persist-load.md); replace: the store becomes exactly the stream, atomically."`
	Atomic        bool           `help:"Load everything in one transaction: all or nothing."`
	BatchSize     int            `default:"0" help:"Items per transaction (0: the default, 5000)." placeholder:"N"`
	RetryFor      *time.Duration `help:"Retry a batch after a transient failure (lost connection, server restart or failover, busy database) for up to DURATION (default 2m) after its first failure, waiting longer each time (up to about 5s); each retry says why on stderr. 0: never retry." placeholder:"DURATION"`
	Retries       *int           `help:"Also stop retrying a batch after N retries (0: never retry). Default: as many as --retry-for allows." placeholder:"N"`
	Rejects       string         `help:"Write lines the store cannot take to FILE (JSONL: line, reason, raw) and go on; without it the load stops at the first one." placeholder:"FILE"`
	IgnoreTrailer bool           `help:"Accept a stream whose trailer no longer matches (edited on purpose); a stream cut short is still refused."`
	IgnoreSince   bool           `help:"Load a delta even when it does not follow the last dump of its store loaded here (see docs/persist-load.md)."`
	NoVerify      bool           `help:"Skip reading back each batch before it commits (faster, less safe)."`

	// teeTarget is the target's location when the load is one of several
	// persist-tee runs at once, which refuses --rejects: its hints name
	// the per-target load instead.
	teeTarget string
	// claim is persist.LoadOptions.Claim.
	claim func(store string) error
}

// args are the flags as a command line would give them, those left at
// their defaults left out: a hint that shows the command again must do
// what this one was asked to (replace, not merge).
func (f LoadFlags) args() []string {
	var a []string
	add := func(on bool, flag string) {
		if on {
			a = append(a, flag)
		}
	}
	add(f.Store != "", "--store "+location.ShellQuote(f.Store))
	add(f.Mode == "replace", "--mode replace")
	add(f.Atomic, "--atomic")
	add(f.BatchSize > 0, fmt.Sprintf("--batch-size %d", f.BatchSize))
	if f.RetryFor != nil {
		a = append(a, "--retry-for "+f.RetryFor.String())
	}
	if f.Retries != nil {
		a = append(a, fmt.Sprintf("--retries %d", *f.Retries))
	}
	add(f.Rejects != "", "--rejects "+location.ShellQuote(f.Rejects))
	add(f.IgnoreTrailer, "--ignore-trailer")
	add(f.IgnoreSince, "--ignore-since")
	add(f.NoVerify, "--no-verify")
	return a
}

// check refuses flag values that cannot be honoured, before anything is
// read or written.
func (f LoadFlags) check() error {
	switch {
	case f.BatchSize < 0:
		return cli.Hint(fmt.Errorf("--batch-size %d: must be 0 (the default) or more", f.BatchSize), "--batch-size 5000")
	case f.RetryFor != nil && *f.RetryFor < 0:
		return cli.Hint(fmt.Errorf("--retry-for %s: must be 0 (no retries) or more", *f.RetryFor), "--retry-for 2m")
	case f.Retries != nil && *f.Retries < 0:
		return cli.Hint(fmt.Errorf("--retries %d: must be 0 (no retries) or more", *f.Retries),
			"leave --retries out: --retry-for (2 minutes) bounds the retries")
	}
	return cli.CheckOutputName(f.Rejects)
}

// LoadOptions are persist-load's flags.
type LoadOptions struct {
	cli.Common
	LoadFlags
	Location string
	Input    string
}

// Load loads a stream into a store.
func Load(ctx context.Context, st Stdio, o LoadOptions) error {
	name := program(ctx, "persist-load")
	if err := o.check(); err != nil {
		return err
	}
	if err := rejectsOutput(ctx, o.Rejects, st.Stdout); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.Location, o.Input}, cli.Named{What: "--rejects", Path: o.Rejects}); err != nil {
		return err
	}
	var in io.Reader = st.Stdin
	if o.Input != "-" && o.Input != "" {
		f, err := source.OpenFile(ctx, o.Input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	b := newBar(st, o.Common, "loading")
	in, b.bytes = countInput(in)
	res, err := loadInto(ctx, st, o.LoadFlags, o.Location, in, b.progress, warner(st, o.Common, name, ""))
	b.Finish()
	report(ctx).Update(func(r *cli.Result) {
		input := o.Input
		if input == "" {
			input = "-"
		}
		r.Sources = []cli.Side{readSide(input, "")}
		if res != nil {
			r.Sources[0] = readSide(input, res.StreamStore)
			addLoad(r, res)
		}
	})
	if res != nil && res.Store != "" {
		summary(st, o.Common, name, resultLine(res))
	}
	return err
}

// countInput counts the bytes read from in, so that a load without counts
// in its header still knows how far through a file of known size it is
// (compressed or not: the file's own bytes are counted).
func countInput(in io.Reader) (io.Reader, func() (done, total int64)) {
	f, ok := in.(*os.File)
	if !ok {
		return in, nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return in, nil
	}
	c := &countingReader{r: in}
	size := st.Size()
	return c, func() (int64, int64) { return c.n.Load(), size }
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// resultLine is a load's summary.
func resultLine(r *persist.LoadResult) string {
	target := r.Target
	if r.Store != "" {
		target += " (store " + r.Store + ")"
	}
	return fmt.Sprintf("%s: %d written, %d unchanged, %d stale, %d conflicts, %d rejects; %d events written, %d unchanged; %d removed; %d retries; %s, %s",
		target, r.Written, r.Unchanged, r.Stale, r.Conflicts, r.Rejects, r.Events, r.EventsUnchanged, r.Removed, r.Retries,
		r.Elapsed.Round(time.Millisecond), cli.Rate(r.Lines, r.Elapsed))
}

// loadInto loads the stream in into the store at target, with the flags'
// options; progress, when not nil, follows it; warn, when not nil, is told
// of each retry and of events appended.
func loadInto(ctx context.Context, st Stdio, f LoadFlags, target string, in io.Reader,
	progress func(persist.Progress), warn func(string)) (*persist.LoadResult, error) {
	opt := loadOptions(f, progress, warn)
	var rejects *cli.Output
	counted := &countingWriter{}
	if f.Rejects != "" {
		var err error
		if rejects, err = cli.CreateRejects(f.Rejects, st.Stdout); err != nil {
			return nil, err
		}
		counted.w = rejects
		defer rejects.Abort()
		opt.Rejects = counted
	}
	res, err := persist.Load(ctx, in, target, opt)
	if rejects != nil {
		// Rejects are kept even when the load stops: they say why.
		if cerr := rejects.Commit(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if errors.Is(err, persist.ErrRejected) && f.Rejects != "" && counted.n == 0 {
		// Nothing went to the rejects: a patch sets no line aside. The
		// hint must not send the user to an empty file.
		return &res, cli.Hint(err, "no line was set aside in %s: %s", f.Rejects, patchRejected(err))
	}
	return &res, namedUpgrade(ctx, loadEnd(res, err, f, warn), res.Store, res.Target)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// loadEnd is what a load ends with: err with its hints, and a warning when
// the load relied on appending events.
func loadEnd(res persist.LoadResult, err error, f LoadFlags, warn func(string)) error {
	if err != nil {
		return appendedHint(loadHint(err, f, res), res)
	}
	if warn != nil && res.PatchApplied {
		warn("the patch is applied already: the store holds what it makes, and nothing was written")
	}
	if warn != nil && res.LoadedAlready {
		warn("the delta was loaded already: it ends where the last stream of its store loaded here ended, and nothing was written")
	}
	if warn != nil && res.Appended > 0 {
		warn(fmt.Sprintf("%s without seq appended to their streams (%s); a rerun of the same lines appends them again",
			plural(res.Appended, "event"), lineSpan(res.AppendedFirst, res.AppendedLast)))
	}
	if warn != nil && res.Chained && res.Stale > 0 {
		// A delta carries each record as its source had it at its end:
		// one newer here came from a later dump of the source (a chain
		// loaded again, a copy made ahead), or from outside the chain.
		warn(fmt.Sprintf("%s of this delta the store holds in a newer version than its source had at the delta's end (the first "+
			"at line %d), and kept: loaded before from a later dump of the source, or written outside the chain; "+
			"persist-diff SOURCE COPY shows whether the store is its source's copy", plural(res.Stale, "record"), res.FirstStale))
	}
	return nil
}

// loadOptions are the API's load options the flags ask for (but the
// rejects file, which the caller opens).
func loadOptions(f LoadFlags, progress func(persist.Progress), warn func(string)) persist.LoadOptions {
	opt := persist.LoadOptions{
		Store:         f.Store,
		Atomic:        f.Atomic,
		BatchSize:     f.BatchSize,
		IgnoreTrailer: f.IgnoreTrailer,
		IgnoreSince:   f.IgnoreSince,
		NoVerify:      f.NoVerify,
		OnProgress:    progress,
		Claim:         f.claim,
	}
	// The API reads 0 as "the default", and a negative value as "none".
	if f.RetryFor != nil {
		opt.RetryFor = *f.RetryFor
		if opt.RetryFor == 0 {
			opt.RetryFor = -1
		}
	}
	if f.Retries != nil {
		opt.Retries = *f.Retries
		if opt.Retries == 0 {
			opt.Retries = -1
		}
	}
	if warn != nil {
		opt.OnRetry = func(r persist.Retry) { warn(retryLine(r)) }
	}
	if f.Mode == "replace" {
		opt.Mode = persist.Replace
	}
	return opt
}

func loadHint(err error, f LoadFlags, res persist.LoadResult) error {
	none := nothingKept(f, res)
	switch {
	case errors.Is(err, persist.ErrFull):
		return fullHint(err, none)
	case errors.Is(err, persist.ErrStoreName):
		return cli.Hint(err, "nothing was written; name a shorter store (LOCATION#NAME or --store NAME), of PostgreSQL text: no NUL byte, valid UTF-8")
	case errors.Is(err, persist.ErrGaveUp):
		return gaveUpHint(err, none)
	case errors.Is(err, persist.ErrPatchTarget) && len(hint.All(err)) == 0:
		return cli.Hint(err, "the store changed since the patch was made: re-run persist-diff --patch against it and load the new patch")
	case errors.Is(err, persist.ErrNoInput):
		return cli.Hint(err, "did the command before it in the pipeline fail? A stream with nothing to load still has a header: persist-dump writes one")
	case (errors.Is(err, persist.ErrTrailer) || errors.Is(err, persist.ErrHeader)) && res.Patch:
		return cli.Hint(err, "a patch is applied exactly as made, and nothing was written: make it again, from the store as it should be: "+
			"persist-diff --patch GOOD STORE | persist-load STORE")
	case errors.Is(err, persist.ErrHeader):
		return cli.Hint(err, "the items match the trailer: the header is another stream's, or was edited, or the dump that wrote it "+
			"read its store only in part (an earlier release did not check a damaged file); if the header was edited on purpose, "+
			"seal the stream again (persist-seal writes a header and a trailer of its own), or load it with --ignore-trailer; "+
			"otherwise dump the store again, which this release refuses to do from a damaged file")
	}
	return inputHint(err, f, res, none)
}

// inputHint is loadHint for what the input holds: a stream that does not
// match its trailer, cut short, unreadable, with lines set aside or out
// of place.
func inputHint(err error, f LoadFlags, res persist.LoadResult, none string) error {
	switch {
	case errors.Is(err, persist.ErrTrailer):
		return trailerHint(err, none, res.Batches)
	case errors.Is(err, persist.ErrTruncated) && !record.CutShort(err):
		return truncatedHint(err, none)
	case errors.Is(err, persist.ErrRead):
		return readHint(err, none, res)
	case errors.Is(err, persist.ErrDiverged):
		return err // its own hint: setting the line aside would not mend the copy
	case errors.Is(err, persist.ErrRejected), errors.Is(err, persist.ErrUnsupported):
		return rejectedHint(err, f, res)
	case errors.Is(err, persist.ErrPlacement), errors.Is(err, persist.ErrFrame):
		// A line after the trailer, or a header or trailer that cannot be
		// read: the items before it may be in, but the trailer's check
		// comes at the end of the input.
		return namedHint(err, none)
	}
	return keptHint(err, none, res)
}

// keptHint says, of a load that failed for a cause the input does not
// hold (the database refused or cut short a write), that the batches
// committed before stay, and that the same command finishes the job once
// what failed is mended.
//
// Not where the batches appended events without seq: a rerun appends
// them again, and appendedHint says what to load instead.
func keptHint(err error, none string, res persist.LoadResult) error {
	if none != "" || res.Batches == 0 || res.Appended > 0 {
		return err
	}
	batches := fmt.Sprintf("the %d batches committed before it stay", res.Batches)
	if res.Batches == 1 {
		batches = "the batch committed before it stays"
	}
	return cli.Hint(err, "%s (%s and %s written): once what failed is mended, the same command (the whole pipeline, for a "+
		"stream on standard input) finishes the job, what is there counting as unchanged", batches, plural(res.Written, "record"), plural(res.Events, "event"))
}

// nothingKept says that a load that failed left nothing in the store, and
// why: one transaction, or a database made aside; "" where the batches
// committed before stay.
func nothingKept(f LoadFlags, res persist.LoadResult) string {
	switch {
	case f.Atomic || f.Mode == "replace" || res.Patch:
		return "nothing was written (one transaction)"
	case res.Made:
		return "nothing was written (a database the load makes is put in place once loaded whole)"
	}
	return ""
}

func gaveUpHint(err error, none string) error {
	if none != "" {
		return cli.Hint(err, "%s; once the database is back, run the same load again", none)
	}
	return cli.Hint(err, "batches committed before stay; once the database is back, run the same load again to finish the job, "+
		"or give the next one longer with --retry-for")
}

// fullHint, gaveUpHint, trailerHint and truncatedHint say what the store holds after
// the load failed: none says that it holds nothing of it, and why; "" that
// the batches committed before stay.
func fullHint(err error, none string) error {
	if none != "" {
		return cli.Hint(err, "free space on that disk (or load onto a larger one), then run the same command again: %s", none)
	}
	return cli.Hint(err, "free space on that disk (or load onto a larger one), then run the same command again (the whole pipeline, for a stream on standard input): "+
		"the batches committed before stay, and count as unchanged")
}

func trailerHint(err error, none string, batches int64) error {
	if none != "" {
		return cli.Hint(cli.Hint(editedOnPurpose(err, true), editedHint),
			"%s: the stream is kept only once it matches its trailer", none)
	}
	if batches == 0 {
		// All of it was still in the batch being read: nothing to put back.
		return cli.Hint(cli.Hint(editedOnPurpose(err, true), editedHint),
			"nothing was written: no batch had committed when the trailer was read")
	}
	// What the batches before committed came from a stream that its
	// trailer does not vouch for: a rerun of a good copy cannot put back
	// what they changed (same versions, other content).
	return cli.Hint(cli.Hint(cli.Hint(editedOnPurpose(err, true), editedHint),
		"--atomic commits nothing unless the stream matches its trailer"),
		"the batches committed before this stay, with lines the trailer does not vouch for: to put the store back, load a good copy of the whole store with --mode replace, or the right lines with a patch (persist-diff --patch GOOD STORE | persist-load STORE)")
}

// readHint says what the store holds after its input could not be read
// past a line (a compressed stream cut short or damaged).
func readHint(err error, none string, res persist.LoadResult) error {
	switch {
	case none != "":
		return cli.Hint(err, "%s: load a whole copy of the stream", none)
	case res.Batches == 0:
		return cli.Hint(err, "nothing was loaded: load a whole copy of the stream")
	}
	return cli.Hint(err, "batches committed so far stay, and loading a whole copy of the stream finishes the job (this one cannot be read past that line)")
}

func truncatedHint(err error, none string) error {
	return cutShortHint(cli.Hint(err, "or a filter dropped its trailer: %s", sealHint), none)
}

// cutShortHint says what the store holds after a stream cut short: a
// last line cut in two is no filter's doing.
func cutShortHint(err error, none string) error {
	if none != "" {
		return cli.Hint(err, "the stream was cut short; %s: load the whole stream", none)
	}
	return cli.Hint(err, "the stream was cut short; batches committed so far stay, and rerunning the full stream finishes the job")
}

// namedHint says what the store holds after a line whose error names its
// cause and how to mend it.
func namedHint(err error, none string) error {
	if none != "" {
		return cli.Hint(err, "%s: mend the stream as the message says, and load it again", none)
	}
	return cli.Hint(err, "batches committed before the line stay: mend the stream as the message says, and run the load again to finish the job")
}

func rejectedHint(err error, f LoadFlags, res persist.LoadResult) error {
	var le *record.LineError
	named := errors.As(err, &le) && record.CauseNamed(le.Err)
	switch {
	case errors.Is(err, persist.ErrRejected) && f.Rejects != "":
		return cli.Hint(err, "see %s for each rejected line and its reason", f.Rejects)
	case named && record.CutShort(le.Err):
		return cutShortHint(err, nothingKept(f, res))
	case named:
		// It says what made the line so, and how to mend it: setting it
		// aside would not; what is left to say is what the store holds.
		return namedHint(err, nothingKept(f, res))
	case res.Patch:
		return cli.Hint(err, "%s", patchRejected(err))
	case f.teeTarget != "":
		return cli.Hint(err, "persist-tee takes --rejects with one target only: load this target on its own, %s < STREAM%s, "+
			"and the other targets with persist-tee as before",
			strings.Join(slices.Concat([]string{"persist-load"}, f.args(), []string{"--rejects", "FILE", location.ForShell(f.teeTarget)}), " "),
			passwordNote(f.teeTarget))
	}
	if errors.As(err, &le) && le.Line == 1 && errors.Is(le.Err, record.ErrSyntax) {
		// Not a stream's line at all: setting it aside would set aside
		// every "line" of a database or of bytes compressed twice.
		return cli.Hint(err, "line 1 is not JSON: is the input a stream? A SQLite database is read with persist-dump "+
			"(persist-dump sqlite:FILE | persist-load …), and a stream compressed twice is uncompressed once first "+
			"(zstd -dc FILE | persist-load …); --rejects FILE sets aside lines of a stream that are not")
	}
	return cli.Hint(err, "use --rejects FILE to set such lines aside and load the rest")
}

// patchRejected is what to do about a patch a line of which was refused:
// one with items the store cannot hold holds them again when made again.
func patchRejected(err error) string {
	if errors.Is(err, persist.ErrUnsupported) {
		return "a patch applies whole or not at all, and nothing was written; this one carries items the store cannot hold, " +
			"so no patch makes the store equal to its source: remove those items from the source and make the patch again, " +
			"or replace the store with the source but those items: persist-dump SOURCE | persist-load STORE --mode replace --rejects FILE (the store then lacks what FILE lists)"
	}
	return "a patch applies whole or not at all, and nothing was written; make the patch again (persist-diff --patch A B) and load it as it was made"
}

// editedHint is how to load a stream edited on purpose.
const editedHint = "to load a stream edited on purpose, add --ignore-trailer, or seal the edited stream again with persist-seal"

// sealHint is how to filter a stream and keep it checked end to end.
const sealHint = `keep the header and trailer lines in the filter and seal the result: jq -c 'select(.kind == "header" or .kind == "trailer" or …)' | persist-seal`

// streamHint says what to do about a stream a reading tool refused; an
// error that has its hints already keeps them.
func streamHint(err error, ignoreTrailer bool) error {
	if err == nil || len(hint.All(err)) > 0 {
		return err
	}
	switch {
	case errors.Is(err, persist.ErrTrailer):
		return editedOnPurpose(err, ignoreTrailer)
	case errors.Is(err, persist.ErrTruncated) && !record.CutShort(err):
		return cli.Hint(err, "if a filter dropped the trailer, %s; if the stream was cut short, make it again", sealHint)
	case errors.Is(err, persist.ErrPatch):
		return cli.Hint(err, "a patch repairs a store: load it with persist-load STORE < PATCH")
	case errors.Is(err, persist.ErrNoInput):
		return cli.Hint(err, "did the command before it in the pipeline fail? Even a stream with no items has a header and a trailer: persist-dump writes them")
	}
	return err
}

// editedOnPurpose says, on the error's own line, how a stream edited on
// purpose is read: the API's error names no flag, the command's does, if
// it has --ignore-trailer.
func editedOnPurpose(err error, ignoreTrailer bool) error {
	if !ignoreTrailer {
		return fmt.Errorf("%w; if it was edited on purpose, seal it again: … | persist-seal | …", err)
	}
	return fmt.Errorf("%w; if it was edited on purpose, add --ignore-trailer, or seal it again: … | persist-seal | …", err)
}

// retryLine is what a retry says on stderr: which lines, why, and what next.
func retryLine(r persist.Retry) string {
	what := "the load's transaction"
	if r.First > 0 {
		what = fmt.Sprintf("batch of lines %d-%d", r.First, r.Last)
	}
	if r.Wait == 0 {
		return fmt.Sprintf("%s: %v; attempt %d once the batch before has committed", what, r.Err, r.Attempt)
	}
	next := fmt.Sprintf("retrying for up to %s more", r.Left.Round(time.Second))
	if r.Left <= 0 {
		next = "the last one within --retry-for"
	}
	return fmt.Sprintf("%s: %v; attempt %d in %s (%s)", what, r.Err, r.Attempt, r.Wait.Round(time.Millisecond), next)
}

// appendedHint adds to the error of a load that stopped after appending
// events how to finish the job without appending them twice.
func appendedHint(err error, res persist.LoadResult) error {
	if res.Appended == 0 {
		return err
	}
	return cli.Hint(err, "the batches committed appended %s without seq (%s), which a rerun appends again: "+
		"to finish the job, load only the lines after line %d (tail -n +%d), with --ignore-trailer: a trailer vouches for the whole stream, not its tail",
		plural(res.Appended, "event"), lineSpan(res.AppendedFirst, res.AppendedLast), res.AppendedLast, res.AppendedLast+1)
}

func lineSpan(first, last int64) string {
	if first == last {
		return fmt.Sprintf("line %d", first)
	}
	return fmt.Sprintf("lines %d-%d", first, last)
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// warner returns what prints a tool's warnings on stderr, one line each,
// prefix (a target's name, for persist-tee) first; nil with -q, which
// leaves errors only. Writers retrying at once share it.
func warner(st Stdio, c cli.Common, name, prefix string) func(string) {
	if c.Quiet {
		return nil
	}
	// On a terminal the progress bar is redrawn on its own line: clear
	// it, or the warning would run on from it.
	clear := ""
	if f, ok := st.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		clear = "\r\x1b[K"
	}
	var mu sync.Mutex
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(st.Stderr, "%s%s: warning: %s%s\n", clear, name, hint.Printable(prefix), hint.Printable(msg))
	}
}
