//go:build !unix

package sqlite

import "io/fs"

// fileID is the file's absolute path with every link resolved: the
// system's own identity of a file is not at hand here.
func fileID(path string, _ fs.FileInfo) string { return absolute(path) }
