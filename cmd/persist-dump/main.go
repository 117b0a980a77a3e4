// Command persist-dump writes a consistent snapshot of a Persist store as a
// persist.v1 stream.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Write a consistent snapshot of a store as a persist.v1 stream (JSONL) on stdout.

The snapshot is read-only and consistent even while an application writes. The same content
gives the same bytes from SQLite and PostgreSQL, so dumps can be compared with sha256sum or diff.

Examples:
  persist-dump sqlite:./data/app.db > app.jsonl
  persist-dump 'postgres://db1/persist#app' -o app.jsonl.zst
  persist-dump sqlite:app.db --collection users --live | jq -c 'select(.kind == "record") | .value'
  persist-dump sqlite:app.db | zstd | ssh db1 'zstd -d | persist-load postgres:///persist#app'

Exit status: 0 success, 2 trouble (bad usage, unreachable store, write error).`

type command struct {
	cli.Common
	tools.Select
	Location string `arg:"" help:"The store: sqlite:PATH, postgres://…, a SQLite file; #NAME picks the store."`
	Store    string `help:"The store to dump, when the database holds several (same as #NAME)." placeholder:"NAME"`
	Output   string `short:"o" default:"-" help:"Write to FILE instead of stdout; .zst and .gz compress. Written under a temporary name and renamed when complete." placeholder:"FILE"`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-dump", description, &c, func(ctx context.Context, _ string) error {
		return tools.Dump(ctx, tools.OS(), tools.DumpOptions{
			Common: c.Common, Select: c.Select, Location: c.Location, Store: c.Store, Output: c.Output,
		})
	})
}
