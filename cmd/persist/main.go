// Command persist is the front door: export, import, verify and migrate a
// store by name.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/tools"
)

const description = `Look at, change, export, import, verify, migrate and upgrade a Persist store by name.

A store NAME lives at $PERSIST_URL when it is set, else at sqlite:./data/NAME.db (the folder
./data is made by the first write). Output is plain lines a shell loop reads; a name is the last
field of its line, and -0 ends lines with NUL for names that hold line breaks.

Examples:
  persist put my-app users u1 '{"name":"Ada"}'
  persist get my-app users u1
  persist ls my-app users | while IFS= read -r key; do persist get my-app users -- "$key"; done
  persist append my-app orders placed '{"total":12.5}'
  persist export my-app --format jsonl --output ./backup.jsonl
  persist import my-app --from ./backup.jsonl --adapter postgres --connection "postgresql://user:pass@host:5432/persist"
  persist verify my-app --source sqlite:./data/my-app.db --target postgres:postgresql://user:pass@host/persist
  persist migrate my-app --source sqlite:./data/my-app.db --target postgres:postgresql://user:pass@host/persist --batch-size 500
  mkdir -p backup && persist export my-app --cursor-file ./backup/cursor --output ./backup/delta-$(date +%s).jsonl.zst
  persist upgrade my-app --location sqlite:./data/my-app.db

Completion: source <(persist completion bash) (or zsh; fish: persist completion fish | source).

Exit status: 0 success; 1 no such record (get, rm), a version that moved (put --if-version),
verify found a mismatch; 2 trouble (bad usage, no such store, unreachable database).`

type putCmd struct {
	Name       string  `arg:"" help:"The store." predictor:"store"`
	Collection string  `arg:"" help:"The collection."`
	Key        string  `arg:"" help:"The record's key."`
	JSON       *string `arg:"" optional:"" name:"json" help:"The value, as JSON (default: read from stdin)."`
	IfVersion  *int64  `name:"if-version" help:"Write only over version N of the record (0: only when it has no live record); else exit 1." placeholder:"N"`
}

type getCmd struct {
	Name       string `arg:"" help:"The store." predictor:"store"`
	Collection string `arg:"" help:"The collection."`
	Key        string `arg:"" help:"The record's key."`
	Record     bool   `help:"Print the whole record as a stream line (version, updated_at, value), not only its value."`
}

type rmCmd struct {
	Name       string `arg:"" help:"The store." predictor:"store"`
	Collection string `arg:"" help:"The collection."`
	Key        string `arg:"" help:"The record's key."`
	Force      bool   `short:"f" help:"No record to delete is not an error (exit 0)."`
}

type lsCmd struct {
	Name       string  `arg:"" help:"The store." predictor:"store"`
	Collection *string `arg:"" optional:"" help:"List this collection's live keys, one per line, in dump order (\"\" is the collection named by the empty string)."`
	Null       bool    `short:"0" help:"End each line with a NUL instead of a newline (for names with line breaks: read -d '')."`
}

type storesCmd struct {
	Location string `arg:"" optional:"" help:"The database (default: $PERSIST_URL, else every ./data/*.db)." predictor:"file"`
	Null     bool   `short:"0" help:"End each line with a NUL instead of a newline."`
}

type appendCmd struct {
	Name   string  `arg:"" help:"The store." predictor:"store"`
	Stream string  `arg:"" help:"The event stream."`
	Type   string  `arg:"" help:"The event's type."`
	JSON   *string `arg:"" optional:"" name:"json" help:"The event's data, as JSON (default: read from stdin)."`
}

type eventsCmd struct {
	Name   string `arg:"" help:"The store." predictor:"store"`
	Stream string `arg:"" help:"The event stream."`
	From   int64  `default:"1" help:"Start at this seq." placeholder:"SEQ"`
}

type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

type helpCmd struct {
	Verb []string `arg:"" optional:"" help:"The verb to explain."`
}

type exportCmd struct {
	Name       string `arg:"" help:"The store." predictor:"store"`
	Format     string `default:"jsonl" enum:"jsonl" help:"The output format (jsonl: the persist.v1 stream)."`
	Output     string `short:"o" default:"-" help:"Write to FILE (.zst/.gz compress); - for stdout." placeholder:"FILE"`
	Location   string `help:"Where the store lives (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"LOC"`
	Since      string `help:"Only what changed after the export whose trailer carried CURSOR (a delta)." placeholder:"CURSOR"`
	CursorFile string `help:"Start from the cursor in FILE when it exists (else export all), and write the new one there once the export is complete." placeholder:"FILE"`
}

type upgradeCmd struct {
	Name     string `arg:"" help:"The store (its database is upgraded, every store in it)." predictor:"store"`
	Location string `help:"Where the store lives (default: $PERSIST_URL, else sqlite:./data/NAME.db)." placeholder:"LOC"`
}

