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
	case errors.Is(err, ErrDiffer):
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
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			report(w, name, e)
		}
		return
	}
	err = closedStdHint(name, err)
	if errors.Is(err, syscall.ENOSPC) && len(hint.All(err)) == 0 {
		err = hint.With(err, "the file system is full: free space on it, or write elsewhere, then run the command again")
	}
	fmt.Fprintf(w, "%s: error: %s\n", name, oneLine(err.Error()))
	for _, h := range hint.All(err) {
		fmt.Fprintf(w, "%s: hint: %s\n", name, h)
	}
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
}
