package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Main is the whole life of a command: parse os.Args into grammar (kong
// struct tags), run do with a context cancelled by SIGINT or SIGTERM, and
// turn its error into a message on stderr and an exit status. command is
// kong's name of the chosen subcommand ("" for tools without any).
func Main(name, description string, grammar any, do func(ctx context.Context, command string) error) int {
	kctx, code, done := Parse(name, description, grammar, os.Args[1:], os.Stdout, os.Stderr)
	if done {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Report(os.Stderr, name, do(ctx, kctx.Command()))
}
