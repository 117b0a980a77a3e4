package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

// A full disk is said to be one, with what to do, where nothing closer to
// it gave a hint; one that did keeps its own.
func TestReportFullDisk(t *testing.T) {
	full := fmt.Errorf("write: %w", &fs.PathError{Op: "write", Path: "out.jsonl", Err: syscall.ENOSPC})
	var b bytes.Buffer
	if code := Report(&b, "persist-dump", full); code != ExitTrouble {
		t.Errorf("exit %d", code)
	}
	want := "persist-dump: error: write: write out.jsonl: no space left on device\n" +
		"persist-dump: hint: the file system is full: free space on it, or write elsewhere, then run the command again\n"
	if b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
	b.Reset()
	Report(&b, "persist-load", Hint(full, "its own"))
	if want := "persist-load: error: write: write out.jsonl: no space left on device\npersist-load: hint: its own\n"; b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
	b.Reset()
	Report(&b, "x", errors.New("other"))
	if b.String() != "x: error: other\n" {
		t.Errorf("got %q", b.String())
	}
}
