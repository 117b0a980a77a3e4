package tests

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	if err := s.cmd.Process.Signal(sig); err != nil {
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
// ends with 130, leaves what it committed, and a rerun finishes the job;
// an interrupted dump leaves no file, not even a temporary one.
func TestSignalThenRerun(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "big.jsonl")
	genStream(t, stream, 200000, 7)
	db := "sqlite:" + filepath.Join(dir, "big.db")
	if err := os.WriteFile(filepath.Join(dir, "big.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	s := start(t, dir, stream, "persist-load", "-q", "--batch-size", "2000", db+"#big")
	time.Sleep(700 * time.Millisecond)
	code, _ := s.signal(t, syscall.SIGINT, 10*time.Second)
	if code != 130 {
		t.Fatalf("interrupted load: exit %d, want 130; stderr: %s", code, s.stderr.String())
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

	out := filepath.Join(dir, "out.jsonl")
	d := start(t, dir, "", "persist-dump", "-q", db, "-o", out)
	time.Sleep(150 * time.Millisecond)
	code, _ = d.signal(t, syscall.SIGTERM, 10*time.Second)
	if code == 0 {
		// The dump finished before the signal: nothing to test, but then
		// the file must be whole.
		if sumOf(t, out) != sumOf(t, db) {
			t.Fatalf("a dump that finished left a file that does not sum as the store")
		}
		return
	}
	if code != 143 {
		t.Fatalf("interrupted dump: exit %d, want 143; stderr: %s", code, d.stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "out.jsonl") {
			t.Fatalf("an interrupted dump left %s behind", e.Name())
		}
	}
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
// file, and does not say that the target holds them.
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
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %q, want the FIFO alone", names)
	}
}
