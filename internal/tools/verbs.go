package tools

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/spool"
)

// The verbs of the persist command that look at and change one store by
// name (docs/persist.md). Their output is plain lines a shell loop reads:
// values and stream lines are canonical JSON (no raw newline or tab), and
// a name is the last field of its line, so that `read a b name` takes a
// name with tabs whole. A name holding a newline would split its line:
// it is refused, unless -0 ends each line with a NUL instead (find
// -print0, read -d '').

// PutOptions are `persist put`'s flags.
type PutOptions struct {
	cli.Common
	Name, Collection, Key string
	JSON                  *string // nil: read from stdin
	IfVersion             *int64
}

// Put writes a record.
func Put(ctx context.Context, st Stdio, o PutOptions) error {
	if o.IfVersion != nil && *o.IfVersion < 0 {
		// Checked before stdin is read, so that a value piped in is not
		// taken and then refused for a flag. The parser's suggestion for a
		// negative number (--if-version="-1") leads here: the hint says
		// what the flag takes, not another spelling of the same number.
		return cli.Hint(fmt.Errorf("--if-version %d: a version is 1 or more, and 0 means no live record", *o.IfVersion),
			"give the version the record has now (%s prints it), or --if-version 0 to write only while it has none",
			command("get", []string{"--record"}, o.Name, o.Collection, o.Key))
	}
	value, err := jsonArg(ctx, st, o.JSON, "the key")
	if err != nil {
		return err
	}
	again := func(store string) string {
		var flags []string
		if o.IfVersion != nil {
			flags = []string{fmt.Sprintf("--if-version %d", *o.IfVersion)}
		}
		return command("put", flags, withJSON([]string{store, o.Collection, o.Key}, o.JSON)...)
	}
	readBack := "its version and value: " + command("get", []string{"--record"}, o.Name, o.Collection, o.Key)
	return withStore(ctx, st, o.Common, o.Name, again, readBack, func(s *persist.Store) error {
		var (
			r   persist.Record
			err error
		)
		if o.IfVersion != nil {
			r, err = s.PutIf(ctx, o.Collection, o.Key, *o.IfVersion, value)
		} else {
			r, err = s.Put(ctx, o.Collection, o.Key, value)
		}
		if errors.Is(err, persist.ErrVersionMismatch) {
			if _, gerr := s.Get(ctx, o.Collection, o.Key); errors.Is(gerr, persist.ErrNotFound) {
				return mismatch(err, "to write it only while it has no live record, give --if-version 0")
			}
			return mismatch(err, "read the record again and retry: %s", command("get", []string{"--record"}, o.Name, o.Collection, o.Key))
		}
		if err != nil {
			return err
		}
		wrote(ctx, r.Line())
		summary(st, o.Common, "persist", fmt.Sprintf("put %s/%s in %s: version %d", o.Collection, o.Key, o.Name, r.Version))
		return nil
	})
}

// mismatch says why a conditional write did not happen and exits 1: the
// record moved, which a script tells from trouble (2) by the status.
func mismatch(err error, hintFormat string, args ...any) error {
	return cli.Differ(cli.Hint(err, hintFormat, args...))
}

