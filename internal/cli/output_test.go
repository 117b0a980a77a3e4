package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }
func (failingWriter) Close() error              { return nil }

// An output one of whose writes failed (a full disk) is not put in place
// by Commit, nor is a file it would replace touched: an empty rejects file
// read as no rejects.
func TestCommitAfterFailedWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rejects.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := CreateOutput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.w = failingWriter{}
	if _, err := o.Write([]byte("a line\n")); err == nil {
		t.Fatal("the write did not fail")
	}
	if err := o.Commit(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Commit after a failed write = %v, want the write's error", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "old\n" {
		t.Errorf("the file is %q (%v), want the old one untouched", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}
