package tests

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/pgtest"
)

// SQLite -> PostgreSQL -> SQLite with a generated 100k-record store: three
// byte-identical dumps; a second load changes nothing.
func TestRoundTrip100k(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pg := pgtest.NewDatabase(t) + "#gen"
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 100_000, 1)
	a, c := "sqlite:"+filepath.Join(dir, "a.db")+"#gen", "sqlite:"+filepath.Join(dir, "c.db")
	mustRun(t, in, "persist-load", "-q", a)
	dumps := map[string]string{}
	dumpTo := func(name, loc string) string {
		p := filepath.Join(dir, name+".jsonl")
		mustRun(t, "", "persist-dump", "-q", loc, "-o", p)
		dumps[name] = p
		return p
	}
	mustRun(t, dumpTo("a", a), "persist-load", "-q", pg)
	mustRun(t, dumpTo("b", pg), "persist-load", "-q", c)
	dumpTo("c", c)
	ab, _ := os.ReadFile(dumps["a"])
	for _, n := range []string{"b", "c"} {
		b, _ := os.ReadFile(dumps[n])
		if !bytes.Equal(ab, b) {
			t.Fatalf("dump %s differs from dump a (%d vs %d bytes)", n, len(b), len(ab))
		}
	}
	if sa, sb := sumOf(t, a), sumOf(t, pg); sa != sb {
		t.Fatalf("sums differ: %s vs %s", sa, sb)
	}
	if !strings.Contains(sumOf(t, a), "records=100000 events=10000") {
		t.Fatalf("unexpected counts: %s", sumOf(t, a))
	}
	for _, loc := range []string{pg, c} {
		r := mustRun(t, dumps["a"], "persist-load", loc)
		if !strings.Contains(r.stderr, ": 0 written, 100000 unchanged, 0 stale, 0 conflicts, 0 rejects; 0 events written, 10000 unchanged;") {
			t.Fatalf("second load into %s wrote something: %s", loc, r.stderr)
		}
	}
}

// A dump is one instant even while another connection writes: it still
// matches its own trailer and header.
func TestDumpWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 100_000, 2)
	for _, loc := range []string{"sqlite:" + filepath.Join(dir, "w.db") + "#w", pgtest.NewDatabase(t) + "#w"} {
		mustRun(t, in, "persist-load", "-q", loc)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var writes int
		// Stop the writer however the test ends, before its files go.
		t.Cleanup(func() { cancel(); wg.Wait() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			// New keys and newer versions land all through the dump.
			for i := 0; ctx.Err() == nil; i++ {
				p := filepath.Join(dir, fmt.Sprintf("w%d.jsonl", i%2))
				line := fmt.Sprintf(`{"kind":"record","collection":"users","key":"k%07d","value":{"w":%d}}`+"\n"+`{"kind":"record","collection":"zz","key":"n%07d","value":%d}`+"\n", i%1000, i, i, i)
				os.WriteFile(p, []byte(line), 0o644)
				// Not run(): it may not call t's methods from this goroutine.
				cmd := exec.Command(filepath.Join(binDir, "persist-load"), "-q", loc, "-i", p)
				if cmd.Run() == nil {
					writes++
				}
			}
		}()
		time.Sleep(200 * time.Millisecond)
		out := filepath.Join(dir, "dump.jsonl")
		for i := 0; i < 3; i++ {
			mustRun(t, "", "persist-dump", "-q", loc, "-o", out)
			// persist-sum checks the trailer: a torn dump fails here.
			r := mustRun(t, out, "persist-sum", "-q", "-")
			head := firstLine(t, out)
			m := regexp.MustCompile(`"records":(\d+),"events":(\d+)`).FindStringSubmatch(head)
			if m == nil || !strings.Contains(r.stdout, "records="+m[1]+" events="+m[2]) {
				t.Fatalf("%s: header %q disagrees with the content %q", loc, head, r.stdout)
			}
		}
		cancel()
		wg.Wait()
		if writes < 2 {
			t.Fatalf("%s: only %d writes happened during the dumps", loc, writes)
		}
	}
}

