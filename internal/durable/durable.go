// Package durable flushes what was written to disk, for the commands and
// operations that put a finished file in place and must not lose it to a
// crash right after.
package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Sync flushes the file or directory at path. A directory on a file
// system that cannot flush directories (EINVAL) counts as flushed: there
// is nothing more to be done.
func Sync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		if st, serr := f.Stat(); serr == nil && st.IsDir() && errors.Is(err, syscall.EINVAL) {
			return nil
		}
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
