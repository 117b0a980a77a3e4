package pgtest_test

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each test gets a database of its own, even when they run in parallel.
func TestNewDatabaseIsolated(t *testing.T) {
	for i := range 4 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			db := open(t, pgtest.NewDatabase(t))
			if _, err := db.Exec("CREATE TABLE t (n int)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO t VALUES ($1)", i); err != nil {
				t.Fatal(err)
			}
			var n, count int
			if err := db.QueryRow("SELECT min(n), count(*) FROM t").Scan(&n, &count); err != nil {
				t.Fatal(err)
			}
			if n != i || count != 1 {
				t.Fatalf("database shared with another test: min %d count %d, want %d and 1", n, count, i)
			}
		})
	}
}

func TestDatabaseDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		db := open(t, pgtest.NewDatabase(t))
		if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		// An open connection must not keep the database from being dropped.
		db.SetMaxIdleConns(1)
	})
	admin := open(t, pgtest.AdminURL(t))
	var n int
	if err := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

// The throwaway cluster, forced by PERSIST_TEST_NO_LOCAL=1, in a child test
// process so that its pgtest.Main stops it; afterwards its directory is gone.
func TestThrowawayCluster(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		t.Skip("already the child")
	}
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestThrowawayChild$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", pgtest.EnvNoLocal+"=1", pgtest.EnvURL+"=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`data_directory=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child did not report its cluster:\n%s", out)
	}
	dir := string(m[1])
	if !strings.Contains(dir, "persist-pgtest-") {
		t.Fatalf("child used %s, not a throwaway cluster:\n%s", dir, out)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Fatalf("throwaway cluster directory %s left behind (stat: %v)", filepath.Dir(dir), err)
	}
}

func TestThrowawayChild(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "1" {
		t.Skip("run by TestThrowawayCluster")
	}
	db := open(t, pgtest.NewDatabase(t))
	var dir string
	var sum int
	if err := db.QueryRow("SELECT current_setting('data_directory'), 1 + 1").Scan(&dir, &sum); err != nil {
		t.Fatal(err)
	}
	if sum != 2 {
		t.Fatalf("1 + 1 = %d", sum)
	}
	t.Logf("data_directory=%s", dir)
}
