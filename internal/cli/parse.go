package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/alecthomas/kong"
	"github.com/cuitty/persist/internal/location"
)

// Common holds the flags every tool has.
type Common struct {
	Version  kong.VersionFlag `help:"Print the version and exit."`
	Quiet    bool             `short:"q" help:"Print no progress and no summary; errors only."`
	Progress bool             `help:"Show progress on stderr even when it is not a terminal."`
}

// Parse parses args into grammar with kong. It returns done=true with the
// exit status when the command must stop here: --help and --version (0),
// or a usage error (2, reported on stderr with a hint).
func Parse(name, description string, grammar any, args []string, stdout, stderr io.Writer) (ctx *kong.Context, code int, done bool) {
	exited := -1
	parser, err := kong.New(grammar,
		kong.Name(name),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { exited = c }),
		kong.Vars{"version": VersionString(name)},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
	)
	if err != nil {
		panic(fmt.Sprintf("%s: bad command grammar: %v", name, err)) // a programming error
	}
	ctx, err = parser.Parse(args)
	if exited >= 0 {
		return nil, exited, true
	}
	if err != nil {
		// Parse errors can echo a flag value: never let a password through.
		msg := err.Error()
		for _, a := range args {
			msg = location.Scrub(msg, a)
		}
		Report(stderr, name, Hint(errors.New(msg), "see %s --help", name))
		return nil, ExitTrouble, true
	}
	return ctx, ExitOK, false
}
