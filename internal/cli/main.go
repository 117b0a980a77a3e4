package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/sys/unix"

	"github.com/cuitty/persist/internal/hint"
)

// ErrInterrupted is the cause a command's context carries once a signal
// asked it to stop.
var ErrInterrupted = errors.New("interrupted")

// grace is how long a command may take to wind down after SIGINT or
// SIGTERM (roll back, remove temporary files) before it is left at once:
// a command blocked opening a FIFO nobody writes to, or waiting on a server
// that does not answer, must still end promptly.
const grace = 3 * time.Second

// Main is the whole life of a command: parse os.Args into grammar (kong
// struct tags), run do with a context cancelled by SIGINT or SIGTERM, and
// turn its error into a message on stderr and an exit status. command is
// kong's name of the chosen subcommand ("" for tools without any). The
// context carries the run's Summary (SummaryOf), written to --summary FILE
// when the command ends, whether it succeeded, failed or was interrupted.
func Main(name, description string, grammar any, do func(ctx context.Context, command string) error) int {
	failClosedStd()
	args := os.Args[1:]
	out := &checkedWriter{w: os.Stdout}
	if code, done := Extras(name, description, grammar, args, out, os.Stderr); done {
		return out.status(name, code)
	}
	kctx, code, done, usage := parse(name, description, grammar, args, out, os.Stderr)
	if done {
		if code != ExitOK {
			summaryOfUsageError(name, args, code, usage)
		}
		return out.status(name, code)
	}
	tool := toolName(name, kctx)
	widenPipe(0)
	sum, code, err := openSummary(name, summaryPath(kctx), tool)
	if err != nil {
		return code
	}
	start := stdoutOffset()
	return run(os.Stderr, name, func(ctx context.Context) error {
		if err := do(WithSummary(ctx, sum), kctx.Command()); err != nil {
			return err
		}
		return stdoutWhole(start)
	}, sum)
}

// checkedWriter keeps the first error of the writes through it: what the
// parser prints (--help, --version, a completion script, the man page)
// into a full disk is an error, not exit 0 with nothing written.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// status is code, or ExitTrouble, said on stderr, when a write failed.
func (c *checkedWriter) status(name string, code int) int {
	if c.err == nil || code != ExitOK {
		return code
	}
	return Report(os.Stderr, name, fmt.Errorf("write standard output: %w", c.err))
}

// toolName is the name a summary gives the run: the tool's, and for a tool
// with verbs the verb's ("persist put"). kong's Command() is no use here: for
// a tool without verbs it is its positional arguments' placeholders.
func toolName(name string, kctx *kong.Context) string {
	var verbs []string
	for n := kctx.Selected(); n != nil && n.Type == kong.CommandNode; n = n.Parent {
		verbs = append([]string{n.Name}, verbs...)
	}
	return strings.Join(append([]string{name}, verbs...), " ")
}

// summaryPath is the --summary flag's value, if the grammar has one.
func summaryPath(kctx *kong.Context) string {
	for _, f := range kctx.Flags() {
		if f.Name == "summary" {
			if v, ok := kctx.FlagValue(f).(string); ok {
				return v
			}
		}
	}
	return ""
}

// summaryOfUsageError writes the summary of a command that did not parse,
// when its arguments name one: a script reading it must not find an old one.
func summaryOfUsageError(name string, args []string, code int, usage error) {
	path := ""
	for i, a := range args {
		switch {
		case a == "--":
			return
		case a == "--summary" && i+1 < len(args):
			path = args[i+1]
		case strings.HasPrefix(a, "--summary="):
			path = strings.TrimPrefix(a, "--summary=")
		}
	}
	if path == "" || path == "-" {
		return
	}
	if sum, err := OpenSummary(path, name, os.Stdout); err == nil {
		if usage == nil {
			usage = errors.New("usage error (see the message on stderr)")
		}
		sum.Finish(code, usage, false)
	}
}

// openSummary is OpenSummary with SIGINT, SIGTERM and SIGHUP heard, as
// run hears them: --summary FIFO with no reader blocks the open, and a
// signal then ends the command with its line and status, as it does one
// blocked opening -o FIFO, not by the signal's default. err, reported
// already, says the command ends with code.
func openSummary(name, path, tool string) (*Summary, int, error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals()...)
	defer signal.Stop(sigs)
	type opened struct {
		sum *Summary
		err error
	}
	done := make(chan opened, 1)
	go func() {
		sum, err := OpenSummary(path, tool, os.Stdout)
		done <- opened{sum, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, Report(os.Stderr, name, o.err), o.err
		}
		return o.sum, ExitOK, nil
	case sig := <-sigs:
		err := fmt.Errorf("interrupted by %s", signalName(sig))
		removeTemps()
		report(os.Stderr, name, err)
		return nil, 128 + signalNumber(sig), err
	}
}

