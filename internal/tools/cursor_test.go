package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/cli"
)

// A cursor that cannot be put in place after the dump's file was takes the
// dump's file back, and leaves the old cursor: the next run covers the same
// changes, and no file looks like a delta it did not follow.
func TestFinishCursorFails(t *testing.T) {
	dir := t.TempDir()
	dumpPath, cursorPath := filepath.Join(dir, "d1.jsonl"), filepath.Join(dir, "cursor")
	out, err := cli.CreateOutput(dumpPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Abort()
	next, err := createCursorFile(cursorPath)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Abort()
	if _, err := out.Write([]byte("the dump\n")); err != nil {
		t.Fatal(err)
	}
	// Something the new cursor cannot be renamed over, come meanwhile.
	if err := os.MkdirAll(filepath.Join(cursorPath, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = finish(out, next, "c1.new", nil, DumpOptions{Output: dumpPath, CursorFile: cursorPath})
	if err == nil || !strings.Contains(err.Error(), "next dump starts from the old cursor") || !strings.Contains(err.Error(), "was removed") {
		t.Fatalf("finish: %v", err)
	}
	if _, err := os.Stat(dumpPath); !os.IsNotExist(err) {
		t.Errorf("the dump's file after the cursor failed: %v, want it gone", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// Both succeed: the dump's file and the cursor are in place.
func TestFinish(t *testing.T) {
	dir := t.TempDir()
	dumpPath, cursorPath := filepath.Join(dir, "d1.jsonl"), filepath.Join(dir, "cursor")
	if err := os.WriteFile(cursorPath, []byte("c1.old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := cli.CreateOutput(dumpPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := createCursorFile(cursorPath)
	if err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("the dump\n"))
	if err := finish(out, next, "c1.new", nil, DumpOptions{Output: dumpPath, CursorFile: cursorPath}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(cursorPath); err != nil || string(b) != "c1.new\n" {
		t.Errorf("cursor file: %q, %v", b, err)
	}
	if b, err := os.ReadFile(dumpPath); err != nil || string(b) != "the dump\n" {
		t.Errorf("dump: %q, %v", b, err)
	}
}
