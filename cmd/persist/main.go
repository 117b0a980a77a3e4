// Command persist is the front door: export, import, verify and migrate a
// store by name.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Export, import, verify and migrate a Persist store by name.

A store NAME lives at $PERSIST_URL when it is set, else at sqlite:./data/NAME.db.

Examples:
  persist export my-app --format jsonl --output ./backup.jsonl
  persist import my-app --from ./backup.jsonl --adapter postgres --connection "postgresql://user:pass@host:5432/persist"
  persist verify my-app --source sqlite:./data/app.db --target postgres:postgresql://user:pass@host/persist
  persist migrate my-app --source sqlite:./data/app.db --target postgres:postgresql://user:pass@host/persist --batch-size 500

Exit status: 0 success, 1 verify found a mismatch, 2 trouble.`

type exportCmd struct {
	Name     string `arg:"" help:"The store."`
	Format   string `default:"jsonl" enum:"jsonl" help:"The output format (jsonl: the persist.v1 stream)."`
	Output   string `short:"o" default:"-" help:"Write to FILE (.zst/.gz compress); - for stdout." placeholder:"FILE"`
	Location string `help:"Where the store lives (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"LOC"`
}

type importCmd struct {
	tools.LoadFlags
	Name       string `arg:"" help:"The store."`
	From       string `required:"" help:"The stream file to load (- for stdin)." placeholder:"FILE"`
	Adapter    string `default:"auto" enum:"auto,sqlite,postgres" help:"The database kind of --connection: sqlite, postgres, or auto (from the connection's form)."`
	Connection string `help:"Where to load: a PostgreSQL URL, a SQLite path or any location (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"URL"`
}

type verifyCmd struct {
	Name   string `arg:"" help:"The store."`
	Source string `help:"One place the store lives (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"LOC"`
	Target string `required:"" help:"The other place." placeholder:"LOC"`
}

type migrateCmd struct {
	tools.LoadFlags
	Name   string `arg:"" help:"The store."`
	Source string `help:"Where the store lives now (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"LOC"`
	Target string `required:"" help:"Where to copy it." placeholder:"LOC"`
}

type command struct {
	cli.Common
	Export  exportCmd  `cmd:"" help:"Write a store as a persist.v1 stream."`
	Import  importCmd  `cmd:"" help:"Load a stream file into a store."`
	Verify  verifyCmd  `cmd:"" help:"Compare a store's counts and checksums in two places; exit 1 when they differ."`
	Migrate migrateCmd `cmd:"" help:"Copy a store from one place to another, verified batch by batch."`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist", description, &c, func(ctx context.Context, cmd string) error {
		st := tools.OS()
		switch cmd {
		case "export <name>":
			e := c.Export
			return tools.Export(ctx, st, tools.ExportOptions{Common: c.Common, Name: e.Name, Format: e.Format, Output: e.Output, Location: e.Location})
		case "import <name>":
			i := c.Import
			return tools.Import(ctx, st, tools.ImportOptions{Common: c.Common, LoadFlags: i.LoadFlags, Name: i.Name, From: i.From, Adapter: i.Adapter, Connection: i.Connection})
		case "verify <name>":
			v := c.Verify
			return tools.Verify(ctx, st, tools.VerifyOptions{Common: c.Common, Name: v.Name, Source: v.Source, Target: v.Target})
		case "migrate <name>":
			m := c.Migrate
			return tools.Migrate(ctx, st, tools.MigrateOptions{Common: c.Common, LoadFlags: m.LoadFlags, Name: m.Name, Source: m.Source, Target: m.Target})
		}
		return fmt.Errorf("unknown command %q", cmd)
	})
}
