package cli

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A pipe's buffer grows to pipeSize; a regular file is left alone.
func TestWidenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	widenPipe(int(w.Fd()))
	if n, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || n < pipeSize {
		t.Errorf("pipe buffer %d (%v), want at least %d", n, err, pipeSize)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	widenPipe(int(f.Fd())) // nothing to do, and nothing breaks
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
}
