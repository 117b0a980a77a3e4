//go:build unix

package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A read from a named pipe whose writer stays silent ends when the context
// does, and says it was cancelled: a Go caller that cancels must be able to
// tell that from a pipe that failed.
func TestPipeReadEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	ready := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		ready <- w
	}()
	ctx, cancel := context.WithCancel(context.Background())
	f, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	w := <-ready
	defer w.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = f.Read(make([]byte, 10))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("read ended after %v", d)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A pipe closed before its context ends reads normally until then, and
// its close lets go of the context's hook.
func TestPipeClosedBeforeContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		w.WriteString("line\n")
		w.Close()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 10)
	n, err := f.Read(b)
	if err != nil || string(b[:n]) != "line\n" {
		t.Fatalf("read %q, %v", b[:n], err)
	}
	p := f.(*pipeFile)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if p.stop() {
		t.Fatal("the context's hook was still registered after Close")
	}
}
