package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// TeeOptions are persist-tee's flags.
type TeeOptions struct {
	cli.Common
	LoadFlags
	Locations []string
}

// Tee copies stdin to stdout byte for byte while loading it into every
// location concurrently. The first target that fails stops everything.
func Tee(ctx context.Context, st Stdio, o TeeOptions) error {
	const name = "persist-tee"
	if err := o.ready(ctx, st.Stdout); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	targets := make([]*teeTarget, len(o.Locations))
	claims := teeClaims{targets: o.Locations, by: map[string]int{}}
	var wg sync.WaitGroup
	for i, raw := range o.Locations {
		pr, pw := io.Pipe()
		t := &teeTarget{name: location.Redact(raw), pw: pw}
		targets[i] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Only the first target draws a bar; several would fight over the line.
			var progress func(persist.Progress)
			if i == 0 {
				b := newBar(st, o.Common, "loading")
				defer b.Finish()
				progress = b.progress
			}
			flags := o.LoadFlags
			if len(o.Locations) > 1 {
				flags.teeTarget = raw
				flags.claim = claims.claim(i)
			}
			t.res, t.err = loadInto(ctx, st, flags, raw, pr, progress, warner(st, o.Common, name, "target "+t.name+": "))
			if t.err == nil {
				// Drain what is left (nothing, for a well-formed stream) so
				// the copy never blocks on a finished target.
				_, t.err = io.Copy(io.Discard, pr)
			}
			if t.err != nil {
				t.stopped = context.Cause(ctx) != nil
				t.err = targetError(t.name, t.err)
				cancel(t.err)
			}
			pr.CloseWithError(errTargetDone)
		}()
	}

	pipes := make([]*io.PipeWriter, len(targets))
	for i, t := range targets {
		pipes[i] = t.pw
	}
	var tail heldLine
	copyErr := teeCopyUntil(ctx, st, pipes, &tail)
	if copyErr != nil {
		// The input failed: that is the cause, not each target's end.
		cancel(copyErr)
	}
	for _, t := range targets {
		t.pw.CloseWithError(copyErr)
	}
	wg.Wait()

	return endCopy(st, &tail, targets, copyErr, teeEnd(ctx, st, o, targets, copyErr))
}

// endCopy writes the end of the stream held back from stdout where every
// target holds the stream (but for lines it set aside, which its error
// says), and returns err, the tee's own, or else the write's.
func endCopy(st Stdio, tail *heldLine, targets []*teeTarget, copyErr, err error) error {
	if copyErr != nil || !holdAll(targets) {
		return err
	}
	if werr := tail.release(st.Stdout); werr != nil && err == nil {
		return fmt.Errorf("stdout: %w", werr)
	}
	return err
}

// holdAll reports whether every target read the stream to its end and
// committed it, but for the lines it set aside.
func holdAll(targets []*teeTarget) bool {
	for _, t := range targets {
		if t.err != nil && (t.res == nil || !t.res.Whole || !errors.Is(t.err, persist.ErrRejected)) {
			return false
		}
	}
	return true
}

// heldLine keeps back the last line written to standard output (the
// trailer, in a whole stream) until every target holds the stream: a
// target that fails at its first write (a database that cannot be opened,
// one read-only), found only once the stream has passed whole into a
// pipe's buffers, must not leave a whole stream on stdout, which a
// pipeline after persist-tee would take for a good copy. Without its last
// line, a reader refuses a stream as cut short, and a compressed one fails
// to decompress. A stream without a header vouches for nothing, and that
// it lacks a line nobody could tell: it passes whole.
type heldLine struct {
	buf    []byte
	framed int // 0: not known yet; 1: framed or compressed, held; -1: passed
}

