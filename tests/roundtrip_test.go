package tests

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
// byte-identical dumps (without their cursors); a second load changes
// nothing.
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
		mustRun(t, "", "persist-dump", "-q", "--no-cursor", loc, "-o", p)
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
		r := mustRun(t, dumps["a"], "persist-load", "-v", loc)
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

// A 100 MB value loads, dumps, sums and diffs in at most three copies of
// its line (peak RSS), into and from SQLite and PostgreSQL and from a file.
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
	out, outPG := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "outpg.jsonl")
	for _, step := range []struct {
		stdin string
		name  string
		args  []string
		lines int64 // copies of the huge line the command holds at once: one per side
	}{
		{in, "persist-load", []string{"-q", db}, 1},
		{in, "persist-load", []string{"-q", pg}, 1},
		{"", "persist-dump", []string{"-q", db, "-o", out}, 1},
		{"", "persist-dump", []string{"-q", pg, "-o", outPG}, 1},
		{"", "persist-dump", []string{"-q", in, "-o", filepath.Join(dir, "again.jsonl")}, 1},
		{"", "persist-sum", []string{"-q", db}, 1},
		{"", "persist-sum", []string{"-q", pg}, 1},
		{"", "persist-sum", []string{"-q", out}, 1},
		{"", "persist-diff", []string{"-q", db, out}, 2},
		{"", "persist-diff", []string{"-q", pg, db}, 2},
		{"", "persist-diff", []string{"-q", in, outPG}, 2},
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
		// Each copy of the line costs 100 MiB. Reading, a file's line is
		// held once, its value used where it lies; a store's value is held
		// by the database's client and its driver. Lines around it are
		// hashed and written in parts (docs/performance.md). Loading, the
		// line is held once, in the batch as the reader left it; SQLite
		// copies the value it binds and builds its row from that, then
		// reads the row back beside the driver's copy of it; PostgreSQL
		// gets the value in parts. What a loader holds besides (the
		// runtime, both drivers, the buffers of the lines around it) is a
		// fixed base.
		limit := 3 * step.lines * size
		if step.name == "persist-load" {
			limit += 48 << 20
		}
		if rss > limit {
			t.Errorf("%s %v: peak RSS %d MiB, more than %d MiB", step.name, redactedArgs(step.args[1:]), rss>>20, limit>>20)
		}
	}
	for _, loc := range []string{db, pg, out, outPG} {
		if a, b := sumOf(t, loc), sumOf(t, in); a != b {
			t.Fatalf("sum of %s %s != sum of the input %s", loc, a, b)
		}
	}
}

// Many values just below the size that is lent rather than copied
// (record.BigValue), or many long keys, are read in chunks bounded by their
// bytes, not only by their number: every tool stays within the 64 MiB
// memory goal, where 512 such values to a chunk once took 850 MiB, and
// 8 KB keys 220 MiB for a diff.
func TestManyLargeValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in, keys := filepath.Join(dir, "large.jsonl"), filepath.Join(dir, "keys.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("0123456789abcdef", 900<<10/16)
	for i := range 200 {
		fmt.Fprintf(f, `{"kind":"record","collection":"c","key":"k%04d","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"i":%d,"pad":"%s"}}`+"\n", i, i, pad)
	}
	f.Close()
	if f, err = os.Create(keys); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 8000)
	for i := range 20000 {
		fmt.Fprintf(f, `{"kind":"record","collection":"c","key":"%s%06d","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":%d}`+"\n", long, i, i)
	}
	f.Close()
	db := "sqlite:" + filepath.Join(dir, "large.db") + "#s"
	kdb := "sqlite:" + filepath.Join(dir, "keys.db") + "#s"
	kdb2 := "sqlite:" + filepath.Join(dir, "keys2.db") + "#s" // a store is not diffed with itself
	pg := pgtest.NewDatabase(t) + "#s"
	mustRun(t, in, "persist-load", "-q", db)
	mustRun(t, in, "persist-load", "-q", pg)
	mustRun(t, keys, "persist-load", "-q", kdb)
	mustRun(t, keys, "persist-load", "-q", kdb2)
	for _, args := range [][]string{
		{"persist-dump", "-q", db, "-o", filepath.Join(dir, "out.jsonl")},
		{"persist-dump", "-q", pg, "-o", filepath.Join(dir, "outpg.jsonl")},
		{"persist-sum", "-q", db},
		{"persist-sum", "-q", pg},
		{"persist-diff", "-q", db, pg},
		{"persist-dump", "-q", kdb, "-o", filepath.Join(dir, "outkeys.jsonl")},
		{"persist-diff", "-q", kdb, kdb2},
	} {
		rss := peakRSS(t, dir, args...)
		t.Logf("%s %v: peak RSS %d MiB", args[0], redactedArgs(args[2:]), rss>>20)
		if rss > 64<<20 {
			t.Errorf("%s %v: peak RSS %d MiB, more than 64 MiB", args[0], redactedArgs(args[2:]), rss>>20)
		}
	}
	if a, b := sumOf(t, db), sumOf(t, in); a != b {
		t.Fatalf("sum of %s %s != sum of the input %s", db, a, b)
	}
}

