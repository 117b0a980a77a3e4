//go:build !unix

package sqlite

import "os"

// dirWritable cannot tell here, so it says yes: the immutable fallback of
// openReader is then never taken, which is the safe side.
func dirWritable(dir string) bool { return true }

// unwritable cannot tell here: SQLite's own error stands.
func unwritable(path string) (denied []string, err error) { return nil, nil }

// othersFiles cannot tell here.
func othersFiles(denied []string) (owner string, files, rest []string) { return "", nil, denied }

// changeTime cannot tell here: the time of modification stands alone.
func changeTime(fi os.FileInfo) (sec, nsec int64) { return 0, 0 }
