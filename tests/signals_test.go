package tests

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// started is a built binary running in the background.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func start(t *testing.T, dir, stdinFile, name string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(filepath.Join(binDir, name), args...), done: make(chan error, 1)}
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if stdinFile != "" {
		f, err := os.Open(stdinFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		s.cmd.Stdin = f
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	return s
}

// signal sends sig and waits for the exit, which must come within limit.
func (s *started) signal(t *testing.T, sig syscall.Signal, limit time.Duration) (code int, took time.Duration) {
	t.Helper()
	begin := time.Now()
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		took = time.Since(begin)
		code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return code, took
	case <-time.After(limit):
		t.Fatalf("%s did not end within %s of %s; stderr: %s", s.cmd.Path, limit, sig, s.stderr.String())
	}
	return 0, 0
}

// A signal ends a tool promptly even where it is blocked (opening a FIFO
// nobody writes to, waiting on a server that never answers), with one line
// that says so and the exit status a shell expects.
func TestSignalEndsABlockedTool(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "never.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A server that takes connections and never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	silent := "postgres://u@" + ln.Addr().String() + "/db?sslmode=disable"
	stream := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(stream, []byte(`{"kind":"record","collection":"c","key":"k","value":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		sig  syscall.Signal
		code int
		args []string
	}{
		{"fifo SIGINT", syscall.SIGINT, 130, []string{"persist-sum", fifo}},
		{"fifo SIGTERM", syscall.SIGTERM, 143, []string{"persist-diff", fifo, fifo + ".b"}},
		{"fifo SIGHUP", syscall.SIGHUP, 129, []string{"persist-dump", fifo, "-o", filepath.Join(dir, "hup.jsonl")}},
		{"load from a fifo", syscall.SIGTERM, 143, []string{"persist-load", "sqlite:" + filepath.Join(dir, "x.db"), "-i", fifo}},
		{"silent server SIGINT", syscall.SIGINT, 130, []string{"persist-dump", silent}},
		{"silent server SIGTERM", syscall.SIGTERM, 143, []string{"persist-sum", silent}},
		// --summary is opened before the command's work: a FIFO there
		// blocks it as early as that.
		{"--summary fifo SIGTERM", syscall.SIGTERM, 143, []string{"persist-sum", stream, "--summary", fifo}},
		{"--summary fifo SIGINT", syscall.SIGINT, 130, []string{"persist-load", "sqlite:" + filepath.Join(dir, "y.db"), "--summary", fifo, "-i", stream}},
		{"--summary fifo SIGHUP", syscall.SIGHUP, 129, []string{"persist-diff", stream, stream + ".b", "--summary", fifo}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, dir, "", c.args[0], c.args[1:]...)
			time.Sleep(500 * time.Millisecond)
			code, took := s.signal(t, c.sig, 10*time.Second)
			if code != c.code {
				t.Fatalf("exit %d after %s, want %d; stderr: %s", code, c.sig, c.code, s.stderr.String())
			}
			if took > 5*time.Second {
				t.Errorf("took %s to end after %s, want a few seconds at most", took, c.sig)
			}
			lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "interrupted") || !strings.HasPrefix(lines[0], c.args[0]+": ") {
				t.Fatalf("stderr = %q, want one line saying %s was interrupted", s.stderr.String(), c.args[0])
			}
		})
	}
}

// A command started with SIGHUP ignored (nohup, a script's background
// job) keeps ignoring it: a closed terminal must not end it. SIGTERM still
// does.
func TestSignalIgnoredStaysIgnored(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "never.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: exec.Command("sh", "-c", `trap "" HUP; exec "$0" "$@"`, filepath.Join(binDir, "persist-sum"), fifo), done: make(chan error, 1)}
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	time.Sleep(500 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		t.Fatalf("ended on an ignored SIGHUP (%v); stderr: %s", err, s.stderr.String())
	case <-time.After(time.Second):
	}
	if code, _ := s.signal(t, syscall.SIGTERM, 10*time.Second); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143; stderr: %s", code, s.stderr.String())
	}
}

// An interrupted load into a database that exists (an empty file is one)
// ends with 130, says what it committed, and a rerun finishes the job; an
// interrupted dump leaves no file, not even a temporary one. The load is
// interrupted where a stalled producer leaves it (`ssh … | persist-load`
// whose network hangs): its batches committed, waiting on its standard
// input for lines that do not come. It must end at once, not when its
// grace runs out, and still tell what the store holds.
func TestSignalThenRerun(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "big.jsonl")
	genStream(t, stream, 20000, 7)
	db := "sqlite:" + filepath.Join(dir, "big.db")
	if err := os.WriteFile(filepath.Join(dir, "big.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	half := firstHalf(data)

	s := startStalled(t, dir, half, filepath.Join(dir, "big.db"), "persist-load", "-q", "--batch-size", "1000", db+"#big")
	code, took := s.signal(t, syscall.SIGINT, 10*time.Second)
	if code != 130 {
		t.Fatalf("interrupted load: exit %d, want 130; stderr: %s", code, s.stderr.String())
	}
	if took > 2*time.Second {
		t.Errorf("the load took %s to end after the signal: it waited for its input", took)
	}
	if !strings.Contains(s.stderr.String(), "interrupted") {
		t.Fatalf("interrupted load says %q", s.stderr.String())
	}
	// It says what the store holds, and that the same command finishes it.
	if !regexp.MustCompile(`(?m)^persist-load: hint: sqlite:.*big\.db#big holds what [1-9][0-9]* batches committed before the interruption \([1-9][0-9]* records and [0-9]+ events written\): a part of the copy; run the same command again`).MatchString(s.stderr.String()) {
		t.Fatalf("interrupted load does not say the store holds a part of the copy: %q", s.stderr.String())
	}
	mustRun(t, stream, "persist-load", "-q", db+"#big")
	if got, want := sumOf(t, db), sumOf(t, stream); got != want {
		t.Fatalf("after the rerun: %s, want the stream's %s", got, want)
	}

	// The dump is interrupted with its output file under way: as soon as
	// the file shows, of a store large enough to take a while.
	big := filepath.Join(dir, "bigger.jsonl")
	genStream(t, big, 200000, 8)
	mustRun(t, big, "persist-load", "-q", db+"#bigger")
	out := filepath.Join(dir, "out.jsonl")
	d := start(t, dir, "", "persist-dump", "-q", db+"#bigger", "-o", out)
	for deadline := time.Now().Add(20 * time.Second); !writesInto(d.cmd.Process.Pid, dir); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dump opened no output file")
		}
	}
	code, _ = d.signal(t, syscall.SIGTERM, 10*time.Second)
	t.Logf("the dump ended with %d", code)
	if code == 0 {
		// The dump finished before the signal: nothing to test, but then
		// the file must be whole.
		if sumOf(t, out) != sumOf(t, db+"#bigger") {
			t.Fatalf("a dump that finished left a file that does not sum as the store")
		}
		return
	}
	if code != 143 {
		t.Fatalf("interrupted dump: exit %d, want 143; stderr: %s", code, d.stderr.String())
	}
	if left := outputFiles(t, dir); len(left) > 0 {
		t.Fatalf("an interrupted dump left %s behind", left)
	}
}