// A 100 MB value dumps and sums, in memory a few times that line.
func TestHugeValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "big.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	const size = 100 << 20
	fmt.Fprint(f, `{"kind":"record","collection":"blobs","key":"b1","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"data":"`)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for n := 0; n < size; n += len(chunk) {
		f.Write(chunk)
	}
	fmt.Fprint(f, `"}}`+"\n"+`{"kind":"record","collection":"blobs","key":"b2","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`+"\n")
	f.Close()
	db := "sqlite:" + filepath.Join(dir, "big.db") + "#big"
	pg := pgtest.NewDatabase(t) + "#big"
	out := filepath.Join(dir, "out.jsonl")
	for _, step := range []struct {
		stdin string
		name  string
		args  []string
	}{
		{in, "persist-load", []string{"-q", db}},
		{in, "persist-load", []string{"-q", pg}},
		{"", "persist-dump", []string{"-q", db, "-o", out}},
		{"", "persist-sum", []string{"-q", db}},
		{"", "persist-sum", []string{"-q", pg}},
		{"", "persist-sum", []string{"-q", out}},
	} {
		cmd := exec.Command(filepath.Join(binDir, step.name), step.args...)
		if step.stdin != "" {
			f, err := os.Open(step.stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %v: %v: %s", step.name, step.args, err, errb.String())
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
		t.Logf("%s %v: peak RSS %d MiB", step.name, redactedArgs(step.args[1:]), rss>>20)
		// Each copy of the line costs 100 MiB: a reader holds the raw line,
		// the parsed value and the canonical line; a writer also the
		// driver's copy, and a loader its batch and the read-back
		// (docs/performance.md has the figures).
		limit := int64(6)
		if step.name == "persist-load" {
			limit = 12
		}
		if rss > limit*size {
			t.Errorf("%s: peak RSS %d MiB, more than %dx the 100 MiB line", step.name, rss>>20, limit)
		}
	}
	for _, loc := range []string{db, pg, out} {
		if a, b := sumOf(t, loc), sumOf(t, in); a != b {
			t.Fatalf("sum of %s %s != sum of the input %s", loc, a, b)
		}
	}
}

// A loader killed with SIGKILL halfway through, then rerun, gives the same
// store as a clean load.
func TestKilledLoadResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 200_000, 3)
	clean := "sqlite:" + filepath.Join(dir, "clean.db") + "#k"
	mustRun(t, in, "persist-load", "-q", clean)
	want := sumOf(t, clean)
	for _, loc := range []string{"sqlite:" + filepath.Join(dir, "killed.db") + "#k", pgtest.NewDatabase(t) + "#k"} {
		cmd := exec.Command(filepath.Join(binDir, "persist-load"), "-q", "--batch-size", "2000", loc)
		f, _ := os.Open(in)
		cmd.Stdin = f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once some batches have committed.
		deadline := time.Now().Add(60 * time.Second)
		for {
			time.Sleep(100 * time.Millisecond)
			r := run(t, "", "persist-sum", "-q", loc)
			if m := regexp.MustCompile(`records=(\d+)`).FindStringSubmatch(r.stdout); m != nil {
				if n, _ := strconv.Atoi(m[1]); n >= 20000 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the load made no progress", loc)
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
		partial := sumOf(t, loc)
		if partial == want {
			t.Fatalf("%s: the load had finished before it was killed; nothing was tested", loc)
		}
		mustRun(t, in, "persist-load", "-q", loc)
		if got := sumOf(t, loc); got != want {
			t.Fatalf("%s after rerun: %s, want %s", loc, got, want)
		}
	}
}

// A load whose PostgreSQL connections are terminated again and again still
// finishes, with the right sum, and says it retried.
func TestLoadSurvivesTerminatedBackends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 100_000, 4)
	url := pgtest.NewDatabase(t)
	admin, err := sql.Open("postgres", pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dbname := regexp.MustCompile(`/([^/?#]+)(\?|#|$)`).FindStringSubmatch(strings.TrimPrefix(url, "postgres://"))[1]
	ctx, cancel := context.WithCancel(context.Background())
	var killed int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			time.Sleep(300 * time.Millisecond)
			var n int
			if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbname).Scan(&n); err == nil {
				killed += n
			}
		}
	}()
	r := run(t, in, "persist-load", "--batch-size", "2000", "--retries", "20", url+"#t")
	cancel()
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("load failed (exit %d) after %d terminations: %s", r.code, killed, r.stderr)
	}
	if killed < 3 {
		t.Fatalf("only %d backends were terminated; the test did not test", killed)
	}
	m := regexp.MustCompile(`; (\d+) retries;`).FindStringSubmatch(r.stderr)
	if m == nil || m[1] == "0" {
		t.Fatalf("summary does not show retries: %s", r.stderr)
	}
	if got, want := sumOf(t, url+"#t"), sumOf(t, in); got != want {
		t.Fatalf("sum after load %s, want %s", got, want)
	}
	t.Logf("%d backends terminated, %s retries", killed, m[1])
}

// redactedArgs is args for a log line (test databases have no password, but
// the habit costs nothing).
func redactedArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = location.Redact(a)
	}
	return out
}
