package sqlite

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
)

// magic is how every SQLite database file begins.
const magic = "SQLite format 3\x00"

func init() {
	adapters.Register(&adapters.Driver{
		Name:    "sqlite",
		Schemes: []string{"sqlite"},
		Target: func(_, rest string) (string, error) {
			path := strings.TrimPrefix(rest, "//") // tolerate sqlite://path
			if path == "" {
				return "", errors.New("no file path after the sqlite scheme")
			}
			return path, nil
		},
		Open: func(_ context.Context, path string, opt adapters.OpenOptions) (adapters.Adapter, error) {
			// Opening a file does not wait on anything a context could end.
			return Open(path, Options{ReadOnly: opt.ReadOnly, Scratch: opt.Scratch})
		},
		Check: (*Adapter)(nil).Check,
		// An empty file is a database yet to be written: sqlite3 makes such
		// files, and so does touch.
		Sniff:    func(head []byte) bool { return len(head) == 0 || bytes.Equal(head, []byte(magic)) },
		Files:    files,
		NewFiles: true,
	})
}

// files are what a database at path consists of, the database file first.
func files(path string) []string {
	return []string{path, path + "-wal", path + "-shm", path + "-journal"}
}