// writesInto reports whether process pid has a file in dir open: the
// output a dump writes, which has no name until it is whole (Linux's
// O_TMPFILE), or its temporary file elsewhere.
func writesInto(pid int, dir string) bool {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if to, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(to, dir+"/") && !strings.Contains(to, ".db") {
			return true
		}
	}
	return false
}

// outputFiles are the files in dir of the dump's output, out.jsonl, or
// its temporary file.
func outputFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.Contains(e.Name(), "out.jsonl") {
			names = append(names, e.Name())
		}
	}
	return names
}

// A load reading a FIFO whose writer keeps it open and writes no more ends
// at once on a signal, not when its grace runs out, so that it still
// removes the database file it made, with nothing committed in it.
func TestSignalLoadFromOpenPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "new.db")
	s := start(t, dir, "", "persist-load", "sqlite:"+db, "-i", fifo)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	lines, err := os.ReadFile("../internal/record/testdata/vectors/stream-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Fewer lines than a batch, and the writer stays.
	head := strings.Join(strings.SplitAfter(string(lines), "\n")[:4], "")
	if _, err := w.WriteString(head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	code, took := s.signal(t, syscall.SIGTERM, 10*time.Second)
	if code != 143 {
		t.Fatalf("exit %d, want 143; stderr: %s", code, s.stderr.String())
	}
	if took > 2*time.Second {
		t.Errorf("took %s to end: the read was not ended by the signal, the grace was", took)
	}
	for _, f := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left after an interrupted first load (%v)", filepath.Base(f), err)
		}
	}
	if scratch, _ := filepath.Glob(filepath.Join(dir, "persist-copy-*")); len(scratch) > 0 {
		t.Errorf("the load's scratch files are left: %q", scratch)
	}
}

