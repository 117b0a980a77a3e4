package cli

import (
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var stdin struct {
	once sync.Once
	f    *os.File // os.Stdin, or a descriptor of its own on the same pipe
	own  bool
}

// Stdin is the standard input a command reads. Where it is a pipe (a
// producer upstream, ssh), a read waits in a system call that no signal
// ends, so an interrupted command would wait out its grace while its
// producer stalls: on Linux it is therefore the same pipe opened again
// (/proc/self/fd/0, a file description of this process's own) without
// blocking, which puts its reads in the runtime's poller, where Run ends
// them at a signal, as a named pipe's (source.OpenFile). O_NONBLOCK on
// descriptor 0 itself would be the producer's and the shell's too. Anything
// else (a file, a terminal, a socket), or where the pipe cannot be opened
// again, is os.Stdin as it is.
func Stdin() *os.File {
	stdin.once.Do(func() {
		stdin.f = os.Stdin
		var st unix.Stat_t
		if runtime.GOOS != "linux" || unix.Fstat(0, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return
		}
		// A write end (a pipe the wrong way round) fails its first read at
		// once as it is; opened again for reading, it would wait forever.
		if fl, err := unix.FcntlInt(0, unix.F_GETFL, 0); err != nil || fl&unix.O_ACCMODE == unix.O_WRONLY {
			return
		}
		fd, err := unix.Open("/proc/self/fd/0", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return // no /proc, or a pipe of another user's (sudo -u)
		}
		var again unix.Stat_t
		if unix.Fstat(fd, &again) != nil || again.Dev != st.Dev || again.Ino != st.Ino {
			unix.Close(fd)
			return
		}
		// Non-blocking, NewFile puts it in the poller; named as the
		// messages of a read of standard input name it.
		stdin.f, stdin.own = os.NewFile(uintptr(fd), "/dev/stdin"), true
	})
	return stdin.f
}

// endStdinReads ends a read of Stdin waiting on its producer, and every read
// after it, where Stdin is a pipe of its own.
func endStdinReads() {
	stdin.once.Do(func() { stdin.f = os.Stdin })
	if stdin.own {
		stdin.f.SetReadDeadline(time.Now())
	}
}
