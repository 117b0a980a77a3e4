// Command persist-diff shows what differs between two stores or streams.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Show what differs between A and B, each a store or a stream (- for stdin on one side).

Both sides are read side by side in dump order, so memory does not grow with the stores; a stream
file in another order is sorted with bounded memory first. Spelling (member order, number forms,
escapes) is never a difference: items are compared by their canonical lines.

Output, like diff -u: "- " only in A, "+ " only in B, "~ " changed, with the JSON path of each
changed part of a value. --format jsonl gives one object per difference; --format summary only counts;
--patch writes a stream that, loaded into B with persist-load, makes B equal to A exactly.

Examples:
  persist-diff sqlite:./data/app.db 'postgres://db1/persist#app'
  persist-diff sqlite:app.db yesterday.jsonl.zst --collection users
  persist-diff --patch sqlite:app.db 'postgres://db1/persist#app' | persist-load 'postgres://db1/persist#app'

Exit status: 0 no difference, 1 differences found, 2 trouble. With --patch: 0 when the patch was
written (whether or not it changes anything), 2 trouble; --exit-code makes differences exit 1.`

type command struct {
	cli.Common
	tools.Select
	A             string `arg:"" help:"The first side (the reference; what a patch makes B equal to)."`
	B             string `arg:"" help:"The second side."`
	Store         string `help:"The store on both sides, when a database holds several (same as #NAME)." placeholder:"NAME"`
	Format        string `default:"human" enum:"human,jsonl,summary" help:"Output format: human, jsonl (one object per difference) or summary (only the counts)."`
	Patch         bool   `help:"Write a patch stream that makes B equal to A when loaded into B (exit 0 when written)."`
	ExitCode      bool   `help:"With --patch: exit 1 when A and B differ, as without it (git diff's --exit-code)."`
	Color         string `default:"auto" enum:"auto,always,never" help:"Colour the human output: auto (when stdout is a terminal), always, never."`
	IgnoreTrailer bool   `help:"Accept a stream whose trailer no longer matches (edited on purpose)."`
	SortMemory    int    `default:"64" help:"MiB of memory for sorting a stream file that is not in dump order; more spills to temporary files." placeholder:"MIB"`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-diff", description, &c, func(ctx context.Context, _ string) error {
		return tools.Diff(ctx, tools.OS(), tools.DiffOptions{
			Common: c.Common, Select: c.Select, A: c.A, B: c.B, Store: c.Store, Format: c.Format,
			Patch: c.Patch, ExitCode: c.ExitCode, Color: c.Color, IgnoreTrailer: c.IgnoreTrailer, SortMemory: c.SortMemory,
		})
	})
}
