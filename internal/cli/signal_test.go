package cli

import (
	"bytes"
	"context"
	"strings"
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

// A run ended before its work stopped (a second SIGTERM) says that what it
// wrote is not counted, where its tool writes into stores: it may have
// committed batches it had not reported. A tool that only reads says no
// such thing.
func TestCutShortSaysNotCounted(t *testing.T) {
	for _, c := range []struct {
		tool string
		says bool
	}{
		{"persist-load", true},
		{"persist migrate", true},
		{"persist-dump", false},
		{"persist-sum", false},
	} {
		t.Run(c.tool, func(t *testing.T) {
			cancelled := make(chan struct{})
			release := make(chan struct{})
			do := func(ctx context.Context) error {
				<-ctx.Done()
				close(cancelled)
				<-release // a COMMIT the server does not answer
				return ctx.Err()
			}
			defer close(release)
			go func() {
				time.Sleep(100 * time.Millisecond)
				syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
				<-cancelled
				syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
			}()
			sum, err := OpenSummary("", c.tool, nil)
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			if code := run(&stderr, c.tool, do, sum); code != 143 {
				t.Errorf("exit %d, want 143", code)
			}
			said := strings.Contains(stderr.String(), "hint: the run was ended before its work stopped, so what it wrote is not counted here")
			if said != c.says {
				t.Errorf("stderr %q; want the hint that nothing is counted: %v", stderr.String(), c.says)
			}
		})
	}
}
