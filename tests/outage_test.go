package tests

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/cuitty/persist/internal/pgtest"
)

// outage is how long the server stays down during the load: longer than
// the whole retry budget of the loader before (8 retries, about 10 s).
const outage = 20 * time.Second

// A load rides out a server stopped for 20 s while its batches are in
// flight: it finishes, the store's sum is the stream's, and each retry said
// why on stderr. Beside it, a load given --retry-for 3s gives up while the
// server is down, saying how long it tried and why, and -q keeps its
// retries to itself.
func TestLoadRidesOutServerStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 200_000, 11)
	cl := pgtest.NewCluster(t)
	target := cl.URL() + "#gen"

	// The stream goes through a pipe held open until after the outage, so
	// that the load cannot end before the server stops.
	long := startLoad(t, "persist-load", target)
	short := startLoad(t, "persist-load", "-q", "--retry-for", "3s", "--batch-size", "1", cl.URL()+"#short")
	short.feed(t, []byte(`{"kind":"record","collection":"c","key":"first","value":1}`+"\n"))
	waitForRecords(t, cl.URL(), "short", 1)

	stream, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	fed := make(chan error, 1)
	go func() { fed <- long.write(stream) }()
	waitForRecords(t, cl.URL(), "gen", 20_000)
	cl.Stop(t)
	stopped := time.Now()
	short.feed(t, []byte(`{"kind":"record","collection":"c","key":"second","value":2}`+"\n"))
	short.close()
	sr := short.wait(t)
	if since := time.Since(stopped); since >= outage {
		t.Fatalf("the --retry-for 3s load was still retrying %v after the server stopped", since)
	}
	time.Sleep(outage - time.Since(stopped))
	cl.Start(t)
	if err := <-fed; err != nil {
		r := long.wait(t)
		t.Fatalf("feeding the load: %v; it ended with exit %d:\n%s", err, r.code, r.stderr)
	}
	long.close()
	lr := long.wait(t)

	if lr.code != 0 {
		t.Fatalf("the load did not ride out the outage: exit %d\nstderr:\n%s", lr.code, lr.stderr)
	}
	checkRetryLines(t, lr.stderr)
	if want, got := sumOf(t, in), sumOf(t, target); got != want {
		t.Fatalf("store sum %s, stream sum %s", got, want)
	}

	if sr.code != 2 || !regexp.MustCompile(`persist-load: error: batch of lines 2-2: gave up retrying after \d+ attempts over \d+s: connection refused by `).MatchString(sr.stderr) ||
		!strings.Contains(sr.stderr, "persist-load: hint: batches committed before stay; once the database is back, run the same load again") {
		t.Fatalf("the --retry-for 3s load: exit %d\nstderr:\n%s", sr.code, sr.stderr)
	}
	if strings.Contains(sr.stderr, "warning") {
		t.Fatalf("-q printed retries:\n%s", sr.stderr)
	}
	// Its hint, followed: the same load again, the server back.
	again := startLoad(t, "persist-load", "-q", "--retry-for", "3s", "--batch-size", "1", cl.URL()+"#short")
	again.feed(t, []byte(`{"kind":"record","collection":"c","key":"first","value":1}`+"\n"+`{"kind":"record","collection":"c","key":"second","value":2}`+"\n"))
	again.close()
	if r := again.wait(t); r.code != 0 || r.stderr != "" {
		t.Fatalf("the same load again: exit %d\n%s", r.code, r.stderr)
	}
	if got := sumOf(t, cl.URL()+"#short"); !strings.Contains(got, "records=2 events=0") {
		t.Fatalf("after the rerun the store holds %s", got)
	}
}

// checkRetryLines checks that a load said why it retried, in plain words,
// on lines that each name the batch, the cause, the attempt and the wait.
func checkRetryLines(t *testing.T, stderr string) {
	t.Helper()
	retry := regexp.MustCompile(`^persist-load: warning: batch of lines \d+-\d+: (.+); attempt (\d+) in \d[\d.]*m?s \(retrying for up to \dm\d+s more\)$`)
	// A batch waiting for the one before it (which is riding out the
	// outage) lets go of its locks and tries again once that one commits.
	turn := regexp.MustCompile(`^persist-load: warning: batch of lines \d+-\d+: the batch before had not committed [\d.]+m?s after this one began; rolled back so as not to hold its locks meanwhile; attempt \d+ once the batch before has committed$`)
	summary := regexp.MustCompile(`; (\d+) retries;`)
	causes := map[string]bool{}
	var n int
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if m := retry.FindStringSubmatch(line); m != nil {
			n++
			switch c := m[1]; {
			case strings.Contains(c, "terminated by an administrator or a server shutdown"):
				causes["shutdown"] = true
			case strings.HasPrefix(c, "connection refused by 127.0.0.1:"):
				causes["refused"] = true
			case strings.Contains(c, "the server does not accept connections now"),
				strings.Contains(c, "the server closed the connection unexpectedly"),
				strings.Contains(c, "the connection was reset (by the server, or by the network between)"):
			default:
				t.Errorf("a retry without a cause in plain words: %s", line)
			}
			continue
		}
		if turn.MatchString(line) {
			continue
		}
		if !strings.HasPrefix(line, "persist-load: postgres://") || summary.FindString(line) == "" {
			t.Errorf("unexpected line on stderr: %s", line)
		}
	}
	if n == 0 || !causes["refused"] {
		t.Errorf("%d retries said on stderr, causes %v; want some, connection refused among them:\n%s", n, causes, stderr)
	}
	if strings.Contains(stderr, "bad connection") {
		t.Errorf("stderr speaks of a bad connection:\n%s", stderr)
	}
}

