//go:build cgo && unix

package cli

/*
#include <errno.h>
#include <fcntl.h>

// Read before the Go runtime starts, for the runtime puts /dev/null on a
// standard descriptor it finds closed, and after that nothing tells the
// shell's >&- from a discard asked for.
static int persist_closed_at_exec;

__attribute__((constructor)) static void persist_read_std_fds(void) {
	int saved = errno;
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			persist_closed_at_exec |= 1 << fd;
		}
	}
	errno = saved;
}

static int persist_closed_std_fds(void) { return persist_closed_at_exec; }
*/
import "C"

// closedAtExec reports whether standard descriptor fd (0, 1 or 2) was
// closed when the process started.
func closedAtExec(fd int) bool {
	return C.persist_closed_std_fds()&(1<<fd) != 0
}
