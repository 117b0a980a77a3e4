// Command persist-seal writes an edited persist.v1 stream again with a new
// header and trailer, so that a filtered pipeline stays checked end to end.
package main

import (
	"context"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Seal an edited persist.v1 stream: write it again with a new header and a trailer over
what it holds now, so that a stream cut short after this step is refused downstream.

A filter that drops lines (jq select) makes the dump's trailer lie, and a filter that drops the
trailer too makes truncation undetectable. Keep the header and trailer in the filter and seal the
result: persist-seal requires the old trailer to arrive (so a dump cut short before the filter is
refused), does not hold the edited items to it, and writes a new one.

Examples:
  persist-dump sqlite:app.db \
    | jq -c 'select(.kind == "header" or .kind == "trailer" or .collection != "cache")' \
    | persist-seal | persist-load 'postgres://db1/persist#app'
  persist-dump sqlite:app.db | jq -c 'if .kind == "record" then .value.email |= ascii_downcase else . end' \
    | persist-seal -o scrubbed.jsonl.zst
  jq -c '{kind:"record",collection:"users",key:.id,value:.}' users.jsonl | persist-seal --unframed > users.persist.jsonl

Exit status: 0 success, 2 trouble (bad input, an input cut short, an unframed input without
--unframed, a write error).`

type command struct {
	cli.Common
	Input    string `arg:"" optional:"" default:"-" help:"The stream to seal (default: stdin)."`
	Output   string `short:"o" default:"-" help:"Write to FILE instead of stdout; .zst and .gz compress." placeholder:"FILE"`
	Store    string `help:"The store name in the new header (default: the input header's)." placeholder:"NAME"`
	Unframed bool   `help:"Accept an input without a header (hand-made); nothing then tells it whole."`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist-seal", description, &c, func(ctx context.Context, _ string) error {
		return tools.Seal(ctx, tools.OS(), tools.SealOptions{
			Common: c.Common, Input: c.Input, Output: c.Output, Store: c.Store, Unframed: c.Unframed,
		})
	})
}
