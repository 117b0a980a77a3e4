package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/cuitty/persist/internal/hint"
)

// ErrStdoutNowhere is what a dump that moves a cursor fails with when its
// standard output leads nowhere it can tell from a closed one.
var ErrStdoutNowhere = errors.New("standard output goes nowhere")

// CheckCursorStdout refuses, for a dump that moves its cursor file past
// what it writes to w, a w that is the process's standard output and was
// closed when the command started (the shell's >&-), or may have been:
// without cgo that is told only by the /dev/null, opened read-write, that
// the Go runtime puts there. Python's subprocess.DEVNULL, Node's 'ignore'
// and daemon(3) put /dev/null there read-write too, and are refused the
// same way, for a cursor would move past a delta nobody got; the shell's
// > /dev/null opens it write-only, and is a discard asked for. Anywhere
// else a discarded output loses nothing that lasts, and is written as
// asked (and a closed one fails at the first write: failClosedStd).
func CheckCursorStdout(w io.Writer) error {
	if w != io.Writer(os.Stdout) || !closedAtExec(1) && !runtimeNull(1) {
		return nil
	}
	return hint.With(fmt.Errorf("write standard output: %w: it is closed (>&-), or /dev/null opened read-write, and the cursor file would move past a dump nobody got", ErrStdoutNowhere),
		"send the dump to a file (-o FILE, or > FILE) or through a pipe; to move the cursor and discard the dump on purpose: -o /dev/null")
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

// regularAt is where f stands and how long it is, when it is a regular
// file; ok is false for anything else (a pipe, a terminal, a device).
func regularAt(f *os.File) (at, size int64, ok bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, 0, false
	}
	at, err = f.Seek(0, io.SeekCurrent)
	return at, fi.Size(), err == nil
}

// stdoutOffset is where standard output stands when it is a regular file,
// -1 when it is not.
func stdoutOffset() int64 {
	if at, _, ok := regularAt(os.Stdout); ok {
		return at
	}
	return -1
}

// StdoutGoesOn refuses a standard output f that is a regular file going
// on past what was written into it: opened without emptying it (1<>FILE),
// it keeps an older file's bytes after the output, and no reader takes it.
func StdoutGoesOn(f *os.File) error {
	at, size, ok := regularAt(f)
	if !ok || size <= at {
		return nil
	}
	return hint.With(fmt.Errorf("standard output is a file that goes on after what was written: %d bytes of what it held before follow it, and no reader would take it",
		size-at), "send the output to a file with > FILE, which empties it first")
}

// stdoutWhole is StdoutGoesOn for a command that wrote into standard
// output, which stood at start (stdoutOffset) when it began.
func stdoutWhole(start int64) error {
	if start < 0 || stdoutOffset() == start {
		return nil
	}
	return StdoutGoesOn(os.Stdout)
}
