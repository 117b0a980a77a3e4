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
		f, err := os.OpenFile("/proc/self/fd/0", os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return
		}
		var again unix.Stat_t
		if fstat(f, &again) != nil || again.Dev != st.Dev || again.Ino != st.Ino {
			f.Close()
			return
		}
		stdin.f, stdin.own = f, true
	})
	return stdin.f
}

// fstat is unix.Fstat of f without f.Fd, which would make a descriptor in
// the poller blocking again.
func fstat(f *os.File, st *unix.Stat_t) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), st) }); err != nil {
		return err
	}
	return serr
}

// endStdinReads ends a read of Stdin waiting on its producer, and every read
// after it, where Stdin is a pipe of its own.
func endStdinReads() {
	stdin.once.Do(func() { stdin.f = os.Stdin })
	if stdin.own {
		stdin.f.SetReadDeadline(time.Now())
	}
}
