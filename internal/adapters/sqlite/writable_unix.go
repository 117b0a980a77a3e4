//go:build unix

package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// dirWritable reports whether this process may create files in dir (as the
// kernel decides: permissions, read-only mounts, root).
func dirWritable(dir string) bool {
	return unix.Access(dir, unix.W_OK) == nil
}

// unwritable says why this process may not write the database at path:
// its directory, where SQLite makes its journal, or the file itself or its
// -wal or -shm file where they exist, as the kernel decides (SQLite makes
// those two with the file's mode, so a read-only file gets read-only
// ones). denied lists each of them that may not be written; err is about
// the first.
func unwritable(path string) (denied []string, err error) {
	for _, p := range []string{filepath.Dir(path), path, path + "-wal", path + "-shm"} {
		if e := unix.Access(p, unix.W_OK); e != nil && !errors.Is(e, unix.ENOENT) {
			denied = append(denied, p)
			if err == nil {
				err = &fs.PathError{Op: "write", Path: p, Err: e}
			}
		}
	}
	return denied, err
}

// othersFiles picks, of the -wal and -shm files in denied, those that
// belong to another user than this process's and that their owner may
// write: a reader that may write the directory makes them as itself, and
// no chmod of their owner's gives this process the right. owner is their
// owner's name (or uid), of the first; rest are the other paths of denied.
func othersFiles(denied []string) (owner string, files, rest []string) {
	for _, p := range denied {
		if !strings.HasSuffix(p, "-wal") && !strings.HasSuffix(p, "-shm") {
			rest = append(rest, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			rest = append(rest, p)
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) == os.Geteuid() || fi.Mode().Perm()&0o200 == 0 {
			rest = append(rest, p)
			continue
		}
		name := strconv.Itoa(int(st.Uid))
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		if owner == "" {
			owner = name
		}
		files = append(files, p)
	}
	return owner, files, rest
}

// changeTime is fi's time of last change (ctime), which, unlike the time
// of modification, no program may set back.
func changeTime(fi os.FileInfo) (sec, nsec int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Ctim.Sec), int64(st.Ctim.Nsec)
	}
	return 0, 0
}
