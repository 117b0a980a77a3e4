package location

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// ErrStore is wrapped when a location's store cannot be decided.
var ErrStore = errors.New("cannot tell which store")

// Open opens the database a store location names. Readers pass readOnly,
// so that nothing is ever written (a database file is opened read-only, and
// a missing one is an error rather than a new empty database).
func Open(ctx context.Context, l Location, readOnly bool) (adapters.Adapter, error) {
	if !l.IsStore() {
		return nil, fmt.Errorf("%w: %s is a stream, not a store", ErrLocation, l)
	}
	if l.Driver.Sniff != nil {
		if err := checkFile(l, readOnly); err != nil {
			return nil, err
		}
	}
	a, err := l.Driver.Open(ctx, l.Target, adapters.OpenOptions{ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l, ScrubError(err, l.Raw))
	}
	return a, nil
}

// CheckTarget refuses, with a writer's words, a location that Open would
// open for writing and that is no database to write: a stream file named
// with a file adapter's scheme.
func CheckTarget(l Location) error {
	if !l.IsStore() || l.Driver.Sniff == nil {
		return nil
	}
	return checkFile(l, false)
}

// checkFile looks at the file a file-based adapter is about to open: a
// reader needs it to exist, and a stream file named with the adapter's
// scheme (sqlite:dump.jsonl) gets a hint instead of the database's own
// "file is not a database".
func checkFile(l Location, readOnly bool) error {
	st, err := os.Stat(l.Target)
	switch {
	case err != nil && readOnly:
		return notThere(l, err)
	case err != nil || !st.Mode().IsRegular():
		return nil
	}
	head, err := readHead(l.Target)
	if err != nil || l.Driver.Sniff(head) || !looksLikeStream(l.Target) {
		return nil
	}
	if unpack := record.Unpacker(head); unpack != "" && compressedDatabase(l) {
		return hint.With(fmt.Errorf("%w: %s: %s is a %s database, compressed", ErrLocation, l, l.Target, l.Driver.Name),
			"decompress it first, and name the copy: %s %s > FILE.db", unpack, ShellQuote(l.Target))
	}
	err = fmt.Errorf("%w: %s: %s is a persist.v1 stream file, not a %s database", ErrLocation, l, l.Target, l.Driver.Name)
	if readOnly {
		return hint.With(err, "to read the stream, name the file without the %s: prefix: %s; to ask it for records (persist get, ls, events), load it into a database first: persist-load DATABASE < %[2]s",
			l.Driver.Schemes[0], ShellQuote(l.Target))
	}
	return hint.With(err, "a stream is loaded into a database: persist-load DATABASE < %s", ShellQuote(l.Target))
}

// compressedDatabase reports whether l's file, compressed, holds one of
// its driver's databases.
func compressedDatabase(l Location) bool {
	f, err := os.Open(l.Target)
	if err != nil {
		return false
	}
	defer f.Close()
	d, err := record.NewDecompressor(f)
	if err != nil {
		return false
	}
	defer d.Close()
	head := make([]byte, adapters.SniffLen)
	n, _ := io.ReadFull(d, head)
	return l.Driver.Sniff(head[:n])
}

// Store decides which store of a location is meant: the #NAME suffix or the
// --store flag (which must agree), else the only store the database holds.
// Writers pass named, the store their input names (a stream's header), for
// a database that holds none or several, and fallback (the default) for one
// that holds none when the input names none; readers pass "" for both.
func Store(ctx context.Context, a adapters.Adapter, l Location, flag, named, fallback string) (string, error) {
	for _, name := range []string{l.Store, flag} {
		if !utf8.ValidString(name) {
			// A stream is UTF-8: a store so named could be written, and
			// its dump not read back.
			return "", fmt.Errorf("%w: store name %q is not valid UTF-8", ErrStore, name)
		}
	}
	switch {
	case l.Store != "" && flag != "" && l.Store != flag:
		return "", fmt.Errorf("%w: %s names store %q but store %q was asked for", ErrStore, l, l.Store, flag)
	case l.Store != "":
		return l.Store, nil
	case flag != "":
		return flag, nil
	}
	names, err := a.Stores(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", l, ScrubError(err, l.Raw))
	}
	switch {
	case len(names) == 1:
		return names[0], nil
	case named != "":
		// None, or several: the input says which, as plainly as a #NAME.
		return named, nil
	case len(names) == 0 && fallback != "":
		return fallback, nil
	case len(names) == 0:
		return "", fmt.Errorf("%w: %s holds no store", ErrStore, l)
	}
	return "", hint.With(fmt.Errorf("%w: %s holds %d stores (%s)", ErrStore, l, len(names), strings.Join(names, ", ")),
		"pick one with %s", NamedForShell(l.Raw, names[0]))
}

