// Command persist-sum prints the persist1 checksum and counts of stores and
// streams, or verifies a saved list of them.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Print one line per input: its persist1 sum, its counts, its name.

    persist1:<64 hex>  records=N events=M  INPUT

A name holding a backslash, newline or carriage return is escaped as sha256sum escapes it (the
line starts with \); --check reads every line back, --by's per-collection lines too.

An input is a store (sqlite:PATH, postgres://…) or a stream (a file, .zst or .gz, or - for stdin).
The sum does not depend on order or spelling: a store, its dump, the dump compressed and the dump
shuffled all sum the same. Equal sums mean equal content.

Examples:
  persist-sum sqlite:./data/app.db 'postgres://db1/persist#app'
  persist-dump sqlite:app.db | persist-sum -
  persist-sum sqlite:app.db app.jsonl.zst > SUMS && persist-sum --check SUMS
  persist-sum --by collection sqlite:app.db

Exit status: 0 success, 1 a --check mismatch, 2 trouble (bad input, unreachable store).`

type command struct {
	cli.Common
	tools.Select
	Inputs        []string `arg:"" optional:"" help:"Stores or streams to sum (default: - for stdin)."`
	Store         string   `help:"The store, when a database holds several (same as #NAME)." placeholder:"NAME"`
	By            string   `help:"Also print one line per collection (and per event stream): --by collection." placeholder:"collection"`
	Check         string   `short:"c" help:"Read sum lines from FILE (- for stdin) and check each input, like sha256sum -c." placeholder:"FILE"`
	IgnoreTrailer bool     `help:"Accept a stream whose trailer no longer matches (edited on purpose)."`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-sum", description, &c, func(ctx context.Context, _ string) error {
		return tools.Sum(ctx, tools.OS(), tools.SumOptions{
			Common: c.Common, Select: c.Select, Inputs: c.Inputs, Store: c.Store, By: c.By, Check: c.Check, IgnoreTrailer: c.IgnoreTrailer,
		})
	})
}