// peakRSS runs a tool and returns its peak resident memory, as GNU time
// measures it. The rusage of a process this test starts would not do: Go
// starts it with vfork, and Linux records the hiwater of the memory it
// shared until exec, the test process's own (tens of MiB while other tests
// run), as the tool's.
func peakRSS(t *testing.T, dir string, args ...string) int64 {
	t.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		t.Fatalf("GNU time is needed to measure memory: %v (apt-get install time)", err)
	}
	out := filepath.Join(dir, "rss.txt")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out, filepath.Join(binDir, args[0])}, args[1:]...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, errb.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	if err != nil {
		t.Fatalf("GNU time said %q: %v", b, err)
	}
	return kib << 10
}

// A line over the 256 MiB limit is set aside whole: the rejects file keeps
// its length and first bytes, the lines around it load, and the reader
// never holds more of it than the limit.
func TestLineOverLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "long.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	const maxLine = 256 << 20
	head := `{"kind":"record","collection":"blobs","key":"long","value":"`
	fmt.Fprintln(f, `{"kind":"record","collection":"blobs","key":"a","value":1}`)
	f.WriteString(head)
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	n := len(head)
	for n+len(chunk) <= maxLine-1 {
		f.Write(chunk)
		n += len(chunk)
	}
	f.Write(chunk[:maxLine-1-n])
	f.WriteString(`"}` + "\n") // one byte over the limit
	fmt.Fprintln(f, `{"kind":"record","collection":"blobs","key":"z","value":2}`)
	f.Close()

	r := run(t, "", "persist-sum", "-q", in)
	if r.code != 2 || !strings.Contains(r.stderr, "line 2: line too long: 268435457 bytes, more than 268435456 (256 MiB, the limit)") {
		t.Errorf("persist-sum: exit %d: %s", r.code, r.stderr)
	}
	rej := filepath.Join(dir, "rejects.jsonl")
	db := "sqlite:" + filepath.Join(dir, "db.db") + "#s"
	cmd := exec.Command(filepath.Join(binDir, "persist-load"), "-q", "--rejects", rej, "-i", in, db)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("persist-load: %v: %s", err, errb.String())
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("persist-load with a line over the limit: peak RSS %d MiB", rss>>20)
	if rss > 2*maxLine {
		t.Errorf("peak RSS %d MiB reading a line over the 256 MiB limit", rss>>20)
	}
	b, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Line      int64
		Reason    string
		Length    int64
		RawPrefix string `json:"raw_prefix"`
		Raw       *string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("rejects %.200s: %v", b, err)
	}
	if got.Line != 2 || got.Length != maxLine+1 || got.Raw != nil || len(got.RawPrefix) != 4096 ||
		!strings.HasPrefix(got.RawPrefix, head+"xxx") || !strings.Contains(got.Reason, "(256 MiB, the limit)") {
		t.Errorf("rejects line: %+.300v", got)
	}
	if s := sumOf(t, db); !strings.Contains(s, "records=2 events=0") {
		t.Errorf("the lines around it: %s", s)
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
	// A file that exists (empty, as touch makes it) is loaded in place,
	// batch by batch; a new one would be made aside, and a kill would
	// leave none (TestKilledLoadLeavesNoNewFile).
	if err := os.WriteFile(filepath.Join(dir, "killed.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
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

// A loader killed with SIGKILL while it makes a new SQLite file leaves no
// file under the target's name (only its scratch file, named for what it
// is), and a rerun makes the whole store.
func TestKilledLoadLeavesNoNewFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	genStream(t, in, 200_000, 3)
	want := sumOf(t, in)
	target := filepath.Join(dir, "new.db")
	cmd := exec.Command(filepath.Join(binDir, "persist-load"), "-q", "--batch-size", "2000", "sqlite:"+target)
	f, _ := os.Open(in)
	defer f.Close()
	cmd.Stdin = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		time.Sleep(20 * time.Millisecond)
		scratch, _ := filepath.Glob(filepath.Join(dir, "persist-copy-*.tmp"))
		if len(scratch) == 1 {
			if st, err := os.Stat(scratch[0]); err == nil && st.Size() > 1<<20 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the load made no scratch file")
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a killed load left %s (%v)", target, err)
	}
	mustRun(t, in, "persist-load", "-q", "sqlite:"+target)
	if got := sumOf(t, "sqlite:"+target); got != want {
		t.Fatalf("after the rerun: %s, want %s", got, want)
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
	r := run(t, in, "persist-load", "-v", "--batch-size", "2000", "--retries", "20", url+"#t")
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