// NamedForShell is raw naming store, as words for a shell (a password left
// out): LOCATION#NAME where Parse reads NAME back from it, else LOCATION
// --store NAME (a name holding '#' where the location cannot carry it).
func NamedForShell(raw, store string) string {
	w, ok := withStore(raw, store)
	if ok {
		return ForShell(w)
	}
	return ForShell(strings.TrimSuffix(w, "#"+store)) + " --store " + ShellQuote(store)
}

// Named is raw naming store where raw is a store's location that names none
// and the name can be carried in it, else raw: so that a line written for
// `persist-sum --store NAME LOC` checks the same store when read back.
func Named(raw, store string) string {
	l, err := Parse(raw, false)
	if err != nil || !l.IsStore() || l.Store != "" || store == "" {
		return raw
	}
	if w, ok := withStore(raw, store); ok {
		return w
	}
	return raw
}

// WithStore is raw with its #NAME set to store, written so that Parse
// reads store back where it can be (withStore).
func WithStore(raw, store string) string {
	w, _ := withStore(raw, store)
	return w
}

// WithoutStore is raw without its #NAME: the database alone.
func WithoutStore(raw string) string {
	rest, _, err := splitLocation(raw)
	if err != nil {
		return raw
	}
	return rest
}

// withStore is raw with its #NAME set to store, and whether Parse reads
// store back from it: after a keyword/value string's unquoted password the
// '#' follows a space (password=pw #NAME), and after a URL's password
// parameter an empty one (?password=pw&#NAME), either of which the
// password would otherwise be read to hold. A name no separator carries
// (one holding '#', in a URL) comes back after a plain '#', and false.
func withStore(raw, store string) (string, bool) {
	rest, named, err := splitLocation(raw)
	if err != nil {
		rest = raw
	} else if l, perr := Parse(raw, false); named != "" && perr == nil && l.Store == "" {
		rest = raw // the '#' is the file's own (nightly#1.db): the name goes after it
	}
	for _, sep := range []string{"#", " #", "&#"} {
		out := rest + sep + store
		if _, got, err := splitLocation(out); err == nil && got == store {
			return out, true
		}
	}
	return rest + "#" + store, false
}

// notThere is what a reader says of a database file it cannot stat.
func notThere(l Location, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return missingFile(l)
	}
	return fmt.Errorf("%s: %w", l, err)
}

// missingFile is what a reader says of a database file that is not there:
// no SQLite error, and where a name was mistyped, the files it may have
// meant. It wraps fs.ErrNotExist.
func missingFile(l Location) error {
	dir := filepath.Dir(l.Target)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: %s: %w, nor does the directory %s", l, l.Target, fs.ErrNotExist, dir)
	}
	err := fmt.Errorf("%s: %s: %w (a reader never makes one)", l, l.Target, fs.ErrNotExist)
	near := nearFiles(l.Target)
	if len(near) == 0 {
		return err
	}
	var meant []string
	for _, n := range near {
		m := l.Driver.Schemes[0] + ":" + n
		switch {
		case strings.Contains(l.Raw, l.Target):
			m = strings.Replace(l.Raw, l.Target, n, 1)
		case l.Store != "":
			m = WithStore(m, l.Store)
		}
		meant = append(meant, ShellQuote(Redact(m)))
	}
	return hint.With(err, "did you mean %s?", strings.Join(meant, " or "))
}

// nearFiles lists the files beside path whose names are within two edits
// of its own, as path spells its directory: the three nearest at most.
func nearFiles(path string) []string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	type named struct {
		name string
		d    int
	}
	var near []named
	for _, e := range entries {
		if d := distance(e.Name(), base); d > 0 && d <= 2 && e.Type().IsRegular() {
			near = append(near, named{dir + e.Name(), d})
		}
	}
	// The nearest first, and of those the first in the folder's order.
	slices.SortStableFunc(near, func(a, b named) int { return a.d - b.d })
	var names []string
	for _, n := range near[:min(len(near), 3)] {
		names = append(names, n.name)
	}
	return names
}
