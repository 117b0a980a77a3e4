// Package testdb is the one list of databases that tests run against each
// kind of: a fresh, empty database of every adapter, real SQLite and real
// PostgreSQL (through pgtest, which fails a test it cannot serve rather than
// skip it). A test package that uses PostgreSQL calls pgtest.Main from its
// TestMain.
package testdb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/postgres"
	"github.com/cuitty/persist/internal/adapters/sqlite"
	"github.com/cuitty/persist/internal/pgtest"
)

// DB is one kind of database.
type DB struct {
	Name string
	// fresh makes an empty database and returns its location (as the
	// tools take it) and what the adapter opens (a path, a URL).
	fresh func(t testing.TB) (loc, target string)
	open  func(target string) (adapters.Adapter, error)
	// respell names the database at loc otherwise, as another program
	// may.
	respell func(t testing.TB, loc string) string
}

// All is every kind, SQLite first.
var All = []DB{
	{
		Name: "sqlite",
		fresh: func(t testing.TB) (string, string) {
			path := filepath.Join(t.TempDir(), "test.db")
			return "sqlite:" + path, path
		},
		open: func(path string) (adapters.Adapter, error) { return sqlite.Open(path, sqlite.Options{}) },
		respell: func(t testing.TB, loc string) string {
			// Through a link to its folder.
			path := strings.TrimPrefix(loc, "sqlite:")
			link := filepath.Join(t.TempDir(), "alias")
			if err := os.Symlink(filepath.Dir(path), link); err != nil {
				t.Fatal(err)
			}
			return "sqlite:" + filepath.Join(link, filepath.Base(path))
		},
	},
	{
		Name: "postgres",
		fresh: func(t testing.TB) (string, string) {
			url := pgtest.NewDatabase(t)
			return url, url
		},
		open:    func(url string) (adapters.Adapter, error) { return postgres.Open(url, postgres.Options{}) },
		respell: func(t testing.TB, url string) string { return "postgres:" + pgtest.Respell(t, url) },
	},
}

// Location makes an empty database and returns its location.
func (d DB) Location(t testing.TB) string {
	loc, _ := d.fresh(t)
	return loc
}

// Respell names the database at loc (a Location of d) otherwise, as
// another program may: the same database through another path or address.
func (d DB) Respell(t testing.TB, loc string) string {
	t.Helper()
	return d.respell(t, loc)
}

// Open makes an empty database and opens it, closed when the test ends; it
// returns the adapter and the database's path or URL, for a test that
// reaches it by other means (sqlite3, database/sql).
func (d DB) Open(t testing.TB) (adapters.Adapter, string) {
	t.Helper()
	_, target := d.fresh(t)
	a, err := d.open(target)
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() { a.Close() })
	return a, target
}

// Each runs fn in a subtest per kind of database.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	for _, d := range All {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}
