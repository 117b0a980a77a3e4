package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/pgtest"
)

// A shell example in the docs is a ```sh block. One preceded by an HTML
// comment "<!-- not run: why -->" is left out, saying why.
var (
	shBlock = regexp.MustCompile("(?ms)^(<!-- not run: [^>]*-->\n)?```sh\n(.*?)^```")
	// PostgreSQL locations the docs write with a host of their own
	// (db1, host, a local socket, users u, app and user).
	pgLocation = regexp.MustCompile(`postgres(?:ql)?://(?:([^:@/\s'"]+)(:[^@/\s'"]*)?@)?[^/\s'"]*/persist`)
)

// docPrelude stands in for what a reader's machine has and this one does
// not: ssh runs the remote command here, and app-change-feed (the
// application's own change feed in docs/migration.md) is a dump of the
// store.
const docPrelude = `ssh() { shift; bash -o pipefail -c "$*"; }
app-change-feed() { persist-dump -q sqlite:./data/app.db; }
`

// Every shell example in README.md and docs/*.md runs as written, in a
// directory holding the files and stores the examples name (app.db,
// data/app.db, users.json, backup.jsonl.zst, …), against SQLite and a
// PostgreSQL database that stands for every server the examples name
// (postgres://db1/persist, postgresql://user:pass@host/persist,
// postgres:///persist: the host, port and database are this test's, the
// user its superuser, a password kept). The blocks of one page run in
// order, in one directory, each with bash -e -o pipefail: each must exit 0.
func TestDocExamples(t *testing.T) {
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"../README.md"}, pages...)
	total := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks := shBlock.FindAllStringSubmatch(string(text), -1)
		if len(blocks) == 0 {
			continue
		}
		t.Run(filepath.Base(page), func(t *testing.T) {
			dir := docFixture(t)
			pg := pgtest.NewDatabase(t)
			mustRun(t, filepath.Join(dir, "backup.jsonl"), "persist-load", "-q", pg+"#app")
			for i, b := range blocks {
				if b[1] != "" {
					continue
				}
				total++
				script := pgLocation.ReplaceAllStringFunc(b[2], func(loc string) string {
					return docPG(pg, loc)
				})
				cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", docPrelude+script)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
				cmd.Env = slicesDelete(cmd.Env, "PERSIST_URL=")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s, example %d failed (%v):\n%s\n--- output:\n%s", filepath.Base(page), i+1, err, b[2], out)
				}
			}
		})
	}
	if total < 15 {
		t.Fatalf("only %d examples found; the test did not test", total)
	}
}

// docPG is the test's database standing for a location the docs name,
// keeping its password (trust authentication ignores it).
func docPG(pg, loc string) string {
	m := pgLocation.FindStringSubmatch(loc)
	if m[2] == "" {
		return pg
	}
	return strings.Replace(pg, "://postgres@", "://postgres:pw@", 1)
}

func slicesDelete(env []string, prefix string) []string {
	out := env[:0]
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// docFixture makes the files and stores the examples name: the small
// vector stream as store app in app.db, a.db and data/app.db, its dump as
// backup.jsonl and backup.jsonl.zst, users as a JSON array and as JSON
// lines, and orders as JSON lines.
func docFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	vectors, err := filepath.Abs("../internal/record/testdata/vectors/stream-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"app.db", "a.db", "data/app.db"} {
		mustRun(t, vectors, "persist-load", "-q", "sqlite:"+filepath.Join(dir, db)+"#app")
	}
	mustRun(t, "", "persist-dump", "-q", "sqlite:"+filepath.Join(dir, "app.db"), "-o", filepath.Join(dir, "backup.jsonl"))
	mustRun(t, "", "persist-dump", "-q", "sqlite:"+filepath.Join(dir, "app.db"), "-o", filepath.Join(dir, "backup.jsonl.zst"))
	var arr, lines []string
	for i, name := range []string{"Ada", "Grace", "Zoë"} {
		u := fmt.Sprintf(`{"id":%d,"name":%q}`, i+1, name)
		arr = append(arr, u)
		lines = append(lines, strings.Replace(u, fmt.Sprintf(`"id":%d`, i+1), fmt.Sprintf(`"id":"%d"`, i+1), 1))
	}
	for name, text := range map[string]string{
		"users.json":  "[" + strings.Join(arr, ",") + "]\n",
		"users.jsonl": strings.Join(lines, "\n") + "\n",
		"orders.json": `{"id":1001,"total":12.5}` + "\n" + `{"id":1002,"total":3}` + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Each tool's --help examples run as written, in order, in the docs'
// fixture (PostgreSQL locations standing for the test's database): an
// example that fails when pasted teaches the wrong thing.
func TestHelpExamples(t *testing.T) {
	for _, tool := range tools {
		t.Run(tool, func(t *testing.T) {
			help, err := exec.Command(filepath.Join(binDir, tool), "--help").Output()
			if err != nil {
				t.Fatal(err)
			}
			examples := helpExamples(string(help))
			if len(examples) == 0 {
				t.Fatalf("%s --help has no examples", tool)
			}
			dir := docFixture(t)
			pg := pgtest.NewDatabase(t)
			// persist-seal's first example makes the store in PostgreSQL,
			// through jq, which in 1.6 rounds the fixture's large numbers
			// (docs/format.md): the other tools' read one there.
			if tool != "persist-seal" {
				mustRun(t, filepath.Join(dir, "backup.jsonl"), "persist-load", "-q", pg+"#app")
			}
			// The dumps the examples read, as a user would have them.
			for _, f := range []string{"app.jsonl.zst", "yesterday.jsonl.zst", "dump.jsonl"} {
				mustRun(t, "", "persist-dump", "-q", "sqlite:"+filepath.Join(dir, "app.db"), "-o", filepath.Join(dir, f))
			}
			for _, ex := range examples {
				script := pgLocation.ReplaceAllStringFunc(ex, func(loc string) string { return docPG(pg, loc) })
				cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", docPrelude+script)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
				cmd.Env = slicesDelete(cmd.Env, "PERSIST_URL=")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s --help example failed (%v):\n%s\n--- output:\n%s", tool, err, ex, out)
				}
			}
		})
	}
}

// helpExamples are the lines of the block after "Examples:" in help.
func helpExamples(help string) []string {
	_, rest, ok := strings.Cut(help, "\nExamples:\n\n")
	if !ok {
		return nil
	}
	var out []string
	joined := false // the line before ended in \
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "    ") {
			break
		}
		line = strings.TrimSpace(line)
		if joined {
			out[len(out)-1] += "\n" + line
		} else {
			out = append(out, line)
		}
		joined = strings.HasSuffix(line, "\\")
	}
	return out
}