// A dump or a diff whose PostgreSQL session is terminated says so, not
// "driver: bad connection", and exits 2. (persist-sum reads a store through
// the same snapshot, but has no output to be held still on.)
func TestReadSaysWhyConnectionLost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 100_000, 12)
	db := pgtest.NewDatabase(t)
	mustRun(t, in, "persist-load", "-q", db+"#gen")
	// The diff's other side is a file of other keys: a pipe's would be
	// held until read whole, and the diff's output with it.
	other := filepath.Join(dir, "other.jsonl")
	genStream(t, other, 10, 99)
	for _, tool := range [][]string{
		{"persist-dump", db + "#gen"},
		{"persist-diff", db + "#gen", other},
	} {
		t.Run(tool[0], func(t *testing.T) {
			// Its stdout is not read until the session is terminated: the
			// scan waits on it, in the middle of the store.
			p := startLoad(t, tool[0], tool[1:]...)
			p.feed(t, []byte(firstLine(t, in)))
			p.close()
			terminate(t, db)
			r := p.wait(t)
			want := regexp.MustCompile(`(?m)^` + tool[0] + `: error: .*` + regexp.QuoteMeta(redacted(db)+"#gen: the session was terminated by an administrator "+
				"(pg_terminate_backend): ") + `(the server closed the connection unexpectedly|the connection was reset \(by the server, or by the network between\))$`)
			if r.code != 2 || !want.MatchString(r.stderr) || strings.Contains(r.stderr, "bad connection") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and a line matching %s", r.code, r.stderr, want)
			}
		})
	}
}

// redacted is a database URL as the tools print it, its password hidden.
func redacted(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		panic(err)
	}
	return u.Redacted()
}

// terminate waits for the persist session on db's database and terminates it.
func terminate(t *testing.T, db string) {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("postgres", pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		// A session blocked sending rows: the snapshot's, in the middle of
		// its scan.
		err := admin.QueryRow(`WITH s AS MATERIALIZED (SELECT pid FROM pg_stat_activity
				WHERE datname = $1 AND application_name = 'persist' AND wait_event = 'ClientWrite')
			SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM s`, strings.TrimPrefix(u.Path, "/")).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no persist session showed up to terminate")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proc is a binary running with a pipe on its stdin.
type proc struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout         io.Reader
	stderr         bytes.Buffer
	mu             sync.Mutex
	closeStdinOnce sync.Once
}

// startLoad starts a built binary with its stdin and stdout on pipes.
func startLoad(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(filepath.Join(binDir, name), args...)}
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if p.stdout, err = p.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.close()
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.stdin.Write(b)
	return err
}

func (p *proc) feed(t *testing.T, b []byte) {
	t.Helper()
	if err := p.write(b); err != nil {
		t.Fatalf("%s: %v", p.cmd.Path, err)
	}
}

func (p *proc) close() { p.closeStdinOnce.Do(func() { p.stdin.Close() }) }

// wait waits for the binary to end and returns what it did.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	out, _ := io.ReadAll(p.stdout)
	err := p.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", p.cmd.Path, err)
	}
	return result{string(out), p.stderr.String(), code}
}

