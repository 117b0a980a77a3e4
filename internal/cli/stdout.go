package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/cuitty/persist/internal/hint"
)

// ErrStdoutClosed is what a write to standard output fails with when the
// command was started with it closed (the shell's >&-).
var ErrStdoutClosed = errors.New("standard output is closed")

// Stdout is the process's standard output, for a tool's data. A Go program
// started with standard output closed finds /dev/null there, opened
// read-write by the runtime so that no file it opens takes the place of a
// standard descriptor: every write would succeed and the data go nowhere,
// and a dump with a cursor file would move its cursor past a delta nobody
// got. Such a standard output fails every write instead. The shell's
// > /dev/null opens it write-only, and is written to as asked.
func Stdout() io.Writer {
	if runtimeNull(1) {
		return closedOutput{}
	}
	return os.Stdout
}

// StdoutWritable is the error every write to w would give, where w is a
// standard output that Stdout found closed: a tool that is about to write
// its data there fails before it reads anything.
func StdoutWritable(w io.Writer) error {
	if _, ok := w.(closedOutput); ok {
		return errStdoutClosed()
	}
	return nil
}

type closedOutput struct{}

func (closedOutput) Write([]byte) (int, error) { return 0, errStdoutClosed() }

func errStdoutClosed() error {
	return hint.With(fmt.Errorf("write standard output: %w (>&-): what is written there would go nowhere", ErrStdoutClosed),
		"send it to a file (> FILE) or through a pipe, or to > /dev/null to discard it on purpose")
}

// runtimeNull reports whether fd is /dev/null opened read-write: what the
// Go runtime puts in a standard descriptor it finds closed. Shells, cron,
// systemd and os/exec open /dev/null for output write-only.
func runtimeNull(fd int) bool {
	var st, null unix.Stat_t
	if unix.Fstat(fd, &st) != nil || unix.Stat("/dev/null", &null) != nil {
		return false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != null.Rdev {
		return false
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR
}
