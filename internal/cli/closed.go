package cli

import (
	"errors"
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
			_ = unix.Dup3(null, fd, unix.O_CLOEXEC)
			_ = unix.Close(null)
		}
	}
}

// closedStdHint says which standard descriptor an EBADF comes from, when
// one was closed at the start.
func closedStdHint(name string, err error) error {
	if !errors.Is(err, syscall.EBADF) {
		return err
	}
	in, out := closedAtExec(0), closedAtExec(1)
	switch {
	case out && !in:
		return Hint(err, "standard output was closed when %s started (>&-): send it to a file or a pipe, or to /dev/null to discard it", name)
	case in && !out:
		return Hint(err, "standard input was closed when %s started (<&-): give the input on a pipe or with < FILE", name)
	case in && out:
		return Hint(err, "standard input and output were closed when %s started (<&- >&-): give the input on a pipe or with < FILE, and send the output to a file or a pipe", name)
	}
	return err
}