// jsonArg is the JSON argument, or standard input when it is omitted.
// after names the argument the value follows ("the key", "the type").
func jsonArg(ctx context.Context, st Stdio, arg *string, after string) (json.RawMessage, error) {
	if arg != nil {
		if err := oneJSON([]byte(*arg), shorten(*arg)); err != nil {
			return nil, err
		}
		return json.RawMessage(*arg), nil
	}
	// The value is read from stdin: --summary must not replace the file
	// it came from.
	if err := guard(ctx, []string{"-"}); err != nil {
		return nil, err
	}
	if f, ok := st.Stdin.(*os.File); ok && cli.IsTerminal(f) {
		return nil, cli.Hint(errors.New("no JSON value given, and stdin is a terminal"), `give it after %s, e.g. '{"name":"Ada"}' (or null), or pipe it in`, after)
	}
	b, err := io.ReadAll(st.Stdin)
	if err != nil {
		return nil, fmt.Errorf("read the value from stdin: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, cli.Hint(fmt.Errorf("no JSON value on stdin (and none given after %s)", after), `give it after %s, e.g. '{"name":"Ada"}' (or null), or pipe it in`, after)
	}
	if err := oneJSON(b, "stdin"); err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// oneJSON checks that b is one JSON value, with a hint that fits what is
// wrong: text that is no JSON at all is most often a string left
// unquoted, while a value followed by more is two values, or a typo.
func oneJSON(b []byte, what string) error {
	if json.Valid(b) {
		return nil // the store's write names any limit it passes
	}
	if _, err := record.Canonical(nil, b); errors.Is(err, record.ErrLimit) {
		// Legal JSON past one of the format's limits (nesting, which
		// encoding/json refuses as invalid): said as that limit, never as
		// invalid JSON (docs/format.md).
		return fmt.Errorf("%s: %w", what, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if err := dec.Decode(&first); err != nil || len(bytes.TrimSpace(first)) == 0 {
		if !startsValue(b) {
			return cli.Hint(fmt.Errorf("%s is not valid JSON", what), `quote a string as JSON, inside shell quotes: '"text"'`)
		}
		return fmt.Errorf("%s is not valid JSON: %w", what, err)
	}
	rest := bytes.TrimSpace(b[dec.InputOffset():])
	return cli.Hint(fmt.Errorf("%s is not one JSON value: after %s comes %s", what, clip(first), clip(rest)),
		`give one value (several go in one array: '[1,2]'); to store it all as text, quote it as a JSON string: '"text"'`)
}

// clip is part of the JSON text for a message: as it is when it prints
// plainly, else quoted.
func clip(b []byte) string {
	s := string(b)
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// startsValue reports whether b begins as a JSON value does (after any
// white space); a bare word such as Ada does not.
func startsValue(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	switch c := b[0]; {
	case c == '{' || c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9':
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(b, []byte(lit)) {
			return true
		}
	}
	return false
}

func shorten(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// wrote puts the line written (or read) in the summary.
func wrote(ctx context.Context, line []byte) {
	report(ctx).Update(func(r *cli.Result) {
		r.Item = json.RawMessage(line)
		if strings.HasPrefix(string(line), `{"kind":"event"`) {
			r.Events = 1
		} else {
			r.Records = 1
		}
	})
}

// withJSON is args and the JSON argument, when one was given.
func withJSON(args []string, json *string) []string {
	if json != nil {
		return append(args, *json)
	}
	return args
}

// withStore opens the store NAME for writing, creating its folder under
// ./data on the first write, and removing what it created when nothing was
// written. again is the verb's command for another store (storeLocation).
//
// readBack says how to see whether the write took effect, ending with the
// command (cli.Target.ReadBack), which
// an interruption's hint gives from the moment the store is open: the
// write's outcome is then not known until do returns.
func withStore(ctx context.Context, st Stdio, c cli.Common, name string, again func(string) string, readBack string, do func(*persist.Store) error) error {
	loc, err := storeLocation(ctx, name, again, nil)
	if err != nil {
		return err
	}
	if err := guard(ctx, []string{loc}); err != nil {
		return err
	}
	undo, err := prepareDefault(loc)
	if err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Targets = []cli.Target{{Location: location.Redact(loc), Store: name}}
	})
	s, err := persist.OpenStore(ctx, loc, storeFlag(loc, name))
	if err != nil {
		undo()
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		if len(r.Targets) > 0 {
			r.Targets[0].ReadBack = readBack
		}
	})
	err = do(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The verb wrote nothing (a --if-version that did not hold, say):
		// the database it made for it goes too.
		undo()
	}
	if err == nil {
		report(ctx).Update(func(r *cli.Result) {
			if len(r.Targets) > 0 { // none in a run without a summary
				r.Targets[0].Written, r.Targets[0].EventsWritten = r.Records, r.Events
			}
		})
	}
	return err
}

// prepareDefault readies a default location (sqlite:./data/NAME.db) for a
// first write: ./data is made when missing ("the folder is created on first
// write"). undo removes what the write would have made, the database file
// and the folder, for a write that failed; it leaves anything older alone.
func prepareDefault(loc string) (undo func(), err error) {
	madeDir, err := makeDataDir(loc)
	if err != nil {
		return nil, err
	}
	made := newFile(loc)
	return func() {
		if made != "" {
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				os.Remove(made + suffix)
			}
		}
		removeIfEmpty(madeDir)
	}, nil
}

// makeDataDir creates the folder of a default location (./data) when it
// is missing; it returns the folder it made, if any.
func makeDataDir(loc string) (string, error) {
	dir, ok := defaultDir(loc)
	if !ok {
		return "", nil
	}
	if _, err := os.Stat(dir); err == nil {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		err = fmt.Errorf("create %s: %w", dir, err)
		wd, werr := os.Getwd()
		if werr != nil {
			return "", err
		}
		// Run from cron or a service, the working directory is often /
		// or a home that is not where the stores are.
		return "", cli.Hint(err, "a store NAME is kept at ./data/NAME.db, in the working directory (%s): run the command "+
			"from the folder the stores belong in (cd FOLDER && …), or name their database with $PERSIST_URL "+
			"(PERSIST_URL=sqlite:/var/lib/app/stores.db …)", wd)
	}
	return dir, nil
}

// defaultDir is the folder of a location that is the persist command's
// default (sqlite:./data/NAME.db), not one a user gave.
func defaultDir(loc string) (string, bool) {
	if os.Getenv("PERSIST_URL") != "" || !strings.HasPrefix(loc, "sqlite:./data/") {
		return "", false
	}
	return filepath.Dir(strings.TrimPrefix(loc, "sqlite:")), true
}

// newFile is the database file of a default location that does not exist
// yet, which opening it will make ("" otherwise).
func newFile(loc string) string {
	if _, ok := defaultDir(loc); !ok {
		return ""
	}
	path := strings.TrimPrefix(loc, "sqlite:")
	if _, err := os.Stat(path); err == nil {
		return ""
	}
	return path
}

func removeIfEmpty(dir string) {
	if dir != "" {
		os.Remove(dir) // fails, as it should, when something is in it
	}
}

// openReader opens store NAME for reading, saying plainly when it does not
// exist: a typo must not pass for an empty store. again is the verb's
// command for another store (storeLocation).
func openReader(ctx context.Context, st Stdio, name string, f persist.Filter, again func(string) string) (*persist.Source, error) {
	loc, err := storeLocation(ctx, name, again, func(store string) string { return makeCommand(store, f) })
	if err != nil {
		return nil, err
	}
	if err := guard(ctx, []string{loc}); err != nil {
		return nil, err
	}
	if err := missingStore(name, loc, makeCommand(name, f)); err != nil {
		return nil, err
	}
	report(ctx).Update(func(r *cli.Result) { r.Sources = []cli.Side{readSide(loc, name)} })
	src, err := persist.OpenSource(ctx, loc, persist.ReadOptions{Store: storeFlag(loc, name), Filter: f, Stdin: st.Stdin})
	if errors.Is(err, persist.ErrNoStore) {
		return nil, noStoreHint(err, name, loc, makeCommand(name, f))
	}
	return src, err
}

// makeCommand is a write that makes store name, into the collection or
// stream a reader asked for.
func makeCommand(name string, f persist.Filter) string {
	if len(f.Streams) == 1 {
		return command("append", nil, name, f.Streams[0], "created", "{}")
	}
	collection, key := "users", "u1"
	if len(f.Collections) == 1 {
		collection = f.Collections[0]
	}
	if len(f.Keys) == 1 {
		key = f.Keys[0]
	}
	return command("put", nil, name, collection, key, "{}")
}

func dirOf(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return filepath.Dir(abs)
	}
	return dir
}

// GetOptions are `persist get`'s flags.
type GetOptions struct {
	cli.Common
	Name, Collection, Key string
	Record                bool
}

// Get prints a record's value (or its whole line); no such record, or a
// deleted one, exits 1 with nothing on stdout.
func Get(ctx context.Context, st Stdio, o GetOptions) error {
	if err := report(ctx).ToStdout("the value"); err != nil {
		return err
	}
	again := func(store string) string {
		var flags []string
		if o.Record {
			flags = []string{"--record"}
		}
		return command("get", flags, store, o.Collection, o.Key)
	}
	src, err := openReader(ctx, st, o.Name, persist.Filter{Collections: []string{o.Collection}, Keys: []string{o.Key}}, again)
	if err != nil {
		return err
	}
	defer src.Close()
	it, err := src.Get(ctx, o.Collection, o.Key)
	if errors.Is(err, persist.ErrNotFound) {
		return notFound(ctx, st, o, src)
	}
	if err != nil {
		return err
	}
	wrote(ctx, it.Line)
	out := it.Record.Value
	if o.Record {
		out = it.Line
	}
	_, err = st.Stdout.Write(append(out, '\n'))
	return err
}

// notFound ends a get of no record: quietly, as a script's test of a key
// (exit 1), but for a collection the store does not hold while it holds
// others, which is warned of whatever the output (but -q): a typo must
// not pass for a record not there yet.
func notFound(ctx context.Context, st Stdio, o GetOptions, src *persist.Source) error {
	others, err := otherCollections(ctx, src, o.Collection, o.Quiet)
	if err != nil {
		return err
	}
	if !warnNoCollection(st, o.Name, o.Collection, others) && cli.ShowSummary(o.Common, st.Stderr) {
		fmt.Fprintf(st.Stderr, "persist: no record %s\n", hint.Printable(fmt.Sprintf("%s/%s in %s (or it is deleted)", o.Collection, o.Key, o.Name)))
	}
	return cli.ErrDiffer
}

// otherCollections lists the store's collections when it holds none named
// collection (nil when it does, or when quiet).
func otherCollections(ctx context.Context, src *persist.Source, collection string, quiet bool) ([]string, error) {
	if quiet {
		return nil, nil
	}
	held, err := src.Holds(ctx, collection)
	if err != nil || held {
		return nil, err
	}
	return collectionNames(ctx, src)
}

// warnNoCollection warns of a collection the store does not hold, when it
// holds others, and reports whether it did.
func warnNoCollection(st Stdio, name, collection string, others []string) bool {
	if len(others) == 0 {
		return false
	}
	fmt.Fprintf(st.Stderr, "persist: warning: %s\n", hint.Printable(fmt.Sprintf("store %s has no collection %s; it holds %s", name, jsonQuote(collection), strings.Join(others, ", "))))
	return true
}

// collectionNames are the store's collections, quoted, at most ten named.
func collectionNames(ctx context.Context, src *persist.Source) ([]string, error) {
	collections, _, err := src.Names(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, min(len(collections), 11))
	for i, c := range collections {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(collections)-10))
			break
		}
		names = append(names, jsonQuote(c.Name))
	}
	return names, nil
}

