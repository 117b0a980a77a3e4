// Package location parses the places a store or stream can be named by
// (README.md, "Locations") and opens them, keeping passwords out of every
// message. Which databases exist is the adapters' registry's business
// (internal/adapters): this package knows schemes, files and pipes.
package location

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	_ "github.com/cuitty/persist/internal/adapters/all" // every adapter, by its schemes
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Kind is what a location names.
type Kind int

const (
	Database Kind = iota + 1 // a database, by one of the registered adapters
	File                     // a stream file (.jsonl, .jsonl.zst, .jsonl.gz), or a pipe
	Stdin                    // a stream on standard input
)

func (k Kind) String() string {
	switch k {
	case Database:
		return "database"
	case File:
		return "file"
	case Stdin:
		return "stdin"
	}
	return "unknown"
}

// ErrLocation is wrapped by every parse error.
var ErrLocation = errors.New("invalid location")

// Location is a parsed location. Target is what the adapter opens (a file
// path, a connection string) or the stream file's path; Store is the #NAME
// suffix, if any.
type Location struct {
	Raw    string
	Kind   Kind
	Driver *adapters.Driver // the adapter of a Store
	Target string
	Store  string
}

// IsStore reports whether the location is a database (not a stream).
func (l Location) IsStore() bool { return l.Kind == Database }

// Adapter is the name of a store's adapter ("" for a stream).
func (l Location) Adapter() string {
	if l.Driver == nil {
		return ""
	}
	return l.Driver.Name
}

// String is the location as users wrote it, with any password masked.
func (l Location) String() string { return Redact(l.Raw) }

// StdinName reports whether s names standard input: "-", or a name of
// descriptor 0 (/dev/stdin, /dev/fd/0, /proc/self/fd/0). Two of them read
// one input, which the first reads whole.
func StdinName(s string) bool { return s == "-" || NamesDescriptor(s, 0) }

// NamesDescriptor reports whether path is one of the names of this
// process's descriptor fd (0, 1 or 2) that the system gives it: /dev/fd/N,
// /proc/self/fd/N, /proc/thread-self/fd/N, /proc/PID/fd/N, and /dev/stdin,
// /dev/stdout, /dev/stderr; or a symbolic link to one of them (ln -s
// /dev/stdout out), which opens what the descriptor holds just the same.
func NamesDescriptor(path string, fd int) bool {
	for range 40 { // as many links as Linux follows
		if descriptorName(path, fd) {
			return true
		}
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return false
		}
		link, err := os.Readlink(path)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return false
}

func descriptorName(path string, fd int) bool {
	n := strconv.Itoa(fd)
	switch filepath.Clean(path) {
	case "/dev/" + []string{"stdin", "stdout", "stderr"}[fd], "/dev/fd/" + n, "/proc/self/fd/" + n, "/proc/thread-self/fd/" + n,
		"/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + n:
		return true
	}
	return false
}

// Parse reads a location. A bare path must name an existing file, which is
// told apart by its first bytes (a database file an adapter recognises, else
// a stream) or, for a pipe or device, read as a stream without opening it.
// create allows a bare path that does not exist yet to mean a new database
// file (for writers); readers pass false.
func Parse(s string, create bool) (Location, error) {
	l := Location{Raw: s}
	if s == "" {
		return l, fmt.Errorf("%w: empty", ErrLocation)
	}
	if s == "-" {
		l.Kind = Stdin
		return l, nil
	}
	rest, store, err := splitLocation(s)
	if err != nil {
		return l, err
	}
	l.Store = store
	if l, ok, err := withScheme(l, rest); ok {
		return l, err
	}
	// A bare path. The whole string is tried first, so a file whose name
	// contains '#' still opens.
	for _, p := range []struct{ path, store string }{{s, ""}, {rest, store}} {
		kind, d, err := classify(p.path, create)
		if err == nil {
			l.Kind, l.Driver, l.Target, l.Store = kind, d, p.path, p.store
			return l, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return l, fmt.Errorf("%w: %s: %w", ErrLocation, l, err)
		}
	}
	if err := meantOther(l, rest, create); err != nil {
		return l, err
	}
	if strings.HasSuffix(s, "#") {
		return l, emptyStore(l)
	}
	if err := storeWithHash(Location{Raw: s, Target: rest, Store: store}); err != nil {
		return l, err
	}
	if d := newFileDriver(); create && !isStreamName(rest) && d != nil {
		l.Kind, l.Driver, l.Target = Database, d, rest
		return l, nil
	}
	return l, hint.With(fmt.Errorf("%w: %s: no such file", ErrLocation, l),
		"a store is %s; a stream is a file, a pipe or - for stdin", schemeList())
}

