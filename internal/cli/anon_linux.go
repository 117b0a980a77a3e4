//go:build linux

package cli

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openAnon opens a regular file in dir that has no name yet (O_TMPFILE),
// with mode 0666 narrowed by the umask: a process killed before Commit
// (SIGKILL, the OOM killer, a power cut) leaves nothing behind, where a
// named temporary file would stay. Linking it later goes through
// /proc/self/fd (AT_EMPTY_PATH would need a privilege), so without /proc
// there is no anonymous file. A file system without O_TMPFILE (NFS, FUSE,
// older kernels) returns an error: the caller names its file instead.
func openAnon(dir string) (*os.File, error) {
	if dir == "" {
		dir = "."
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// linkAnon gives f, opened by openAnon, the name path, which must not
// exist yet (fs.ErrExist otherwise).
func linkAnon(f *os.File, path string) error {
	proc := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
	}
	return nil
}