// Run runs do until it returns or a signal ends it. A signal cancels do's
// context; do then has grace to return, and a second SIGINT or SIGTERM or
// the end of grace ends the command anyway. An interrupted command says so in one line
// and exits 130 (SIGINT) or 143 (SIGTERM), as shells expect, whatever error
// the interruption made do return.
func Run(stderr io.Writer, name string, do func(context.Context) error) int {
	return run(stderr, name, do, &Summary{})
}

func run(stderr io.Writer, name string, do func(context.Context) error, sum *Summary) int {
	defer holdHeapFloor(floorFor(name))()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals()...)
	defer signal.Stop(sigs)
	// Notified, SIGPIPE no longer kills the process at a write to a closed
	// standard output: the write fails, and the run ends as closedStdout
	// says, its temporary files removed and its summary written.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	result := make(chan error, 1)
	go func() { result <- do(ctx) }()
	var sig os.Signal
	select {
	case err := <-result:
		if closedStdout(err) {
			// Quiet, as a pipeline's writer is when its reader is done
			// (| head), with the status SIGPIPE would have given.
			code := 128 + int(syscall.SIGPIPE)
			finish(stderr, name, sum, code, fmt.Errorf("standard output was closed by its reader: %w", err), true)
			removeTemps()
			return code
		}
		return finish(stderr, name, sum, Report(stderr, name, err), err, false)
	case sig = <-sigs:
	}
	cancel(ErrInterrupted)
	endStdinReads()
	ended, done := windDown(result, sigs)
	if ended && done == nil {
		return finish(stderr, name, sum, ExitOK, nil, false) // it had finished its work: nothing was lost
	}
	code := 128 + signalNumber(sig)
	err := fmt.Errorf("interrupted by %s", signalName(sig))
	partial := sum.partial()
	for _, h := range partial {
		err = hint.With(err, "%s", h)
	}
	if !ended && len(partial) == 0 && sum.writesStores() {
		// Its work did not stop in time to say what it had done: a load's
		// committed batches are counted once it returns.
		err = hint.With(err, "the run was ended before its work stopped, so what it wrote is not counted here "+
			"(a store it was writing may hold batches it committed): see what the store holds (persist-sum with its location) "+
			"before running the command again")
	}
	finish(stderr, name, sum, code, err, true)
	removeTemps()
	report(stderr, name, err)
	return code
}

// windDown waits for do's result for at most grace, or until a second
// SIGINT or SIGTERM: someone insists. A second SIGHUP is not insisting: a
// closing terminal hangs up the job, and its shell hangs it up again, at
// once, and nobody is left to insist; it would cut short the rollback and
// the removal of temporary files that the grace is for.
//
// ended reports whether do returned; err is then its error.
func windDown(result <-chan error, sigs <-chan os.Signal) (ended bool, err error) {
	limit := time.After(grace)
	for {
		select {
		case err := <-result:
			return true, err
		case s := <-sigs:
			if s != syscall.SIGHUP {
				return false, ErrInterrupted
			}
		case <-limit:
			return false, ErrInterrupted
		}
	}
}

// closedStdout reports whether err is a write's EPIPE and standard output
// a pipe whose reader has gone: an EPIPE of a database's connection is an
// error like any other.
func closedStdout(err error) bool {
	if !errors.Is(err, syscall.EPIPE) {
		return false
	}
	fds := []unix.PollFd{{Fd: 1, Events: unix.POLLOUT}}
	n, perr := unix.Poll(fds, 0)
	return perr == nil && n == 1 && fds[0].Revents&unix.POLLERR != 0
}

// finish writes the summary of a run that ended with code; failing to
// write it fails a run that had succeeded.
func finish(stderr io.Writer, name string, sum *Summary, code int, err error, interrupted bool) int {
	if serr := sum.Finish(code, err, interrupted); serr != nil {
		Report(stderr, name, serr)
		if code == ExitOK {
			return ExitTrouble
		}
	}
	return code
}

// stopSignals are the signals that end a command the way SIGINT does:
// SIGTERM, and SIGHUP (a closed terminal, a dropped ssh session), so that
// they too remove temporary files and say what the target holds. One the
// command was started ignoring (nohup, a background job of a script)
// stays ignored: asking for it would undo that.
func stopSignals() []os.Signal {
	var sigs []os.Signal
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return "SIGINT"
}

func signalNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return int(syscall.SIGINT)
}
