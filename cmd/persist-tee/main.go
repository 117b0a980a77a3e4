// Command persist-tee copies a stream from stdin to stdout unchanged while
// loading it into one or more stores.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Copy stdin to stdout byte for byte while loading the stream into every LOCATION concurrently.

Each target is loaded as persist-load would (same flags, same semantics). If any target fails,
persist-tee stops, names the target, and exits 2.

Examples:
  persist-dump sqlite:app.db | persist-tee sqlite:backup.db 'postgres://db1/persist#app' > app.jsonl
  persist-dump sqlite:a.db | persist-tee sqlite:b.db sqlite:c.db | persist-load sqlite:d.db

Exit status: 0 success, 2 trouble (a target failed, bad input, bad usage).`

type command struct {
	cli.Common
	tools.LoadFlags
	Locations []string `arg:"" help:"Stores to load into: sqlite:PATH, postgres://…; #NAME picks the store."`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-tee", description, &c, func(ctx context.Context, _ string) error {
		return tools.Tee(ctx, tools.OS(), tools.TeeOptions{
			Common: c.Common, LoadFlags: c.LoadFlags, Locations: c.Locations,
		})
	})
}
