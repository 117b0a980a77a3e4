package scratch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
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

// Make notes a file only once it is made, and a RemoveAll that comes while
// it makes one waits, then removes it: no name made is ever missed.
func TestMake(t *testing.T) {
	dir := t.TempDir()
	failed := filepath.Join(dir, "failed")
	if err := Make(failed, func() error { return os.ErrPermission }); err != os.ErrPermission {
		t.Fatalf("Make = %v, want create's error", err)
	}
	made := filepath.Join(dir, "made")
	removed := make(chan struct{})
	err := Make(made, func() error {
		go func() { RemoveAll(); close(removed) }()
		time.Sleep(50 * time.Millisecond) // RemoveAll is waiting for the lock meanwhile
		return os.WriteFile(made, nil, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-removed
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Errorf("a file made while RemoveAll waited is still there (%v)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if names[failed] {
		t.Errorf("a file create failed to make was noted")
	}
}