// RmOptions are `persist rm`'s flags.
type RmOptions struct {
	cli.Common
	Name, Collection, Key string
	Force                 bool
}

// Rm deletes a record, leaving a tombstone. No such record exits 1, or 0
// with --force.
func Rm(ctx context.Context, st Stdio, o RmOptions) error {
	// A store that does not exist is not made just to delete from it.
	again := func(store string) string {
		var flags []string
		if o.Force {
			flags = []string{"-f"}
		}
		return command("rm", flags, store, o.Collection, o.Key)
	}
	src, err := openReader(ctx, st, o.Name, persist.Filter{Collections: []string{o.Collection}, Keys: []string{o.Key}}, again)
	if err != nil {
		return err
	}
	// Asked before the delete, told only when it finds nothing: a typo
	// of a collection is warned of, with -f too. The reader is let go
	// before the write, whose closing checkpoint would wait on it.
	others, err := otherCollections(ctx, src, o.Collection, o.Quiet)
	src.Close()
	if err != nil {
		return err
	}
	readBack := "no record means the delete took effect: " + command("get", []string{"--record"}, o.Name, o.Collection, o.Key)
	return withStore(ctx, st, o.Common, o.Name, again, readBack, func(s *persist.Store) error {
		r, err := s.Delete(ctx, o.Collection, o.Key)
		switch {
		case errors.Is(err, persist.ErrNotFound):
			if !warnNoCollection(st, o.Name, o.Collection, others) && !o.Force && !o.Quiet {
				fmt.Fprintf(st.Stderr, "persist: no record %s\n", hint.Printable(fmt.Sprintf("%s/%s in %s (or it is already deleted)", o.Collection, o.Key, o.Name)))
			}
			if o.Force {
				return nil
			}
			return cli.ErrDiffer
		case err != nil:
			return err
		}
		wrote(ctx, r.Line())
		summary(st, o.Common, "persist", fmt.Sprintf("deleted %s/%s in %s: version %d", o.Collection, o.Key, o.Name, r.Version))
		return nil
	})
}

