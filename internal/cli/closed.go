package cli

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// failClosedStd puts, on a standard input or output that was closed when
// the command started (the shell's <&- or >&-), /dev/null opened the other
// way round, so that reading that input or writing that output fails with
// EBADF, as it does in cat or sha256sum. The runtime's own /dev/null would
// read as an empty input and swallow the output, and the command would
// report success for a dump nobody got. Standard error is left as the
// runtime made it: there is nowhere to say anything then.
func failClosedStd() {
	for fd, mode := range [2]int{unix.O_WRONLY, unix.O_RDONLY} {
		if !closedAtExec(fd) {
			continue
		}
		null, err := unix.Open("/dev/null", mode|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // the runtime's /dev/null stays; nothing better to put there
		}
		if null != fd {
			_ = unix.Dup2(null, fd)
			_ = unix.Close(null)
		}
	}
}

// stdNames are the standard descriptors' names in messages and in errors
// (os.Stdin's and os.Stdout's), and what the shell wrote to close them or
// to open them the wrong way round.
var stdNames = [3]struct{ name, path, closed, wrongWay string }{
	{"standard input", "/dev/stdin", "<&-", "0>FILE"},
	{"standard output", "/dev/stdout", ">&-", "1<FILE"},
	{"standard error", "/dev/stderr", "2>&-", "2<FILE"},
}

// stdProblem says what keeps standard descriptor fd from its use (reading
// 0, writing 1 and 2): "closed" at the start, "wrong way" (opened only for
// the other direction), or "" for nothing.
func stdProblem(fd int) string {
	if closedAtExec(fd) {
		return "closed"
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return ""
	}
	acc := fl & unix.O_ACCMODE
	if fd == 0 && acc == unix.O_WRONLY || fd > 0 && acc == unix.O_RDONLY {
		return "wrong way"
	}
	return ""
}

// CheckStdOutput refuses, before anything is done, an output w that is the
// process's standard output or error and cannot be written: closed when
// the command started, or open only for reading. Its first write would
// fail, after a load had committed what the output was to report.
func CheckStdOutput(w io.Writer) error {
	fd := -1
	switch w {
	case io.Writer(os.Stdout):
		fd = 1
	case io.Writer(os.Stderr):
		fd = 2
	}
	if fd < 0 || stdProblem(fd) == "" {
		return nil
	}
	return &fs.PathError{Op: "write", Path: stdNames[fd].path, Err: syscall.EBADF}
}

// CheckStdInput refuses, before anything is done, a standard input that
// cannot be read: closed when the command started, or open only for
// writing. An input named /dev/stdin would otherwise open /dev/null
// afresh and read as no input at all.
func CheckStdInput() error {
	if stdProblem(0) == "" {
		return nil
	}
	return &fs.PathError{Op: "read", Path: stdNames[0].path, Err: syscall.EBADF}
}

// closedStdHint says what is wrong with the standard descriptor an EBADF
// names (a read of /dev/stdin, a write of /dev/stdout), when it was closed
// at the start or opened the wrong way round.
func closedStdHint(name string, err error) error {
	var pe *fs.PathError
	if !errors.Is(err, syscall.EBADF) || !errors.As(err, &pe) {
		return err
	}
	fix := [3]string{
		"give the input on a pipe or with < FILE",
		"send it to a file or a pipe, or to /dev/null to discard it",
		"let it reach a terminal, a file or a pipe (2> FILE)",
	}
	for fd, n := range stdNames {
		if pe.Path != n.path {
			continue
		}
		switch stdProblem(fd) {
		case "closed":
			return Hint(err, "%s was closed when %s started (%s): %s", n.name, name, n.closed, fix[fd])
		case "wrong way":
			return Hint(err, "%s is open the wrong way round (%s): %s", n.name, n.wrongWay, fix[fd])
		}
	}
	return err
}