// A file another program makes under the name of the store that `persist
// import` is making is left as it is: the import refuses to replace it, and
// removes only what it made.
func TestImportLeavesAFileMadeMeanwhile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, dir, "", "persist", "import", "x", "--from", fifo)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(`{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}` + "\n"); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if m, _ := filepath.Glob(filepath.Join(dir, "data", "persist-copy-*.tmp")); len(m) > 0 {
			break
		} else if i == 500 {
			t.Fatalf("no scratch file appeared; stderr: %s", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	theirs := []byte("another program's file")
	target := filepath.Join(dir, "data", "x.db")
	if err := os.WriteFile(target, theirs, 0o644); err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the import did not end")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(s.stderr.String(), "was created while the loaded database was made, and was left as it is") {
		t.Fatalf("exit %d, stderr %q; want 2, saying the file was left as it is", code, s.stderr.String())
	}
	if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, theirs) {
		t.Errorf("the other program's file now holds %q (%v)", got, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "data", "persist-copy-*")); len(m) > 0 {
		t.Errorf("the import left %q", m)
	}
}

// A load into a new file interrupted after batches committed leaves no
// file, and says that nothing was written, not that the target holds them.
func TestSignalNewFileAfterBatches(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "new.db")
	s := start(t, dir, "", "persist-load", "--batch-size", "1", "sqlite:"+db, "-i", fifo)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := w.WriteString(`{"kind":"record","collection":"c","key":"` + k + `","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}` + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(700 * time.Millisecond)
	code, _ := s.signal(t, syscall.SIGTERM, 10*time.Second)
	if code != 143 || !strings.Contains(s.stderr.String(), "interrupted by SIGTERM") {
		t.Fatalf("exit %d, stderr %q; want 143, saying it was interrupted", code, s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), "holds what") {
		t.Errorf("an interrupted load into a new file says the target holds batches: %s", s.stderr.String())
	}
	if want := "hint: nothing of the input was written to sqlite:" + db + " (store default): run the same command again"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr %q does not say %q", s.stderr.String(), want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %q, want the FIFO alone", names)
	}
}

// startStalled starts a loader whose standard input is a pipe that gets
// head and then nothing more, its writer left open (a producer stalled),
// and returns once the loader has committed 9,000 records into the SQLite
// file db: every whole batch of head.
func startStalled(t *testing.T, dir string, head []byte, db, name string, args ...string) *started {
	t.Helper()
	s := startPiped(t, dir, head, name, args...)
	for deadline := time.Now().Add(20 * time.Second); recordsIn(t, db) < 9000; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s committed %d records of the lines written", name, recordsIn(t, db))
		}
	}
	return s
}