// AppendOptions are `persist append`'s flags.
type AppendOptions struct {
	cli.Common
	Name, Stream, Type string
	JSON               *string
}

// Append appends an event to a stream.
func Append(ctx context.Context, st Stdio, o AppendOptions) error {
	data, err := jsonArg(ctx, st, o.JSON, "the type")
	if err != nil {
		return err
	}
	again := func(store string) string {
		return command("append", nil, withJSON([]string{store, o.Stream, o.Type}, o.JSON)...)
	}
	readBack := "the event would be the stream's last: " + command("events", nil, o.Name, o.Stream)
	return withStore(ctx, st, o.Common, o.Name, again, readBack, func(s *persist.Store) error {
		e, err := s.Append(ctx, o.Stream, o.Type, data)
		if err != nil {
			return err
		}
		wrote(ctx, e.Line())
		summary(st, o.Common, "persist", fmt.Sprintf("appended %s #%d to %s", o.Type, e.Seq, o.Stream))
		return nil
	})
}

// EventsOptions are `persist events`' flags.
type EventsOptions struct {
	cli.Common
	Name, Stream string
	From         int64
}

// Events prints a stream's events as stream lines, from seq From on.
func Events(ctx context.Context, st Stdio, o EventsOptions) error {
	if o.From < 0 {
		// A negative seq would print the whole stream as --from 1 does: a
		// script that counted wrong must hear of it, not get every event.
		// 0 is "${LAST:-0}", the start.
		return cli.Hint(fmt.Errorf("--from %d: a stream's seqs start at 1", o.From),
			"--from 1 (the default) prints the whole stream; --from SEQ starts at event SEQ")
	}
	if err := report(ctx).ToStdout("the events"); err != nil {
		return err
	}
	again := func(store string) string {
		var flags []string
		if o.From != 1 {
			flags = []string{fmt.Sprintf("--from %d", o.From)}
		}
		return command("events", flags, store, o.Stream)
	}
	src, err := openReader(ctx, st, o.Name, persist.Filter{Streams: []string{o.Stream}, FromSeq: o.From}, again)
	if err != nil {
		return err
	}
	defer src.Close()
	out := bufio.NewWriter(st.Stdout)
	var n int64
	for it, err := range src.Items(ctx) {
		if err != nil {
			out.Flush()
			return err
		}
		n++
		out.Write(append(it.Line, '\n'))
	}
	report(ctx).Update(func(r *cli.Result) { r.Events = n })
	return out.Flush()
}

