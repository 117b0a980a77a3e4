package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/pgtest"
)

// apiWriterEnv, set, makes the test binary a writer through the Go API
// (see TestMain) instead of running the tests.
const apiWriterEnv = "PERSIST_TEST_API_WRITER"

// apiWriter puts, deletes and appends through the Go API into the store at
// loc until the file stop appears in dir, then notes how many rounds it
// wrote in dir/api.count. While it writes, dir/api.run exists.
func apiWriter(loc, dir string) int {
	fail := func(err error) int {
		os.WriteFile(filepath.Join(dir, "api.err"), []byte(err.Error()), 0o644)
		os.Remove(filepath.Join(dir, "api.run"))
		return 1
	}
	ctx := context.Background()
	s, err := persist.Open(ctx, loc)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api.run"), nil, 0o644); err != nil {
		return fail(err)
	}
	n := 0
	for !exists(filepath.Join(dir, "stop")) {
		n++
		if _, err := s.Put(ctx, "app-go", fmt.Sprintf("k%03d", n%200), map[string]any{"n": n, "by": "go"}); err != nil {
			return fail(err)
		}
		if n%3 == 0 {
			if _, err := s.Delete(ctx, "app-go", fmt.Sprintf("k%03d", (n*7)%200)); err != nil && !errors.Is(err, persist.ErrNotFound) {
				return fail(err)
			}
		}
		if n%2 == 0 {
			if _, err := s.Append(ctx, "app-go", "wrote", map[string]any{"n": n}); err != nil {
				return fail(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		return fail(err)
	}
	os.WriteFile(filepath.Join(dir, "api.count"), []byte(strconv.Itoa(n)), 0o644)
	os.Remove(filepath.Join(dir, "api.run"))
	return 0
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sqlWriter is an application that writes the tables itself, as the seed's
// does, through one sqlite3 process: puts with the next version, deletes as
// tombstones, appends with the next seq, each round one transaction, until
// $W/stop appears. While it writes, $W/sql.run exists.
const sqlWriter = `
touch "$W/sql.run"
{
	echo ".timeout 30000"
	i=0
	while [ ! -e "$W/stop" ]; do
		i=$((i + 1))
		now="strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'"
		cat <<SQL
BEGIN IMMEDIATE;
INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
	VALUES ('app', 'app-sql', 'k$((i % 200))', 1, $now, 0, '{"i":$i,"by":"sql"}')
	ON CONFLICT (store, collection, key) DO UPDATE SET version = version + 1,
		updated_at = excluded.updated_at, deleted = 0, value = excluded.value;
UPDATE persist_records SET deleted = 1, value = NULL, version = version + 1, updated_at = $now
	WHERE store = 'app' AND collection = 'app-sql' AND key = 'k$(((i * 7) % 200))' AND deleted = 0 AND $((i % 3)) = 0;
INSERT INTO persist_events (store, stream, seq, type, at, data)
	SELECT 'app', 'app-sql', coalesce(max(seq), 0) + 1, 'wrote', $now, '{"i":$i}'
	FROM persist_events WHERE store = 'app' AND stream = 'app-sql';
COMMIT;
SQL
		sleep 0.003
	done
	echo "$i" > "$W/sql.count"
} | sqlite3 -bail "$W/app.db" > "$W/sql.out" 2>&1
rm "$W/sql.run"
`

// The shell runbook of docs/migration.md, run as written, moves a SQLite
// store into PostgreSQL while two writers keep writing until the freeze:
// an application writing the tables with sqlite3, and one writing through
// the Go API. The stores end with equal sums; the test reports how long
// writes were stopped.
func TestMoveRunbook(t *testing.T) {
	scripts := scriptDir(t, "migration.md", "persist-move")
	w := t.TempDir()
	old := "sqlite:" + filepath.Join(w, "app.db") + "#app"
	newLoc := pgtest.NewDatabase(t) + "#app"
	seed := filepath.Join(w, "seed.jsonl")
	genStream(t, seed, 20000, 7)
	mustRun(t, seed, "persist-load", "-q", old)

	env := []string{"W=" + w}
	sqlDone := make(chan result, 1)
	go func() { sqlDone <- runScript(t, scripts, env, sqlWriter) }()
	api := exec.Command(os.Args[0])
	api.Env = append(os.Environ(), apiWriterEnv+"="+old, "PERSIST_TEST_WRITER_DIR="+w)
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Wait() }()
	defer func() {
		os.WriteFile(filepath.Join(w, "stop"), nil, 0o644)
		<-apiDone
		<-sqlDone
	}()
	// Both writers under way before the move starts.
	deadline := time.Now().Add(30 * time.Second)
	for !(exists(filepath.Join(w, "sql.run")) && exists(filepath.Join(w, "api.run"))) {
		if time.Now().After(deadline) || exists(filepath.Join(w, "api.err")) {
			b, _ := os.ReadFile(filepath.Join(w, "api.err"))
			t.Fatalf("the writers did not start: %s", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)

	freeze := `touch "$W/stop"; while [ -e "$W/sql.run" ] || [ -e "$W/api.run" ]; do sleep 0.005; done`
	r := runScript(t, scripts, append(env, "OLD="+old, "NEW="+newLoc, "FREEZE="+freeze, "SWITCH=touch \"$W/switched\"", "SMALL=50"),
		"persist-move")
	if err := <-apiDone; err != nil {
		b, _ := os.ReadFile(filepath.Join(w, "api.err"))
		t.Fatalf("the Go API writer: %v: %s", err, b)
	}
	apiDone <- nil
	sr := <-sqlDone
	sqlDone <- sr
	if sr.code != 0 {
		b, _ := os.ReadFile(filepath.Join(w, "sql.out"))
		t.Fatalf("the sqlite3 writer: exit %d: %s%s", sr.code, sr.stderr, b)
	}
	if r.code != 0 {
		t.Fatalf("persist-move: exit %d\n%s", r.code, r.stderr)
	}
	if !exists(filepath.Join(w, "switched")) {
		t.Fatal("persist-move ended without running SWITCH")
	}
	counts := map[string]int{}
	for _, n := range []string{"sql", "api"} {
		b, _ := os.ReadFile(filepath.Join(w, n+".count"))
		counts[n], _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if counts[n] < 20 {
			t.Errorf("the %s writer wrote only %d rounds", n, counts[n])
		}
	}
	if a, b := sumOf(t, old), sumOf(t, newLoc); a != b {
		t.Fatalf("after the move: %s, %s", a, b)
	}
	// The writers' last writes are there: every event they appended.
	for stream, n := range map[string]int{"app-sql": counts["sql"], "app-go": counts["api"] / 2} {
		d := mustRun(t, "", "persist-dump", "-q", "--stream", stream, newLoc)
		if got := strings.Count(d.stdout, `"kind":"event"`); got != n {
			t.Errorf("stream %s holds %d events in the new store, want %d", stream, got, n)
		}
	}
	m := regexp.MustCompile(`writes were stopped for (\d+) ms`).FindStringSubmatch(r.stderr)
	caught := regexp.MustCompile(`caught up (\d+) changes`).FindAllStringSubmatch(r.stderr, -1)
	if m == nil || len(caught) == 0 {
		t.Fatalf("persist-move said:\n%s", r.stderr)
	}
	t.Logf("moved a 20000-record store while the writers wrote %d (sqlite3) and %d (Go API) rounds; "+
		"%d catch-up deltas; writes were stopped for %s ms\n%s", counts["sql"], counts["api"], len(caught), m[1], r.stderr)
}