// write writes p to w, but for the last line of what has come so far,
// complete or not, where the stream is held.
func (h *heldLine) write(w io.Writer, p []byte) error {
	if h.framed < 0 {
		_, err := w.Write(p)
		return err
	}
	// The held part has no newline but at its end: the search for the
	// next cut starts there, not at the start of a long line.
	from := max(len(h.buf)-1, 0)
	h.buf = append(h.buf, p...)
	if h.framed == 0 {
		if h.framed = framing(h.buf); h.framed < 0 {
			return h.release(w)
		}
		if h.framed == 0 {
			return nil
		}
		from = 0
	}
	end := len(h.buf)
	if h.buf[end-1] == '\n' {
		end--
	}
	i := bytes.LastIndexByte(h.buf[from:end], '\n')
	if i < 0 {
		return nil
	}
	i += from
	if _, err := w.Write(h.buf[:i+1]); err != nil {
		return err
	}
	h.buf = append(h.buf[:0], h.buf[i+1:]...)
	return nil
}

// release writes what is held.
func (h *heldLine) release(w io.Writer) error {
	_, err := w.Write(h.buf)
	h.buf = nil
	return err
}

// framing says, from the input's first bytes, whether its end is held: 1
// for a compressed input (zstd, gzip) or one whose first line is a
// header, -1 for any other, 0 while too little has come to tell.
func framing(b []byte) int {
	switch compressed, decided := record.Compressed(b); {
	case !decided:
		return 0
	case compressed:
		return 1
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) > 1<<20 {
			return -1 // no header is that long
		}
		return 0
	}
	var l struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(b[:i], &l) == nil && l.Kind == "header" {
		return 1
	}
	return -1
}

// teeEnd reports each target's load, and returns what failed: a target's
// own failure, else the input's, else what the others stopped with.
func teeEnd(ctx context.Context, st Stdio, o TeeOptions, targets []*teeTarget, copyErr error) error {
	var errs, stopped, kept []error
	report(ctx).Update(func(r *cli.Result) { r.Sources = []cli.Side{readSide("-", streamStore(targets))} })
	for _, t := range targets {
		if t.res != nil {
			res := t.reported()
			report(ctx).Update(func(r *cli.Result) { addLoad(r, res) })
		}
		if t.res != nil && t.res.Store != "" {
			summary(st, o.Common, "persist-tee", resultLine(t.reported()))
		}
		switch {
		case t.err == nil:
		case t.stopped || errors.Is(t.err, context.Canceled):
			stopped = append(stopped, t.err)
			kept = append(kept, t.kept()...)
		default:
			errs = append(errs, t.err)
		}
	}
	// A target stopped because another failed (or the input did) has
	// nothing to say of its own: the cause is reported, and after it what
	// each such target committed, which stays.
	switch {
	case len(errs) > 0:
		return errors.Join(append(errs, kept...)...)
	case copyErr != nil && !errors.Is(copyErr, context.Canceled):
		return errors.Join(append([]error{copyErr}, kept...)...)
	case len(stopped) > 0:
		return errors.Join(stopped...)
	}
	return nil
}

// kept says what a target stopped by another's failure committed before
// it stopped, where anything: the cause's own hint speaks of its target
// only (a new file there holds nothing, while this one keeps batches).
func (t *teeTarget) kept() []error {
	if t.res == nil || t.res.Written+t.res.Events+t.res.Removed == 0 {
		return nil
	}
	err := fmt.Errorf("target %s: stopped with the others; the %d records and %d events it committed stay", t.name, t.res.Written, t.res.Events)
	if t.res.Appended > 0 {
		return []error{appendedHint(err, *t.res)}
	}
	return []error{cli.Hint(err, "load the whole stream into it again (persist-load, or persist-tee with every target): "+
		"what it holds already is taken as unchanged")}
}