// withScheme reads a location whose text (rest, its #NAME split off)
// begins with an adapter's scheme; ok is false where it does not.
func withScheme(l Location, rest string) (Location, bool, error) {
	scheme, after, ok := splitScheme(rest)
	d := adapters.ByScheme(scheme)
	if !ok || d == nil {
		return l, false, nil
	}
	// In a file's path or a URL, a last '#' begins the store's name; in a
	// keyword/value string it may end a password.
	if strings.HasSuffix(l.Raw, "#") && (d.Sniff != nil || isURL(after)) {
		return l, true, emptyStore(l)
	}
	t, err := d.Target(scheme, after)
	if err != nil {
		return l, true, fmt.Errorf("%w: %s: %w", ErrLocation, l, err)
	}
	l.Kind, l.Driver, l.Target = Database, d, t
	if d.Sniff != nil {
		l, err = wholeFile(l, d, scheme, l.Raw)
	}
	return l, true, err
}

// wholeFile is l, or, where l names a store in a file that does not exist
// (sqlite:nightly#1.db, no file nightly) and the whole text after the
// scheme is a file that exists, that file, as the bare path nightly#1.db
// reads: a load would otherwise have made a new file nightly.
func wholeFile(l Location, d *adapters.Driver, scheme, s string) (Location, error) {
	if l.Store != "" {
		if t, err := d.Target(scheme, s[len(scheme)+1:]); err == nil && exists(t) && !exists(l.Target) {
			l.Target, l.Store = t, ""
			return l, nil
		}
	}
	return l, storeWithHash(l)
}

// storeWithHash refuses a file's location whose file does not exist where
// a file named by the part before one of its '#'s does (x.db#a#b or
// x.db#team/app, with x.db there): a store named "a#b" or "team/app" in
// x.db was as likely meant as a new file, and a load would have made one.
// A '#' in the name of a directory that exists is the directory's.
func storeWithHash(l Location) error {
	whole := l.Target
	if l.Store != "" {
		whole += "#" + l.Store
	}
	if !strings.Contains(whole, "#") || exists(l.Target) {
		return nil
	}
	for i := nextHash(whole, -1); i >= 0 && i < len(l.Target); i = nextHash(whole, i) {
		if slash := strings.IndexByte(whole[i:], '/'); slash >= 0 && isDir(whole[:i+slash]) {
			continue
		}
		if st, err := os.Stat(whole[:i]); err == nil && st.Mode().IsRegular() {
			return hint.With(fmt.Errorf("%w: %s: there is no file %s, but there is %s: a store named %q in it, or a new file %[3]s?",
				ErrLocation, l, l.Target, whole[:i], whole[i+1:]),
				"a store whose name holds # or / is named apart from its file: %s --store %s; with persist, give the file alone "+
					"where the location goes (PERSIST_URL=%[1]s, or %[1]s after --location, --source or --target) and %[2]s as the store's NAME",
				ShellQuote(whole[:i]), ShellQuote(whole[i+1:]))
		}
	}
	return nil
}

func nextHash(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '#')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// emptyStore refuses a '#' with no name after it: read as part of a file's
// name, it made a new database beside the one meant (app.db#), and a
// script's "$LOC#$STORE" with STORE unset must not write elsewhere.
func emptyStore(l Location) error {
	return hint.With(fmt.Errorf("%w: %s: no store name after #", ErrLocation, l),
		"name the store after # (LOCATION#NAME), or leave the # out for the only store there")
}

