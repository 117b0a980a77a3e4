//go:build unix

package sqlite

import "golang.org/x/sys/unix"

// dirWritable reports whether this process may create files in dir (as the
// kernel decides: permissions, read-only mounts, root).
func dirWritable(dir string) bool {
	return unix.Access(dir, unix.W_OK) == nil
}
