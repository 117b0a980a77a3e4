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
gives the same bytes from SQLite and PostgreSQL, so dumps can be compared with sha256sum or diff
(with --no-cursor: the trailer's cursor says where each dump was taken).

Examples:
  persist-dump sqlite:./data/app.db > app.jsonl
  persist-dump 'postgres://db1/persist#app' -o app.jsonl.zst
  persist-dump sqlite:app.db --collection users --live | jq -c 'select(.kind == "record") | .value'
  persist-dump sqlite:app.db | zstd | ssh db1 'zstd -d | persist-load postgres:///persist#app'
  persist-dump sqlite:app.db --cursor-file app.cursor -o "delta-$(date +%s).jsonl.zst"   # each run: what changed since the last

Every dump's trailer carries a "cursor"; --since CURSOR dumps only what changed after that dump
(see docs/persist-dump.md). A since the store cannot serve (another store's cursor, a store restored
from an older backup, records deleted outright since) is refused: take a full dump.

Exit status: 0 success, 2 trouble (bad usage, unreachable store, write error).`

type command struct {
	cli.Common
	tools.Select
	Location   string `arg:"" help:"The store: sqlite:PATH, postgres://…, a SQLite file; #NAME picks the store."`
	Store      string `help:"The store to dump, when the database holds several (same as #NAME)." placeholder:"NAME"`
	Output     string `short:"o" default:"-" help:"Write to FILE instead of stdout; .zst and .gz compress. Written as a new file and renamed into place when complete." placeholder:"FILE"`
	Since      string `help:"Only what changed after the dump whose trailer carried CURSOR: records written or tombstoned, events appended (a delta)." placeholder:"CURSOR"`
	NoCursor   bool   `help:"Leave the cursor out of the trailer, so that dumps of the same content from two stores are the same bytes (sha256sum, cmp)."`
	CursorFile string `help:"Start from the cursor in FILE when it exists (else dump everything); once the dump is complete (with -o, once its file is in place), write the new cursor to FILE, atomically." placeholder:"FILE"`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-dump", description, &c, func(ctx context.Context, _ string) error {
		return tools.Dump(ctx, tools.OS(), tools.DumpOptions{
			Common: c.Common, Select: c.Select, Location: c.Location, Store: c.Store, Output: c.Output,
			Since: c.Since, CursorFile: c.CursorFile, NoCursor: c.NoCursor,
		})
	})
}
