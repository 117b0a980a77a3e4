package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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
// kong's name of the chosen subcommand ("" for tools without any).
func Main(name, description string, grammar any, do func(ctx context.Context, command string) error) int {
	kctx, code, done := Parse(name, description, grammar, os.Args[1:], os.Stdout, os.Stderr)
	if done {
		return code
	}
	return Run(os.Stderr, name, func(ctx context.Context) error { return do(ctx, kctx.Command()) })
}

// Run runs do until it returns or a signal ends it. A signal cancels do's
// context; do then has grace to return, and a second signal or the end of
// grace ends the command anyway. An interrupted command says so in one line
// and exits 130 (SIGINT) or 143 (SIGTERM), as shells expect, whatever error
// the interruption made do return.
func Run(stderr io.Writer, name string, do func(context.Context) error) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	result := make(chan error, 1)
	go func() { result <- do(ctx) }()
	var sig os.Signal
	select {
	case err := <-result:
		return Report(stderr, name, err)
	case sig = <-sigs:
	}
	cancel(ErrInterrupted)
	select {
	case err := <-result:
		if err == nil {
			return ExitOK // it had finished its work: nothing was lost
		}
	case <-sigs:
	case <-time.After(grace):
	}
	removeTemps()
	fmt.Fprintf(stderr, "%s: error: interrupted by %s\n", name, signalName(sig))
	return 128 + signalNumber(sig)
}

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

func signalNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return int(syscall.SIGINT)
}