// LsOptions are `persist ls`' flags.
type LsOptions struct {
	cli.Common
	Name       string
	Collection *string // nil lists the collections and streams; "" is a collection's name too
	Null       bool
}

// Ls lists a store's collections and streams with their counts, or a
// collection's live keys in dump order.
func Ls(ctx context.Context, st Stdio, o LsOptions) error {
	if err := report(ctx).ToStdout("the list"); err != nil {
		return err
	}
	if o.Collection != nil {
		return lsKeys(ctx, st, o)
	}
	src, err := openReader(ctx, st, o.Name, persist.Filter{}, lsAgain(o))
	if err != nil {
		return err
	}
	defer src.Close()
	cols, streams, err := src.Names(ctx)
	if err != nil {
		return err
	}
	var lines []line
	var records, events int64
	for _, c := range cols {
		lines = append(lines, line{fmt.Sprintf("collection\t%d\t", c.Count-c.Deleted), c.Name})
		records += c.Count - c.Deleted
	}
	for _, s := range streams {
		lines = append(lines, line{fmt.Sprintf("stream\t%d\t", s.Count), s.Name})
		events += s.Count
	}
	report(ctx).Update(func(r *cli.Result) { r.Records, r.Events = records, events })
	return printLines(st, lines, o.Null, o.Name)
}

// lsAgain is the ls command for another store (storeLocation).
func lsAgain(o LsOptions) func(string) string {
	return func(store string) string {
		var flags []string
		if o.Null {
			flags = []string{"-0"}
		}
		if o.Collection != nil {
			return command("ls", flags, store, *o.Collection)
		}
		return command("ls", flags, store)
	}
}

func lsKeys(ctx context.Context, st Stdio, o LsOptions) error {
	src, err := openReader(ctx, st, o.Name, persist.Filter{Collections: []string{*o.Collection}, Live: true}, lsAgain(o))
	if err != nil {
		return err
	}
	defer src.Close()
	// Every key is checked before the first is written (printLines): a
	// loop over the list must not act on part of it before a refusal.
	sp := &spool.Spool{Pattern: "persist-ls-*"}
	defer sp.Close()
	held := bufio.NewWriter(sp)
	var n int64
	for it, err := range src.Items(ctx) {
		if err != nil {
			return err
		}
		if err := writeName(held, it.Record.Key, o.Null, o.Name); err != nil {
			return err
		}
		n++
	}
	if err := held.Flush(); err != nil {
		return fmt.Errorf("hold the list: %w", err)
	}
	report(ctx).Update(func(r *cli.Result) { r.Records = n })
	// The list's end is written here: a full disk or a closed pipe is
	// told, not a short list with exit 0.
	out := bufio.NewWriter(st.Stdout)
	if _, err := sp.WriteTo(out); err != nil {
		return err
	}
	return out.Flush()
}