// waitForRecords waits until the store holds at least n records.
func waitForRecords(t *testing.T, db, store string, n int) {
	t.Helper()
	conn, err := sql.Open("postgres", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		var got int
		err := conn.QueryRowContext(ctx, `SELECT count(*) FROM persist_records WHERE store = $1`, store).Scan(&got)
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the store never held %d records", n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A single write interrupted while its COMMIT waits on the server (here a
// synchronous standby that never answers: the commit is local already)
// may have taken effect: the hint must not say that nothing was written,
// which would have the same append run again and its event written twice,
// or a put --if-version lose to its own write. It says to look first, with
// the command that does, which then shows the write there.
func TestInterruptedCommitSaysLook(t *testing.T) {
	t.Parallel()
	cl, db, standby := syncRepCluster(t)
	dir := t.TempDir()
	env := append(os.Environ(), "PERSIST_URL="+cl.URL())
	persist := func(args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(binDir, "persist"), args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	if out, err := persist("append", "ev", "s", "t", `{"n":0}`).CombinedOutput(); err != nil {
		t.Fatalf("persist append: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		look string // the hint's command, as typed
		find string // what it prints once the write took effect
	}{
		{[]string{"append", "ev", "s", "t", `{"n":1}`}, "persist events ev s", `"data":{"n":1}`},
		{[]string{"put", "--if-version", "0", "ev", "c", "k", `{"n":2}`}, "persist get --record ev c k", `"version":1,`},
		{[]string{"rm", "ev", "c", "k"}, "persist get --record ev c k", ""},
	} {
		code, msg := interruptAtCommit(t, db, standby, persist(c.args...))
		if code != 143 || strings.Contains(msg, "nothing of the input was written") || !strings.Contains(msg, "may have taken effect") ||
			!strings.Contains(msg, c.look+"\n") {
			t.Fatalf("persist %s, interrupted at its commit: exit %d, stderr:\n%s\nwant 143, and a hint to look with %q, not that nothing was written",
				strings.Join(c.args, " "), code, msg, c.look)
		}
		fields := strings.Fields(c.look)
		look := persist(fields[1:]...)
		out, err := look.Output()
		switch {
		case c.find == "" && err == nil:
			t.Errorf("%s after the delete: %s, want no record", c.look, out)
		case c.find != "" && !strings.Contains(string(out), c.find):
			t.Errorf("%s: %v, %s; want %s in it: the interrupted write took effect", c.look, err, out, c.find)
		}
	}
}

// A load whose work does not stop within the grace after a signal (its
// COMMIT waits on the server) cannot say what it wrote: the hint says so,
// not that nothing was, and points at the store, where the batch is.
func TestInterruptedLoadSaysNotCounted(t *testing.T) {
	t.Parallel()
	cl, db, standby := syncRepCluster(t)
	dir := t.TempDir()
	in, seed := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "seed.jsonl")
	for path, key := range map[string]string{in: "k", seed: "seed"} {
		if err := os.WriteFile(path, []byte(`{"kind":"record","collection":"c","key":"`+key+`","value":1}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The schema and the store made first: the commit waited on is the
	// batch's.
	if out, err := exec.Command(filepath.Join(binDir, "persist-load"), cl.URL()+"#app", "-i", seed).CombinedOutput(); err != nil {
		t.Fatalf("persist-load: %v\n%s", err, out)
	}
	code, msg := interruptAtCommit(t, db, standby, exec.Command(filepath.Join(binDir, "persist-load"), cl.URL()+"#app", "-i", in))
	if code != 143 || strings.Contains(msg, "nothing of the input was written") ||
		!strings.Contains(msg, "hint: the run was ended before its work stopped, so what it wrote is not counted here") {
		t.Fatalf("exit %d, stderr:\n%s\nwant 143, saying what was written is not counted", code, msg)
	}
	waitForRecords(t, cl.URL(), "app", 2)
}

// interruptAtCommit runs cmd while the cluster's commits wait on a
// standby that never answers, sends it SIGTERM once a session waits so,
// lets the commits go, and returns cmd's exit status and stderr.
func interruptAtCommit(t *testing.T, db *sql.DB, standby func(string), cmd *exec.Cmd) (int, string) {
	t.Helper()
	standby("'nobody'")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSyncRep(t, db)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	standby("''")
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return code, stderr.String()
}

// syncRepCluster is a throwaway cluster whose sessions wait at COMMIT on
// the synchronous standbys that standby names: "'nobody'", one that never
// answers, holds them; an empty list lets them go. A production server's
// do; the throwaway cluster commits without waiting (synchronous_commit
// off).
func syncRepCluster(t *testing.T) (*pgtest.Cluster, *sql.DB, func(names string)) {
	t.Helper()
	cl := pgtest.NewCluster(t)
	db, err := sql.Open("postgres", cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`ALTER DATABASE postgres SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	standby := func(names string) {
		t.Helper()
		if _, err := db.Exec(`ALTER SYSTEM SET synchronous_standby_names = ` + names); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`SELECT pg_reload_conf()`); err != nil {
			t.Fatal(err)
		}
		// The server reads its configuration again after the call returns.
		want := strings.Trim(names, "'")
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			var now string
			if err := db.QueryRow(`SELECT setting FROM pg_settings WHERE name = 'synchronous_standby_names'`).Scan(&now); err != nil {
				t.Fatal(err)
			}
			if now == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("synchronous_standby_names is %q, not %q", now, want)
			}
		}
	}
	return cl, db, standby
}

// waitForSyncRep waits until a session of the cluster waits on its
// synchronous standby.
func waitForSyncRep(t *testing.T, db *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no session waited on the synchronous standby")
		}
	}
}