// splitLocation splits a trailing #NAME off a location, by the rules of its
// form: a keyword/value connection string's (kvStore), else splitStore's.
func splitLocation(s string) (rest, store string, err error) {
	// A file's location (sqlite:, sqlite://) keeps the path's rules: a
	// '#' before a '/' is a directory's.
	scheme, after, ok := splitScheme(s)
	d := adapters.ByScheme(scheme)
	switch {
	case !ok || d != nil && d.Sniff != nil:
	case isURL(after):
		return urlStore(s)
	case d != nil && strings.Contains(after, "="):
		r, store, err := kvStore(after, Redact(s))
		return s[:len(s)-len(after)] + r, store, err
	}
	rest, store = splitStore(s)
	return rest, store, nil
}

// isURL reports whether the text after "SCHEME:" is a URL (//HOST/… or a
// URL with a scheme of its own, as postgres:postgresql://… is), not a
// keyword/value string, whose values may hold "://" (application_name=https://…).
func isURL(after string) bool {
	if strings.HasPrefix(after, "//") {
		return true
	}
	_, rest, ok := splitScheme(strings.TrimSpace(after))
	return ok && strings.HasPrefix(rest, "//")
}

// splitStore splits a trailing #NAME off. A fragment holding '/' is part of
// a path, not a store name; in a URL, a '#' before the path whose fragment
// holds '@' is in the user-info, a password's (postgres://u:p#w@h).
func splitStore(s string) (rest, store string) {
	i := strings.LastIndexByte(s, '#')
	if i < 0 || i == len(s)-1 || strings.ContainsRune(s[i+1:], '/') {
		return s, ""
	}
	if j := strings.Index(s[:i], "://"); j >= 0 && !strings.ContainsRune(s[j+3:i], '/') && strings.ContainsRune(s[i+1:], '@') {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// splitScheme splits "scheme:rest" where scheme is a URL scheme's letters.
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i < 1 {
		return "", "", false
	}
	for j, c := range s[:i] {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", "", false
		}
	}
	return strings.ToLower(s[:i]), s[i+1:], true
}

func isStreamName(p string) bool {
	p = strings.ToLower(p)
	for _, ext := range []string{".jsonl", ".jsonl.zst", ".jsonl.zstd", ".jsonl.gz", ".jsonl.gzip", ".json", ".zst", ".zstd", ".gz", ".gzip"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// newFileDriver is the adapter a new file is made by, if any.
func newFileDriver() *adapters.Driver {
	for _, d := range adapters.Drivers() {
		if d.NewFiles {
			return d
		}
	}
	return nil
}

// classify tells what an existing path holds without consuming anything
// that cannot be read twice: a pipe, a terminal or a device is a stream
// (no database lives in one), and only a regular file is opened and its
// first bytes read. An empty file is a database (SQLite makes one in it)
// only to a writer: to a reader it holds nothing, which a stream's reader
// says as such ("no input": a dump that failed before its first byte),
// where a database's would say it holds no store.
func classify(path string, create bool) (Kind, *adapters.Driver, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, nil, err
	}
	if st.IsDir() {
		return 0, nil, fmt.Errorf("%s is a directory", path)
	}
	if !st.Mode().IsRegular() {
		return File, nil, nil
	}
	head, err := readHead(path)
	if err != nil {
		return 0, nil, err
	}
	if len(head) == 0 && (isStreamName(path) || !create) {
		return File, nil, nil
	}
	for _, d := range adapters.Drivers() {
		if d.Sniff != nil && d.Sniff(head) {
			return Database, d, nil
		}
	}
	return File, nil, nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, adapters.SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// looksLikeStream reports whether a file begins as a persist.v1 stream does:
// a JSON object, or zstd or gzip compression.
func looksLikeStream(path string) bool {
	head, err := readHead(path)
	if err != nil {
		return false
	}
	if compressed, _ := record.Compressed(head); compressed {
		return true
	}
	return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{"))
}

// Files are the files a location reads or writes, as far as it can be told
// without opening anything: a stream file, or the files of a database kept
// in files. A server's database, stdin, and a location that does not parse
// have none.
func Files(raw string) []string {
	l, err := Parse(raw, true)
	if err != nil {
		return nil
	}
	switch {
	case l.Kind == File:
		return []string{l.Target}
	case l.Kind != Database || l.Driver.Sniff == nil:
		return nil
	case l.Driver.Files != nil:
		return l.Driver.Files(l.Target)
	}
	return []string{l.Target}
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