// ready refuses, before anything is read or written, what persist-tee
// cannot do as asked.
func (o TeeOptions) ready(ctx context.Context, stdout io.Writer) error {
	if err := report(ctx).ToStdout("the stream"); err != nil {
		return err
	}
	if cli.OnStdout(o.Rejects, stdout) {
		return cli.Hint(fmt.Errorf("--rejects %s would mix rejected lines into the stream on stdout", o.Rejects), "give --rejects a file name")
	}
	if err := o.check(); err != nil {
		return err
	}
	// persist-tee reads its stream from stdin ("-"), always.
	if err := guard(ctx, append(slices.Clone(o.Locations), "-"), cli.Named{What: "--rejects", Path: o.Rejects}); err != nil {
		return err
	}
	if o.Rejects != "" && len(o.Locations) > 1 {
		return cli.Hint(errors.New("--rejects with several targets would mix their rejects"), "tee into one target per --rejects, or drop --rejects")
	}
	if err := oneNewFileEach(o.Locations); err != nil {
		return err
	}
	return o.eachStoreOnce(ctx)
}

// eachStoreOnce asks each target's database, before a line is read and
// all at once, which store the target would write: a target that cannot
// be written (not a database, a server that does not answer) stops the
// tee before anything reaches stdout, and two targets that are one store
// are refused. A database not there yet says nothing, and is left to its
// load's claim.
func (o TeeOptions) eachStoreOnce(ctx context.Context) error {
	ids := make([]string, len(o.Locations))
	errs := make([]error, len(o.Locations))
	var wg sync.WaitGroup
	for i, raw := range o.Locations {
		wg.Go(func() { ids[i], errs[i] = persist.TargetIdentity(ctx, raw, o.Store) })
	}
	wg.Wait()
	for i, raw := range o.Locations {
		if errs[i] != nil {
			return targetError(location.Redact(raw), errs[i])
		}
		for first := range i {
			if err := apart(o.Locations[first], raw, ids[first], ids[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// apart refuses targets a and b whose store identities say, or cannot
// rule out, that they are one store (adapters.Relate).
func apart(a, b, ida, idb string) error {
	switch r, why := adapters.Relate(ida, idb); r {
	case adapters.Same:
		return namedTwice(a, b, ida[strings.IndexByte(ida, 0)+1:])
	case adapters.Unknown:
		return cli.Hint(fmt.Errorf("%w: targets %s and %s may be store %s of one database, which their connections cannot tell: "+
			"persist-tee would make one copy where two were asked for", persist.ErrSameStore, location.Redact(a), location.Redact(b),
			jsonQuote(ida[strings.IndexByte(ida, 0)+1:])), "%s", why)
	}
	return nil
}

// oneNewFileEach refuses two targets in one database file that does not
// exist yet: a load makes a new file aside and puts it in place at the
// end, so the second to finish would find the file the first made, and
// fail with one store written and the other not.
func oneNewFileEach(locations []string) error {
	seen := map[string]string{}
	for _, raw := range locations {
		files := location.Files(raw)
		if len(files) == 0 {
			continue
		}
		if _, err := os.Stat(files[0]); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		path := cli.Resolve(files[0])
		if first, ok := seen[path]; ok {
			l, _ := location.Parse(raw, true)
			if f, _ := location.Parse(first, true); f.Store == l.Store {
				return namedTwice(first, raw, l.Store)
			}
			return cli.Hint(fmt.Errorf("targets %s and %s are stores of one database file, %s, that does not exist yet: each load would make it on its own",
				location.Redact(first), location.Redact(raw), files[0]),
				"make it empty first, and run the same command again: an empty file is a database, into which each store is written in place: %stouch %s",
				mkdirFirst(l), location.ShellQuote(files[0]))
		}
		seen[path] = raw
	}
	return nil
}

// teeClaims refuses a second target that is a store an earlier one
// claimed, however differently the two name it: the stream would be
// loaded into it twice, one copy made where two were asked for.
type teeClaims struct {
	targets []string
	mu      sync.Mutex
	by      map[string]int // a store's identity: the target that claimed it
}

// claim is target i's LoadOptions.Claim.
func (c *teeClaims) claim(i int) func(string) error {
	return func(id string) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for claimed, first := range c.by {
			if err := apart(c.targets[min(i, first)], c.targets[max(i, first)], claimed, id); err != nil {
				return err
			}
		}
		c.by[id] = i
		return nil
	}
}

// namedTwice refuses targets a and b, which are store of one database
// (one store, where it is not known yet).
func namedTwice(a, b, store string) error {
	which := "one store"
	if store != "" {
		which = "store " + jsonQuote(store)
	}
	return cli.Hint(fmt.Errorf("%w: targets %s and %s are %s of one database: persist-tee would make one copy where two were asked for",
		persist.ErrSameStore, location.Redact(a), location.Redact(b), which),
		"name each store once: another database, or another store, for the second copy")
}

// teeTarget is one location persist-tee loads.
type teeTarget struct {
	name string
	pw   *io.PipeWriter
	res  *persist.LoadResult
	err  error
	// stopped: the target failed after another target's failure
	// stopped everything, so its error says nothing of its own.
	stopped bool
}

var errTargetDone = errors.New("target stopped reading")

// targetError names the target a failure is of: "target LOC: …", the
// location said once even where the error begins with it already.
func targetError(name string, err error) error {
	if strings.HasPrefix(err.Error(), name) {
		return &prefixed{prefix: "target ", err: err}
	}
	return &prefixed{prefix: "target " + name + ": ", err: err}
}

type prefixed struct {
	prefix string
	err    error
}

func (p *prefixed) Error() string { return p.prefix + p.err.Error() }
func (p *prefixed) Unwrap() error { return p.err }

// teeCopy copies stdin to stdout and to every target's pipe, chunk by chunk.
// teeCopyUntil is teeCopy, given up when ctx ends: a read of standard
// input that waits on a stalled producer cannot be cut short, and the
// targets must still end their batches and say what they committed. The
// copy, left behind, ends at its next read; it writes nothing more, to
// standard output or the targets, once given up (the gate).
func teeCopyUntil(ctx context.Context, st Stdio, pipes []*io.PipeWriter, tail *heldLine) error {
	var g gate
	copied := make(chan error, 1)
	go func() { copied <- teeCopy(ctx, st, pipes, &g, tail) }()
	select {
	case err := <-copied:
		return err
	case <-ctx.Done():
		g.close()
		return context.Cause(ctx)
	}
}

// gate lets the copy write while it is open; close waits for a write
// under way and keeps any other out.
type gate struct {
	mu     sync.Mutex
	closed bool
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// pass runs write unless the gate is closed, and reports whether it ran.
func (g *gate) pass(write func() error) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false, nil
	}
	return true, write()
}

func teeCopy(ctx context.Context, st Stdio, pipes []*io.PipeWriter, g *gate, tail *heldLine) error {
	buf := make([]byte, 256<<10)
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		n, rerr := st.Stdin.Read(buf)
		if n > 0 {
			open, err := g.pass(func() error { return teeWrite(ctx, st, pipes, buf[:n], tail) })
			if !open {
				return context.Cause(ctx)
			}
			if err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("stdin: %w", rerr)
		}
	}
}

// teeWrite writes one piece of the input to standard output (held back
// by tail) and to every target.
func teeWrite(ctx context.Context, st Stdio, pipes []*io.PipeWriter, p []byte, tail *heldLine) error {
	if err := tail.write(st.Stdout, p); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	for _, pw := range pipes {
		if _, err := pw.Write(p); err != nil {
			if c := context.Cause(ctx); c != nil {
				return c
			}
			return err
		}
	}
	return nil
}

// streamStore is the store the stream's header names, as the targets'
// loads read it ("" when none got that far).
func streamStore(targets []*teeTarget) string {
	for _, t := range targets {
		if t.res != nil && t.res.StreamStore != "" {
			return t.res.StreamStore
		}
	}
	return ""
}

// reported is the target's load as the summary counts it: one stopped
// because another target failed has no reject of its own (the line it
// stopped at is that target's).
func (t *teeTarget) reported() *persist.LoadResult {
	res := *t.res
	if t.stopped {
		res.Rejects = 0
	}
	return &res
}
