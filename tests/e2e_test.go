// Package tests runs the built binaries end to end: real SQLite files, a
// real PostgreSQL, real jq, zstd, sqlite3, psql and shuf in pipelines. Each
// script in testdata/*.txtar gets its own work directory and its own
// PostgreSQL database ($PGURL).
package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cuitty/persist/internal/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

var binDir string

func TestMain(m *testing.M) {
	if loc := os.Getenv(apiWriterEnv); loc != "" {
		os.Exit(apiWriter(loc, os.Getenv("PERSIST_TEST_WRITER_DIR")))
	}
	dir, err := os.MkdirTemp("", "persist-e2e-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := func() int {
		defer os.RemoveAll(dir)
		// The binaries under test are built once, exactly as users build them.
		cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
		cmd.Dir = ".."
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			os.Stderr.WriteString("building the binaries failed: " + err.Error() + "\n")
			return 2
		}
		return pgtest.Run(m)
	}()
	os.Exit(code)
}

func TestScripts(t *testing.T) {
	for _, tool := range []string{"jq", "zstd", "sqlite3", "psql", "shuf", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed by the end-to-end tests: apt-get install %s (or run .ci/run)", tool, tool)
		}
	}
	vectors, err := filepath.Abs("../internal/record/testdata/vectors")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		// [root]: a step that needs files of two users, which only root
		// can make (CI runs as root).
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("VECTORS", vectors)
			env.Setenv("PGURL", pgtest.NewDatabase(t))
			env.Setenv("PGADMIN", pgtest.AdminURL(t))
			env.Setenv("GOOS", runtime.GOOS)
			env.Setenv("LC_ALL", "C")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// pgdb makes another fresh database and sets the named variable to its URL.
			"pgdb": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: pgdb VAR")
				}
				ts.Setenv(args[0], pgtest.NewDatabase(t))
			},
			// pgrespell VAR URL: VAR is the database at URL named otherwise,
			// as another program may (keyword/value, another host name).
			"pgrespell": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: pgrespell VAR URL")
				}
				ts.Setenv(args[0], "postgres:"+pgtest.Respell(t, args[1]))
			},
		},
	})
}
