// Command persist-load loads a persist.v1 stream into a Persist store.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Load a persist.v1 stream from stdin (or -i FILE) into a store.

Records merge by version: written when newer, skipped when stale, a no-op when identical, a
conflict when the version is equal and the content differs. Events merge by (stream, seq) the
same way. Each batch is one transaction, read back and verified before it commits; a batch that
meets a transient failure (lost connection, server restart or failover, busy database) is retried
for up to --retry-for (2 minutes), each retry said on stderr. zstd and gzip input is recognised
by itself. Hand-made lines may leave out version, times and seq.

A rerun of an interrupted load finishes the job and duplicates nothing, with one exception: a
hand-made event without seq is appended after its stream's last, and a rerun appends it again
(the load warns when it appended any).

Examples:
  persist-dump sqlite:app.db | persist-load 'postgres://db1/persist#app'
  zstd -d < app.jsonl.zst | persist-load sqlite:copy.db
  persist-load sqlite:app.db -i backup.jsonl --mode replace
  jq -c '.[] | {kind:"record",collection:"users",key:(.id|tostring),value:.}' users.json | persist-load sqlite:app.db#app
  persist-load sqlite:app.db --rejects rejects.jsonl < dump.jsonl

Exit status: 0 success, 2 trouble (bad usage or input, unreachable store, rejected lines, failed load).`

type command struct {
	cli.Common
	tools.LoadFlags
	Location string `arg:"" help:"The store: sqlite:PATH, postgres://…; #NAME picks the store."`
	Input    string `short:"i" default:"-" help:"Read the stream from FILE instead of stdin." placeholder:"FILE"`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-load", description, &c, func(ctx context.Context, _ string) error {
		return tools.Load(ctx, tools.OS(), tools.LoadOptions{
			Common: c.Common, LoadFlags: c.LoadFlags, Location: c.Location, Input: c.Input,
		})
	})
}
