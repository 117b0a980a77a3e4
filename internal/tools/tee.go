package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
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
	if err := report(ctx).ToStdout("the stream"); err != nil {
		return err
	}
	if o.Rejects == "-" {
		return cli.Hint(errors.New("--rejects - would mix rejected lines into the stream on stdout"), "give --rejects a file name")
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
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type target struct {
		name string
		pw   *io.PipeWriter
		res  *persist.LoadResult
		err  error
		// stopped: the target failed after another target's failure
		// stopped everything, so its error says nothing of its own.
		stopped bool
	}
	targets := make([]*target, len(o.Locations))
	var wg sync.WaitGroup
	for i, raw := range o.Locations {
		pr, pw := io.Pipe()
		t := &target{name: location.Redact(raw), pw: pw}
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
			t.res, t.err = loadInto(ctx, st, o.LoadFlags, raw, pr, progress, warner(st, o.Common, name, "target "+t.name+": "))
			if len(o.Locations) > 1 {
				t.err = rejectsHint(t.err, o.LoadFlags, raw)
			}
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
	copyErr := teeCopy(ctx, st, pipes)
	if copyErr != nil {
		// The input failed: that is the cause, not each target's end.
		cancel(copyErr)
	}
	for _, t := range targets {
		t.pw.CloseWithError(copyErr)
	}
	wg.Wait()

	var errs, stopped []error
	for _, t := range targets {
		if t.res != nil {
			report(ctx).Update(func(r *cli.Result) { addLoad(r, t.res) })
		}
		if t.res != nil && t.res.Store != "" {
			summary(st, o.Common, name, resultLine(t.res))
		}
		switch {
		case t.err == nil:
		case t.stopped || errors.Is(t.err, context.Canceled):
			stopped = append(stopped, t.err)
		default:
			errs = append(errs, t.err)
		}
	}
	// A target stopped because another failed (or the input did) has
	// nothing to say of its own: the cause is reported, and only it.
	switch {
	case len(errs) > 0:
		return errors.Join(errs...)
	case copyErr != nil && !errors.Is(copyErr, context.Canceled):
		return copyErr
	case len(stopped) > 0:
		return errors.Join(stopped...)
	}
	return nil
}

var errTargetDone = errors.New("target stopped reading")

// rejectsHint puts, in place of persist-load's "use --rejects FILE" on a
// line the target cannot take, what works with several targets: persist-tee
// refuses --rejects there, as the rejects of all would mix in one file, so
// the target that rejects is loaded on its own with a file of its own.
func rejectsHint(err error, f LoadFlags, target string) error {
	if f.Rejects != "" || !errors.Is(err, persist.ErrRejected) && !errors.Is(err, persist.ErrUnsupported) {
		return err
	}
	args := append([]string{"persist-load"}, f.args()...)
	args = append(args, "--rejects", "FILE", location.ForShell(target))
	return cli.Hint(withoutHint(err, "--rejects FILE"),
		"persist-tee takes --rejects with one target only: load this target on its own, %s < STREAM%s, "+
			"and the other targets with persist-tee as before", strings.Join(args, " "), passwordNote(target))
}

// withoutHint is err without the hints at its top that contain text; the
// others keep their order. The hints a load adds wrap its error last, so
// the one to drop is among the layers that add a hint and nothing else.
func withoutHint(err error, text string) error {
	var kept []string
	for {
		hs := hint.All(err)
		inner := errors.Unwrap(err)
		if len(hs) == 0 || inner == nil || inner.Error() != err.Error() || len(hint.All(inner)) != len(hs)-1 {
			break
		}
		if !strings.Contains(hs[0], text) {
			kept = append(kept, hs[0])
		}
		err = inner
	}
	for i := len(kept) - 1; i >= 0; i-- {
		err = cli.Hint(err, "%s", kept[i])
	}
	return err
}

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
func teeCopy(ctx context.Context, st Stdio, pipes []*io.PipeWriter) error {
	buf := make([]byte, 256<<10)
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		n, rerr := st.Stdin.Read(buf)
		if n > 0 {
			if _, err := st.Stdout.Write(buf[:n]); err != nil {
				return fmt.Errorf("stdout: %w", err)
			}
			for _, pw := range pipes {
				if _, err := pw.Write(buf[:n]); err != nil {
					if c := context.Cause(ctx); c != nil {
						return c
					}
					return err
				}
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