type importCmd struct {
	tools.LoadFlags
	Name       string `arg:"" help:"The store."`
	From       string `required:"" help:"The stream file to load (- for stdin)." placeholder:"FILE"`
	Adapter    string `default:"auto" help:"The database kind of --connection: an adapter's name (sqlite, postgres), or auto (from the connection's form)." placeholder:"NAME"`
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
	Put        putCmd        `cmd:"" help:"Write a record (version one more than its last); JSON from stdin when omitted."`
	Get        getCmd        `cmd:"" help:"Print a record's value as canonical JSON; exit 1 when there is none."`
	Rm         rmCmd         `cmd:"" help:"Delete a record (it stays as a tombstone, so no stale copy brings it back)."`
	Ls         lsCmd         `cmd:"" help:"List a store's collections and streams with counts, or a collection's keys."`
	Stores     storesCmd     `cmd:"" help:"List the stores a database holds: live records, events, name."`
	Append     appendCmd     `cmd:"" help:"Append an event to a stream; JSON from stdin when omitted."`
	Events     eventsCmd     `cmd:"" help:"Print a stream's events as persist.v1 lines."`
	Export     exportCmd     `cmd:"" help:"Write a store as a persist.v1 stream."`
	Import     importCmd     `cmd:"" help:"Load a stream file into a store."`
	Verify     verifyCmd     `cmd:"" help:"Compare a store's counts and checksums in two places; exit 1 when they differ."`
	Migrate    migrateCmd    `cmd:"" help:"Copy a store from one place to another, verified batch by batch."`
	Upgrade    upgradeCmd    `cmd:"" help:"Bring the database's Persist schema to this release's version, in place."`
	Completion completionCmd `cmd:"" help:"Print a shell completion script: bash, zsh or fish."`
	Help       helpCmd       `cmd:"" help:"Explain a verb: persist help put."`
}

func main() { os.Exit(run()) }

func run() int {
	var c command
	return cli.Main("persist", description, &c, func(ctx context.Context, cmd string) error {
		st := tools.OS()
		switch strings.Fields(cmd)[0] {
		case "put":
			p := c.Put
			return tools.Put(ctx, st, tools.PutOptions{Common: c.Common, Name: p.Name, Collection: p.Collection, Key: p.Key, JSON: p.JSON, IfVersion: p.IfVersion})
		case "get":
			g := c.Get
			return tools.Get(ctx, st, tools.GetOptions{Common: c.Common, Name: g.Name, Collection: g.Collection, Key: g.Key, Record: g.Record})
		case "rm":
			r := c.Rm
			return tools.Rm(ctx, st, tools.RmOptions{Common: c.Common, Name: r.Name, Collection: r.Collection, Key: r.Key, Force: r.Force})
		case "ls":
			l := c.Ls
			return tools.Ls(ctx, st, tools.LsOptions{Common: c.Common, Name: l.Name, Collection: l.Collection, Null: l.Null})
		case "stores":
			return tools.Stores(ctx, st, tools.StoresOptions{Common: c.Common, Location: c.Stores.Location, Null: c.Stores.Null})
		case "append":
			a := c.Append
			return tools.Append(ctx, st, tools.AppendOptions{Common: c.Common, Name: a.Name, Stream: a.Stream, Type: a.Type, JSON: a.JSON})
		case "events":
			e := c.Events
			return tools.Events(ctx, st, tools.EventsOptions{Common: c.Common, Name: e.Name, Stream: e.Stream, From: e.From})
		case "export":
			e := c.Export
			return tools.Export(ctx, st, tools.ExportOptions{Common: c.Common, Name: e.Name, Format: e.Format, Output: e.Output, Location: e.Location,
				Since: e.Since, CursorFile: e.CursorFile})
		case "import":
			i := c.Import
			return tools.Import(ctx, st, tools.ImportOptions{Common: c.Common, LoadFlags: i.LoadFlags, Name: i.Name, From: i.From, Adapter: i.Adapter, Connection: i.Connection})
		case "verify":
			v := c.Verify
			return tools.Verify(ctx, st, tools.VerifyOptions{Common: c.Common, Name: v.Name, Source: v.Source, Target: v.Target})
		case "upgrade":
			return tools.Upgrade(ctx, st, tools.UpgradeOptions{Common: c.Common, Name: c.Upgrade.Name, Location: c.Upgrade.Location})
		case "migrate":
			m := c.Migrate
			return tools.Migrate(ctx, st, tools.MigrateOptions{Common: c.Common, LoadFlags: m.LoadFlags, Name: m.Name, Source: m.Source, Target: m.Target})
		}
		return fmt.Errorf("unknown command %q", cmd)
	})
}
