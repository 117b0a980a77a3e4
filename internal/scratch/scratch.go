// Package scratch keeps the names of the files a command made under names
// of their own and has not yet put in place or removed: a command that
// must leave at once (a second signal, the end of its grace) removes them
// first, so that an interrupted run leaves nothing half made behind.
package scratch

import (
	"os"
	"sync"
)

var (
	mu    sync.Mutex
	names = map[string]bool{}
)

// Add notes paths.
func Add(paths ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		names[p] = true
	}
}

// Make runs create, which makes the file path, and notes path if it did,
// as one step: a command leaving at once (RemoveAll) either runs before
// create, or waits and removes what create made, never missing a name made
// just before it was noted.
func Make(path string, create func() error) error {
	mu.Lock()
	defer mu.Unlock()
	if err := create(); err != nil {
		return err
	}
	names[path] = true
	return nil
}

// Drop forgets paths: put in place, or removed.
func Drop(paths ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		delete(names, p)
	}
}

// RemoveAll removes every file noted and not dropped.
func RemoveAll() {
	mu.Lock()
	defer mu.Unlock()
	for p := range names {
		os.Remove(p)
		delete(names, p)
	}
}
