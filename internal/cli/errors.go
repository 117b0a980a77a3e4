// Package cli is what every persist command shares: exit codes, error and
// hint messages on stderr, version, progress, output files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/cuitty/persist/internal/hint"
)

// Exit statuses, the same for every tool (README.md).
const (
	ExitOK      = 0 // success, or no difference
	ExitDiffer  = 1 // a difference or a mismatch
	ExitTrouble = 2 // bad usage, unreachable store, bad input, failed load
)

// ErrDiffer is returned by a command that found a difference or mismatch
// and has already said so; it maps to exit status 1 with no further message.
var ErrDiffer = errors.New("differences found")

// Differ is ErrDiffer said as err: a conditional write that found the
// record moved. Report prints err and its hints, the summary keeps them,
// and the exit status is 1. ErrDiffer itself may carry hints alone (a
// command that said how it differs on its own lines): they are printed,
// and kept, too.
func Differ(err error) error { return &differ{err} }

type differ struct{ err error }

func (d *differ) Error() string        { return d.err.Error() }
func (d *differ) Unwrap() error        { return d.err }
func (d *differ) Is(target error) bool { return target == ErrDiffer }

// said reports whether err, a difference, carries a message of its own.
func said(err error) bool {
	var d *differ
	return errors.As(err, &d)
}

// Hint attaches what the user can do about err; Report prints it on its
// own "hint:" line.
func Hint(err error, format string, args ...any) error {
	return hint.With(err, format, args...)
}

// Report prints err to w as "name: error: …" (plus "name: hint: …" lines)
// and returns the exit status for it.
func Report(w io.Writer, name string, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrDiffer) && said(err):
		report(w, name, err)
		return ExitDiffer
	case errors.Is(err, ErrDiffer):
		for _, h := range hint.All(err) {
			fmt.Fprintf(w, "%s: hint: %s\n", name, hint.Printable(h))
		}
		return ExitDiffer
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "%s: error: interrupted\n", name)
		return ExitTrouble
	}
	report(w, name, err)
	return ExitTrouble
}

// report prints err, and each error of a joined one on its own line with
// its own hints: several targets failing are several errors.
func report(w io.Writer, name string, err error) {
	if errs := joined(err); errs != nil {
		for _, e := range errs {
			report(w, name, e)
		}
		return
	}
	err = explain(name, err)
	fmt.Fprintf(w, "%s: error: %s\n", name, oneLine(err.Error()))
	for _, h := range hint.All(err) {
		fmt.Fprintf(w, "%s: hint: %s\n", name, hint.Printable(h))
	}
}

// explain adds to err the hint its cause calls for where none says what
// to do yet: a standard stream closed, a full file system. Each error of
// a joined one is explained on its own; report and the summary both see
// the hints.
func explain(name string, err error) error {
	if errs := joined(err); errs != nil {
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = explain(name, e)
		}
		return errors.Join(out...)
	}
	err = closedStdHint(name, err)
	if errors.Is(err, syscall.ENOSPC) && len(hint.All(err)) == 0 {
		err = hint.With(err, "the file system is full: free space on it, or write elsewhere, then run the command again")
	}
	return err
}

// messages is err on one line, each error of a joined one after a "; ".
func messages(err error) string {
	if errs := joined(err); errs != nil {
		var out []string
		for _, e := range errs {
			out = append(out, messages(e))
		}
		return strings.Join(out, "; ")
	}
	return oneLine(err.Error())
}

// joined is the errors errors.Join made err of, nil for any other error:
// one of fmt.Errorf's with two %w unwraps to several too, but says more
// than they do, which must not be lost.
func joined(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	errs := j.Unwrap()
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	if err.Error() != strings.Join(msgs, "\n") {
		return nil
	}
	return errs
}

// oneLine is a message on one line, any other control character in it
// spelled out (hint.Printable): a name may hold them.
func oneLine(s string) string {
	return hint.Printable(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "))
}