// line is a line of output whose last field is a name.
type line struct{ fields, name string }

// printLines writes lines, refusing a name with a line break unless null
// ends them with NUL, and a name with a NUL (nameOK); nothing is written
// then. store is the store listed, "" for a list of stores.
func printLines(st Stdio, lines []line, null bool, store string) error {
	for _, l := range lines {
		if err := nameOK(l.name, null, store); err != nil {
			return err
		}
	}
	out := bufio.NewWriter(st.Stdout)
	for _, l := range lines {
		out.WriteString(l.fields)
		out.WriteString(l.name)
		out.WriteByte(end(null))
	}
	return out.Flush()
}

// writeName writes one name as its own line (see printLines).
func writeName(w *bufio.Writer, name string, null bool, store string) error {
	if err := nameOK(name, null, store); err != nil {
		return err
	}
	w.WriteString(name)
	return w.WriteByte(end(null))
}

// nameOK refuses a name its line would not give back: one with a line
// break, unless null ends lines with NUL; and one with a NUL, which ends a
// line under -0 and which no shell variable or argument can hold (a read
// loop would get two names, or one without the byte, and act on neither).
func nameOK(name string, null bool, store string) error {
	switch {
	case strings.IndexByte(name, 0) >= 0:
		err := fmt.Errorf("the name %s holds a NUL byte: no line of output, and no shell variable or argument, can hold it", jsonQuote(name))
		if store == "" {
			return cli.Hint(err, "no argument can name such a store; where it is its database's only store, "+
				"persist-dump LOCATION reads it without its name, and persist-load --store NAME makes a copy under a name a shell can hold")
		}
		return cli.Hint(err, "read the names from the store's dump, where each is a JSON string: persist export %s | "+
			`jq -r 'select(.kind == "record" or .kind == "event") | [.kind, .collection // .stream, .key] | @json' | sort -u`, location.ShellQuote(store))
	case !null && strings.ContainsAny(name, "\n\r"):
		return newlineError(name)
	}
	return nil
}

func end(null bool) byte {
	if null {
		return 0
	}
	return '\n'
}

func newlineError(name string) error {
	return cli.Hint(fmt.Errorf("the name %s holds a line break: as a line of output it would read as two", jsonQuote(name)),
		"add -0 to end each line with a NUL instead: … -0 | while IFS= read -r -d '' line; do …; done")
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// StoresOptions are `persist stores`' flags.
type StoresOptions struct {
	cli.Common
	Location string
	Null     bool
}

// Stores lists the stores a database holds: live records, events, name.
// Without a location: $PERSIST_URL, else every ./data/*.db.
func Stores(ctx context.Context, st Stdio, o StoresOptions) error {
	if err := report(ctx).ToStdout("the list"); err != nil {
		return err
	}
	locs := []string{o.Location}
	if o.Location == "" {
		var err error
		if locs, err = defaultDatabases(); err != nil {
			return err
		}
	}
	if err := guard(ctx, locs); err != nil {
		return err
	}
	var lines []line
	for _, loc := range locs {
		infos, err := persist.Stores(ctx, loc)
		if err != nil {
			return err
		}
		for _, s := range infos {
			lines = append(lines, line{fmt.Sprintf("%d\t%d\t", s.Records, s.Events), s.Name})
			report(ctx).Update(func(r *cli.Result) {
				r.Records += s.Records
				r.Events += s.Events
				side := readSide(loc, s.Name)
				side.Records, side.Events = cli.Ptr(s.Records), cli.Ptr(s.Events)
				r.Sources = append(r.Sources, side)
			})
		}
	}
	if warn := warner(st, o.Common, "persist", ""); len(lines) == 0 && warn != nil {
		// An empty list is an answer, but one a typo or the wrong folder
		// gives too: say where no store was found.
		if len(locs) == 0 {
			warn("no store: $PERSIST_URL is not set, and there is no ./data/*.db here (a store NAME is kept at $PERSIST_URL, else at ./data/NAME.db)")
		}
		for _, loc := range locs {
			warn("no store in " + location.Redact(loc))
		}
	}
	return printLines(st, lines, o.Null, "")
}

// defaultDatabases are the databases the persist command finds stores in
// by itself: $PERSIST_URL, else every ./data/*.db.
func defaultDatabases() ([]string, error) {
	if u := os.Getenv("PERSIST_URL"); u != "" {
		return []string{u}, nil
	}
	paths, err := filepath.Glob(filepath.Join("data", "*.db"))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = "sqlite:./" + p
	}
	return out, nil
}
