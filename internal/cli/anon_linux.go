//go:build linux

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// openAnon opens a regular file in dir that has no name yet (O_TMPFILE),
// mode 0666 as the kernel narrows it (see umaskAnon): a process killed
// before Commit (SIGKILL, the OOM killer, a power cut) leaves nothing
// behind, where a named temporary file would stay. A file system without
// O_TMPFILE (NFS, FUSE, older kernels) returns an error: the caller names
// its file instead. name is what errors call the file.
func openAnon(dir, name string) (*os.File, error) {
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// umaskAnon narrows f's mode by the umask, for a file openAnon made. Before Linux 6.0, O_TMPFILE left
// the umask out on a file system without POSIX ACLs (ZFS's default, tmpfs
// built without them): a backup made under umask 077 came out rw-rw-rw-.
// A folder with a default ACL is left to the kernel, which applies the ACL
// instead of the umask to either kind of file.
func umaskAnon(f *os.File, dir string) error {
	if _, err := unix.Getxattr(dir, "system.posix_acl_default", nil); err == nil {
		return nil
	}
	mask, err := umask()
	if err != nil {
		return err
	}
	return f.Chmod(0o666 &^ mask)
}

// umask reads the process's umask without changing it (unix.Umask sets it,
// for every thread, and a file another goroutine made meanwhile would get
// the wrong one).
func umask() (os.FileMode, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0, fmt.Errorf("umask %q: %w", v, err)
			}
			return os.FileMode(m) & os.ModePerm, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no umask in /proc/self/status")
}

// linkAnon gives f, opened by openAnon, the name path, which must not
// exist yet (fs.ErrExist otherwise). It goes through /proc/self/fd
// (AT_EMPTY_PATH would need a privilege): without /proc it fails, which
// openLinkable's probe finds before anything is written.
func linkAnon(f *os.File, path string) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	err = rc.Control(func(fd uintptr) {
		proc := "/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10)
		lerr = unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	})
	if err == nil {
		err = lerr
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
	}
	return nil
}
