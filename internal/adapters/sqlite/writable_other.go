//go:build !unix

package sqlite

// dirWritable cannot tell here, so it says yes: the immutable fallback of
// openReader is then never taken, which is the safe side.
func dirWritable(dir string) bool { return true }
