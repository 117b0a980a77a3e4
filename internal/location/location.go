// Package location parses the places a store or stream can be named by
// (README.md, "Locations") and opens them, keeping passwords out of every message.
package location

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Kind is what a location names.
type Kind int

const (
	SQLite   Kind = iota + 1 // a SQLite database file
	Postgres                 // a PostgreSQL database
	File                     // a stream file (.jsonl, .jsonl.zst, .jsonl.gz)
	Stdin                    // a stream on standard input
)

func (k Kind) String() string {
	switch k {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case File:
		return "file"
	case Stdin:
		return "stdin"
	}
	return "unknown"
}

// ErrLocation is wrapped by every parse error.
var ErrLocation = errors.New("invalid location")

// Location is a parsed location. Target is a file path or a libpq
// connection string; Store is the #NAME suffix, if any.
type Location struct {
	Raw    string
	Kind   Kind
	Target string
	Store  string
}

// IsStore reports whether the location is a database (not a stream).
func (l Location) IsStore() bool { return l.Kind == SQLite || l.Kind == Postgres }

// String is the location as users wrote it, with any password masked.
func (l Location) String() string { return Redact(l.Raw) }

const sqliteMagic = "SQLite format 3\x00"

// Parse reads a location. A bare path must name an existing file, which is
// sniffed: a SQLite database or a stream file. create allows a bare path that
// does not exist yet to mean a new SQLite file (for writers); readers pass false.
func Parse(s string, create bool) (Location, error) {
	l := Location{Raw: s}
	if s == "" {
		return l, fmt.Errorf("%w: empty", ErrLocation)
	}
	if s == "-" {
		l.Kind = Stdin
		return l, nil
	}
	rest, store := splitStore(s)
	l.Store = store
	switch {
	case strings.HasPrefix(rest, "sqlite:"):
		l.Kind, l.Target = SQLite, strings.TrimPrefix(rest, "sqlite:")
		l.Target = strings.TrimPrefix(l.Target, "//") // tolerate sqlite://path
		if l.Target == "" {
			return l, fmt.Errorf("%w: %s: no file path after sqlite:", ErrLocation, l)
		}
		return l, nil
	case strings.HasPrefix(rest, "postgres://"), strings.HasPrefix(rest, "postgresql://"):
		l.Kind, l.Target = Postgres, rest
		return l, nil
	case strings.HasPrefix(rest, "postgres:"), strings.HasPrefix(rest, "postgresql:"):
		l.Kind, l.Target = Postgres, rest[strings.IndexByte(rest, ':')+1:]
		if strings.TrimSpace(l.Target) == "" {
			return l, fmt.Errorf("%w: %s: no connection string after postgres:", ErrLocation, l)
		}
		return l, nil
	}
	// A bare path. The whole string is tried first, so a file whose name
	// contains '#' still opens.
	for _, p := range []struct{ path, store string }{{s, ""}, {rest, store}} {
		kind, err := sniff(p.path)
		if err == nil {
			l.Kind, l.Target, l.Store = kind, p.path, p.store
			return l, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return l, fmt.Errorf("%w: %s: %w", ErrLocation, l, err)
		}
	}
	if create && !isStreamName(rest) {
		l.Kind, l.Target = SQLite, rest
		return l, nil
	}
	return l, fmt.Errorf("%w: %s: no such file (a store is sqlite:PATH or postgres://…, a stream is a file or -)", ErrLocation, l)
}

// splitStore splits a trailing #NAME off. A fragment holding '/' is part of
// a path, not a store name.
func splitStore(s string) (rest, store string) {
	i := strings.LastIndexByte(s, '#')
	if i < 0 || i == len(s)-1 || strings.ContainsRune(s[i+1:], '/') {
		return s, ""
	}
	return s[:i], s[i+1:]
}

func isStreamName(p string) bool {
	for _, ext := range []string{".jsonl", ".jsonl.zst", ".jsonl.zstd", ".jsonl.gz", ".json", ".zst", ".gz"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

func sniff(path string) (Kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		return 0, fmt.Errorf("%s is a directory", path)
	}
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if n == len(head) && bytes.Equal(head, []byte(sqliteMagic)) {
		return SQLite, nil
	}
	if n == 0 && !isStreamName(path) {
		// An empty file that is not named like a stream is a SQLite file
		// yet to be written (sqlite3 creates such files).
		return SQLite, nil
	}
	return File, nil
}
