package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/pgtest"
)

// docScript is the shell script a docs page shows right after the marker
// <!-- script: NAME --> (and the docs test's "not run"), as written there.
func docScript(t *testing.T, page, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- script: " + regexp.QuoteMeta(name) + " -->\n(?:<!-- not run: [^>]*-->\n)?```sh\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("docs/%s has no script %s", page, name)
	}
	return string(m[1])
}

// scriptDir writes the named scripts of a docs page as executables into a
// directory and returns it.
func scriptDir(t *testing.T, page string, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(docScript(t, page, n)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runScript runs a command line in bash with the binaries and the scripts of
// dir first on PATH, in env, and returns what it did.
func runScript(t *testing.T, dir string, env []string, line string) result {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func mustShell(t *testing.T, dir string, env []string, line string) result {
	t.Helper()
	r := runScript(t, dir, env, line)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", line, r.code, r.stdout, r.stderr)
	}
	return r
}

// storeSide is a store the backup scripts read, and how to write its
// tables as another program would.
type storeSide struct {
	name  string
	store string // the location, with #app
	sql   string // a command that runs the SQL given as its last argument
}

// The backup runbook's scripts, as docs/backup.md shows them: a nightly
// full dump and deltas while other programs and Persist write; restoring a
// chain, or a part of it, gives the source's sum at its last delta; a
// missing delta stops the restore; a store that can no longer be followed
// makes the delta fail with the way on, and a new chain follows it.
func TestBackupScripts(t *testing.T) {
	for _, tc := range []struct {
		source storeSide
		target func(t *testing.T, dir string, n int) string
	}{
		{
			source: storeSide{name: "sqlite", store: "sqlite:{dir}/app.db#app", sql: "sqlite3 {dir}/app.db"},
			target: func(t *testing.T, dir string, n int) string { return pgtest.NewDatabase(t) + "#app" },
		},
		{
			source: storeSide{name: "postgres", store: "{pg}#app", sql: "psql -X -q -v ON_ERROR_STOP=1 {pg} -c"},
			target: func(t *testing.T, dir string, n int) string {
				return "sqlite:" + filepath.Join(dir, "restored"+strings.Repeat("x", n)+".db") + "#app"
			},
		},
	} {
		t.Run(tc.source.name, func(t *testing.T) {
			backupScripts(t, tc.source, tc.target)
		})
	}
}

func backupScripts(t *testing.T, side storeSide, target func(t *testing.T, dir string, n int) string) {
	scripts := scriptDir(t, "backup.md", "persist-backup", "persist-restore")
	dir := t.TempDir()
	pg := pgtest.NewDatabase(t)
	expand := strings.NewReplacer("{dir}", dir, "{pg}", pg).Replace
	store := expand(side.store)
	backups := filepath.Join(dir, "backups")
	env := []string{"STORE=" + store, "BACKUP_DIR=" + backups, "KEEP=1"}
	sh := func(line string) result { return mustShell(t, scripts, env, line) }
	sqlExec := func(q string) { sh(expand(side.sql) + " " + shellQuote(q)) }
	sum := func() string { return sumOf(t, store) }

	mustRun(t, "../internal/record/testdata/vectors/stream-small.jsonl", "persist-load", "-q", store)
	sh("persist-backup full")
	sumFull := sum()

	// An application writing the tables itself: a put with a new version, a
	// delete as a tombstone, an append; a hand edit that changes nothing
	// but a value; a write through Persist.
	sqlExec(`UPDATE persist_records SET value = '{"n":1}', version = version + 1, updated_at = '2026-12-04T10:00:00.000000Z'
		WHERE store = 'app' AND key = (SELECT min(key) FROM persist_records WHERE store = 'app')`)
	sqlExec(`UPDATE persist_records SET deleted = true, value = NULL, version = version + 1
		WHERE store = 'app' AND key = (SELECT max(key) FROM persist_records WHERE store = 'app' AND NOT deleted)`)
	sqlExec(`INSERT INTO persist_events (store, stream, seq, type, at, data)
		SELECT 'app', 'app-events', coalesce(max(seq), 0) + 1, 'made', '2026-12-04T10:00:00.000000Z', '{}'
		FROM persist_events WHERE store = 'app' AND stream = 'app-events'`)
	sh("persist-backup delta")
	sum1 := sum()
	sqlExec(`UPDATE persist_records SET value = '"by hand"'
		WHERE store = 'app' AND key = (SELECT max(key) FROM persist_records WHERE store = 'app' AND NOT deleted)`)
	sh(`echo '{"kind":"record","collection":"users","key":"zz-persist","value":{"by":"persist"}}' | persist-load -q "$STORE"`)
	sh("persist-backup delta")
	sum2 := sum()
	sh("persist-backup delta") // nothing changed
	if sum1 == sumFull || sum2 == sum1 {
		t.Fatalf("the writes changed nothing: %s, %s, %s", sumFull, sum1, sum2)
	}

	chain := filepath.Join(backups, "current")
	files, _ := filepath.Glob(filepath.Join(chain, "*.jsonl.zst"))
	if len(files) != 4 || !strings.Contains(files[0], "0000-full-") || !strings.Contains(files[3], "0003-delta-") {
		t.Fatalf("chain holds %q", files)
	}
	restore := func(chainDir string, n int) result {
		return runScript(t, scripts, env, "persist-restore "+shellQuote(chainDir)+" "+shellQuote(target(t, dir, n)))
	}
	r := restore(chain, 1)
	if r.code != 0 || sumLine(r.stdout) != sum2 {
		t.Fatalf("restore of the whole chain: exit %d, %q; want the source's %s\n%s", r.code, r.stdout, sum2, r.stderr)
	}
	// To a point in time: the full dump and the first delta.
	pit := t.TempDir()
	for _, f := range files[:2] {
		sh("cp " + shellQuote(f) + " " + shellQuote(pit))
	}
	if r := restore(pit, 2); r.code != 0 || sumLine(r.stdout) != sum1 {
		t.Fatalf("restore to the first delta: exit %d, %q; want %s\n%s", r.code, r.stdout, sum1, r.stderr)
	}
	// A delta gone missing stops the restore where it is.
	gap := t.TempDir()
	for _, f := range []string{files[0], files[2]} {
		sh("cp " + shellQuote(f) + " " + shellQuote(gap))
	}
	if r := restore(gap, 3); r.code != 2 || !strings.Contains(r.stderr, "delta out of sequence") {
		t.Fatalf("restore with a delta missing: exit %d\n%s", r.code, r.stderr)
	}

	// An outright delete: the chain cannot go on, the script says how to
	// start the next, and the next night's full dump does (KEEP=1 prunes
	// the old chain).
	old, _ := os.Readlink(chain)
	sqlExec(`DELETE FROM persist_events WHERE store = 'app' AND stream = 'app-events'`)
	r = runScript(t, scripts, env, "persist-backup delta")
	if r.code != 2 || !strings.Contains(r.stderr, "deleted outright") || !strings.Contains(r.stderr, "persist-backup full") {
		t.Fatalf("delta after an outright delete: exit %d\n%s", r.code, r.stderr)
	}
	// persist-dump's own hint, to remove the cursor file, followed: the
	// chain stays one to restore from, which the next full run with KEEP=2
	// keeps.
	if err := os.Remove(filepath.Join(backups, old, "cursor")); err != nil {
		t.Fatal(err)
	}
	keep2 := []string{"STORE=" + store, "BACKUP_DIR=" + backups, "KEEP=2"}
	if r := runScript(t, scripts, keep2, "persist-backup full"); r.code != 0 {
		t.Fatalf("a full run after the cursor file was removed: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(backups, old)); err != nil {
		t.Fatalf("the chain whose cursor file was removed went with a full run that keeps two: %v", err)
	}
	if r := restore(filepath.Join(backups, old), 5); r.code != 0 || sumLine(r.stdout) != sum2 {
		t.Fatalf("restore of the chain whose cursor file was removed: exit %d, %q; want %s\n%s", r.code, r.stdout, sum2, r.stderr)
	}
	// A full dump that fails (here, a store that does not exist), and one
	// killed halfway (a chain without its full dump), count for nothing:
	// KEEP=1 keeps the complete chain, and the next full run prunes the
	// half-made one.
	bad := []string{"STORE=" + store + "-nosuch", "BACKUP_DIR=" + backups, "KEEP=1"}
	if r := runScript(t, scripts, bad, "persist-backup full"); r.code != 2 || !strings.Contains(r.stderr, "the full dump failed") {
		t.Fatalf("a failed full dump: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Mkdir(filepath.Join(backups, "29991231T000000Z.killed"), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(backups, old)); err != nil {
		t.Fatalf("the complete chain went with a failed run: %v", err)
	}
	sh("persist-backup full")
	sh("persist-backup delta")
	if dirs, _ := filepath.Glob(filepath.Join(backups, "2*")); len(dirs) != 1 {
		t.Errorf("with KEEP=1 the backups hold %q", dirs)
	}
	if now, _ := os.Readlink(chain); now == old {
		t.Fatal("current still names the old chain")
	}
	if _, err := os.Stat(filepath.Join(backups, old)); !os.IsNotExist(err) {
		t.Errorf("the old chain is still there with KEEP=1: %v", err)
	}
	if r := restore(chain, 4); r.code != 0 || sumLine(r.stdout) != sum() {
		t.Fatalf("restore of the new chain: exit %d, %q; want %s\n%s", r.code, r.stdout, sum(), r.stderr)
	}
}

// sumLine is the sum and counts of persist-sum's output, as sumOf gives them.
func sumLine(out string) string {
	f := strings.Fields(out)
	if len(f) < 3 {
		return out
	}
	return strings.Join(f[:3], " ")
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
