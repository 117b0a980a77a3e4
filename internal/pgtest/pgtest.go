// Package pgtest gives tests a real PostgreSQL database of their own.
//
// Where the server comes from is decided once per test process:
//
//  1. PERSIST_TEST_POSTGRES, when set: the URL of a server on which the tests
//     may create and drop databases (postgres://user:pass@host:port/postgres).
//
//  2. Else 127.0.0.1:5432 as user postgres, when it answers within 2 seconds.
//
//  3. Else a throwaway cluster: initdb and pg_ctl from PATH or
//     /usr/lib/postgresql/*/bin, in a temporary directory, on a free port,
//     with trust authentication (run as the postgres user when the test
//     process is root). It is stopped and deleted when the test binary ends,
//     which needs the package's TestMain to call Main:
//
//     func TestMain(m *testing.M) { pgtest.Main(m) }
//
// PERSIST_TEST_NO_LOCAL=1 skips step 2, so the throwaway path can be tested
// on a machine that has a local server.
//
// When no server can be had, tests fail (never skip) with a message that says
// how to get one.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver
)

// Environment variables that choose the server.
const (
	EnvURL     = "PERSIST_TEST_POSTGRES"
	EnvNoLocal = "PERSIST_TEST_NO_LOCAL"
)

const localURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const howTo = "set " + EnvURL + "=postgres://USER:PASSWORD@HOST:PORT/postgres (a server where tests may " +
	"create databases), or install PostgreSQL (apt-get install postgresql) so initdb/pg_ctl are on PATH"

var (
	mainCalled bool

	once   sync.Once
	admin  *sql.DB // connections to the server's postgres database
	server *url.URL
	owned  *cluster // non-nil when this process started the server
	setupE error
)

// Main runs the tests and then stops the throwaway cluster, if one was
// started. Call it from TestMain in every package that uses pgtest.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain that has its own clean-up to do after the
// tests: it returns the exit code instead of exiting.
func Run(m *testing.M) int {
	mainCalled = true
	code := m.Run()
	shutdown()
	return code
}

func shutdown() {
	if admin != nil {
		admin.Close()
	}
	if owned != nil {
		if err := owned.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
}

// NewDatabase creates a fresh database for t, dropped when t ends, and returns
// its libpq URL. See the package doc for where the server comes from.
func NewDatabase(t testing.TB) string {
	t.Helper()
	db := connect(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "persist_t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(server, name)
}

// AdminURL returns the URL of the server's postgres database as a superuser
// (or whatever role PERSIST_TEST_POSTGRES names), for tests that need to
// terminate backends or create roles.
func AdminURL(t testing.TB) string {
	t.Helper()
	connect(t)
	return withDatabase(server, "postgres")
}

func withDatabase(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	c.RawPath = ""
	return c.String()
}

// connect decides on the server once per process and returns the pool of
// connections to its postgres database.
func connect(t testing.TB) *sql.DB {
	t.Helper()
	once.Do(func() { setupE = setup() })
	if setupE != nil {
		t.Fatalf("pgtest: no PostgreSQL server for tests: %v\nTo get one, %s.", setupE, howTo)
	}
	return admin
}

func setup() error {
	if env := os.Getenv(EnvURL); env != "" {
		u, err := url.Parse(env)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("%s is not a postgres:// URL", EnvURL)
		}
		if err := use(u, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w", EnvURL, err)
		}
		return nil
	}
	if os.Getenv(EnvNoLocal) != "1" {
		u, _ := url.Parse(localURL)
		if use(u, 2*time.Second) == nil {
			return nil
		}
	}
	if !mainCalled {
		return fmt.Errorf("a throwaway cluster is needed, but this package's TestMain does not call pgtest.Main " +
			"(which stops the cluster when the tests end)")
	}
	c, err := startCluster()
	if err != nil {
		return err
	}
	if err := use(c.url, 30*time.Second); err != nil {
		c.stop()
		return err
	}
	owned = c
	return nil
}

// use connects to u and keeps it as the server when it answers in time.
func use(u *url.URL, timeout time.Duration) error {
	db, err := sql.Open("postgres", withDatabase(u, trimSlash(u.Path)))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("cannot connect to %s: %w", u.Redacted(), err)
	}
	admin, server = db, u
	return nil
}

func trimSlash(p string) string {
	if len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if p == "" {
		return "postgres"
	}
	return p
}

// Respell names the database of the URL dsn otherwise, as another program
// may: in keyword/value form, through the other loopback name, as another
// application.
func Respell(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	kv := []string{"dbname=" + kvQuote(strings.TrimPrefix(u.Path, "/")), "application_name=another"}
	host := u.Hostname()
	switch host {
	case "127.0.0.1":
		host = "localhost"
	case "localhost":
		host = "127.0.0.1"
	}
	if host != "" {
		kv = append(kv, "host="+kvQuote(host))
	}
	if p := u.Port(); p != "" {
		kv = append(kv, "port="+p)
	}
	if u.User != nil {
		kv = append(kv, "user="+kvQuote(u.User.Username()))
		if pw, ok := u.User.Password(); ok {
			kv = append(kv, "password="+kvQuote(pw))
		}
	}
	for k, v := range u.Query() {
		if k == "host" { // a socket folder
			kv = append(kv, "host="+kvQuote(v[0]))
			continue
		}
		kv = append(kv, k+"="+kvQuote(v[0]))
	}
	return strings.Join(kv, " ")
}

// kvQuote quotes a keyword/value string's value, as libpq reads it.
func kvQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
