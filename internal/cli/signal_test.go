package cli

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"
)

// A second SIGHUP (a closing terminal's, then its shell's) leaves the
// command its grace to wind down; a second SIGINT or SIGTERM ends it at
// once.
func TestSecondSignal(t *testing.T) {
	for _, c := range []struct {
		sig     syscall.Signal
		code    int
		windsUp bool
	}{
		{syscall.SIGHUP, 129, true},
		{syscall.SIGINT, 130, false},
		{syscall.SIGTERM, 143, false},
	} {
		t.Run(c.sig.String(), func(t *testing.T) {
			cancelled := make(chan struct{})
			wound := make(chan struct{})
			do := func(ctx context.Context) error {
				<-ctx.Done()
				close(cancelled)
				time.Sleep(500 * time.Millisecond) // rolling back, removing files
				close(wound)
				return ctx.Err()
			}
			go func() {
				time.Sleep(100 * time.Millisecond)
				syscall.Kill(syscall.Getpid(), c.sig)
				<-cancelled
				syscall.Kill(syscall.Getpid(), c.sig)
			}()
			var stderr bytes.Buffer
			code := run(&stderr, "persist-test", do, &Summary{})
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
			select {
			case <-wound:
				if !c.windsUp {
					t.Errorf("a second %s waited for the command to wind down", c.sig)
				}
			default:
				if c.windsUp {
					t.Errorf("a second %s cut the command's grace short", c.sig)
				}
			}
			<-wound
		})
	}
}
