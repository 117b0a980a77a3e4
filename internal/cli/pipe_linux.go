package cli

import "golang.org/x/sys/unix"

// pipeSize is the buffer asked for a pipe on standard input: the default
// 64 KiB makes the two ends of `persist-dump | persist-load` take turns
// every few lines (the pipeline took 4–6% longer with it). 1 MiB is what an
// unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size).
// Only the reading end asks, so a pipeline asks once per pipe: a user's
// pipes share a quota (/proc/sys/fs/pipe-user-pages-soft, 64 MiB), past
// which every new pipe of theirs, in any program, gets 8 KiB.
const pipeSize = 1 << 20

// widenPipe grows the buffer of fd when it is a pipe with a smaller one.
// Where the system refuses (a lower limit, the user's pipes over their
// quota), the pipe stays as it is: only the pace depends on it.
func widenPipe(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err != nil || n >= pipeSize {
		return
	}
	unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
}
