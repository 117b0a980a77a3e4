package scratch

import (
	"os"
	"path/filepath"
	"testing"
)

// RemoveAll removes what was added and not dropped, and only that.
func TestRemoveAll(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	Add(paths...)
	Drop(paths[1])
	RemoveAll()
	for i, p := range paths {
		_, err := os.Stat(p)
		if kept := err == nil; kept != (i == 1) {
			t.Errorf("%s: kept %v, want %v", p, kept, i == 1)
		}
	}
	RemoveAll() // nothing left to remove
	if _, err := os.Stat(paths[1]); err != nil {
		t.Errorf("a dropped file was removed later: %v", err)
	}
}
