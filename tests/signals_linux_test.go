package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A tool killed outright (SIGKILL, the OOM killer) while it writes -o FILE
// leaves nothing behind: no half-written file, no temporary one beside it,
// and the file it was replacing as it was. Its output had no name yet.
func TestKilledWriterLeavesNothing(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir()) // as /proc names the files
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup.jsonl")
	if err = os.WriteFile(out, []byte("the old backup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Opened for reading and writing, the FIFO does not wait for a reader.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := start(t, dir, fifo, "persist-seal", "--unframed", "-o", out)
	lines, err := os.ReadFile("../internal/record/testdata/vectors/stream-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Part of a stream, and the writer stays: the seal is under way.
	head := strings.Join(strings.SplitAfter(string(lines), "\n")[:50], "")
	if _, err := w.WriteString(head); err != nil {
		t.Fatal(err)
	}
	if !waitForOutput(s.cmd.Process.Pid, dir, fifo) {
		t.Fatalf("persist-seal did not open its output within 10 s; stderr: %s", s.stderr.String())
	}
	s.signal(t, syscall.SIGKILL, 10*time.Second)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "backup.jsonl in.fifo"
	if !tmpfileWorks(dir) {
		// The file system makes no file without a name: the documented
		// fallback is a hidden temporary name, which only a kill leaves.
		t.Logf("no O_TMPFILE in %s: the output had a temporary name", dir)
		want = ".backup.jsonl.tmp-* " + want
		if len(names) > 0 && strings.HasPrefix(names[0], ".backup.jsonl.tmp-") {
			names[0] = ".backup.jsonl.tmp-*"
		}
	}
	if got := strings.Join(names, " "); got != want {
		t.Errorf("the folder holds %q after the kill, want %q", got, want)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "the old backup\n" {
		t.Errorf("the old backup is %q (%v), want it untouched", b, err)
	}
}

// tmpfileWorks reports whether dir's file system makes files without a name
// (O_TMPFILE) that can be given one later through /proc, as the tools need.
func tmpfileWorks(dir string) bool {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	name := filepath.Join(dir, ".probe")
	if err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW); err != nil {
		return false
	}
	return os.Remove(name) == nil
}

// waitForOutput reports whether process pid came to hold a file in dir
// open other than the FIFO (the output it is writing) within 10 s.
func waitForOutput(pid int, dir, fifo string) bool {
	fds := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			target, err := os.Readlink(filepath.Join(fds, e.Name()))
			if err == nil && strings.HasPrefix(target, dir+"/") && target != fifo {
				return true
			}
		}
	}
	return false
}