// startPiped starts a tool whose standard input is a pipe that gets head
// and then nothing more, its writer left open until the test ends.
func startPiped(t *testing.T, dir string, head []byte, name string, args ...string) *started {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: exec.Command(filepath.Join(binDir, name), args...), done: make(chan error, 1)}
	s.cmd.Dir, s.cmd.Stdin = dir, pr
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill(); pw.Close() })
	if _, err := pw.Write(head); err != nil {
		t.Fatal(err)
	}
	return s
}

// firstHalf is data up to the end of the line in its middle.
func firstHalf(data []byte) []byte {
	return data[:bytes.Index(data[len(data)/2:], []byte("\n"))+len(data)/2+1]
}

// persist-tee interrupted where a stalled producer leaves it ends at once,
// and says what each target holds.
func TestSignalTeeStalledInput(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "big.jsonl")
	genStream(t, stream, 20000, 9)
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	half := firstHalf(data)
	for _, f := range []string{"a.db", "b.db"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startStalled(t, dir, half, filepath.Join(dir, "b.db"), "persist-tee", "--batch-size", "1000", "sqlite:a.db#big", "sqlite:b.db#big")
	code, took := s.signal(t, syscall.SIGTERM, 10*time.Second)
	if code != 143 || took > 2*time.Second {
		t.Fatalf("exit %d after %s, want 143 at once; stderr: %s", code, took, s.stderr.String())
	}
	for _, db := range []string{"a.db", "b.db"} {
		if !regexp.MustCompile(`(?m)^persist-tee: hint: sqlite:` + db + `#big holds what [1-9][0-9]* batches committed before the interruption`).MatchString(s.stderr.String()) {
			t.Errorf("nothing said of %s: %q", db, s.stderr.String())
		}
	}
}

// recordsIn counts the records of the SQLite file at path, 0 before its
// tables exist.
func recordsIn(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("sqlite3", "file:"+path+"?mode=ro", "SELECT count(*) FROM persist_records").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// A tool reading its standard input from a producer that stalls (the
// writer of the pipe alive, writing nothing) ends at once on a signal, not
// when its grace runs out: the read waiting on the pipe is ended too (on
// Linux; elsewhere standard input is read as it is, and the grace ends it).
func TestSignalStalledStdin(t *testing.T) {
	limit := 1500 * time.Millisecond
	if runtime.GOOS != "linux" {
		limit = 5 * time.Second
	}
	dir := t.TempDir()
	stream := filepath.Join(dir, "s.jsonl")
	genStream(t, stream, 2000, 11)
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	head := firstHalf(data)
	// A list of sums naming standard input: an interrupted check says
	// nothing of it on stdout (no "FAILED open or read").
	sum := mustRun(t, "", "persist-sum", "-q", stream).stdout
	if err := os.WriteFile(filepath.Join(dir, "sums"), []byte(strings.Replace(sum, stream, "-", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"persist-sum", "-"},
		{"persist-sum", "-c", "sums"},
		{"persist-diff", "-", stream},
		{"persist-dump", "-"},
		{"persist-seal", "--unframed"},
		{"persist-load", "--atomic", "sqlite:new.db#s"},
		{"persist-load", "--batch-size", "100", "sqlite:batches.db#s"},
	} {
		t.Run(args[0], func(t *testing.T) {
			s := startPiped(t, dir, head, args[0], args[1:]...)
			time.Sleep(700 * time.Millisecond)
			code, took := s.signal(t, syscall.SIGTERM, 10*time.Second)
			if code != 143 || took > limit {
				t.Fatalf("%q: exit %d after %s, want 143 at once; stderr: %s", args, code, took, s.stderr.String())
			}
			if !strings.Contains(s.stderr.String(), args[0]+": error: interrupted by SIGTERM") {
				t.Errorf("%q says %q", args, s.stderr.String())
			}
			if args[0] == "persist-sum" && s.stdout.Len() > 0 {
				t.Errorf("%q wrote %q on stdout: an interrupted read is no verdict", args, s.stdout.String())
			}
		})
	}
}
