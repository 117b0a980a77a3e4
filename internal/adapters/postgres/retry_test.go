package postgres

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/pgtest"
)

func TestExplain(t *testing.T) {
	a := &Adapter{}
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5432},
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err  error
		want string // "": err itself
	}{
		{errors.New("syntax error"), ""},
		{sqlErr("23505"), ""},
		{fmt.Errorf("x: %w", driver.ErrBadConn), "the server closed the connection unexpectedly"},
		{fmt.Errorf("x: %w", io.EOF), "the server closed the connection unexpectedly"},
		{fmt.Errorf("x: %w", sql.ErrConnDone), "the server closed the connection unexpectedly"},
		{fmt.Errorf("x: %w", errors.New("write: broken pipe")), "the server closed the connection unexpectedly"},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), "the connection was reset (by the server, or by the network between)"},
		{fmt.Errorf("begin: %w", refused), "connection refused by 127.0.0.1:5432 (no server listens there: it is stopped or restarting, or the address is wrong)"},
		{&pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"},
			"the session was terminated by an administrator or a server shutdown (terminating connection due to administrator command)"},
		{fmt.Errorf("x: %w", &pq.Error{Code: "57P03", Message: "the database system is starting up"}),
			"the server does not accept connections now (the database system is starting up)"},
		{&pq.Error{Code: "40001", Message: "could not serialize access"},
			"a serialization failure: another transaction changed the same rows (could not serialize access)"},
		{&pq.Error{Code: "08006", Message: "connection failure"}, "the connection failed: connection failure"},
		{&pq.Error{Code: "53300", Message: "sorry, too many clients already"},
			"the server has no connection slot left (max_connections) (sorry, too many clients already)"},
		{&pq.Error{Code: "53300", Message: `too many connections for role "app"`},
			`the role may open no more connections (its CONNECTION LIMIT, taken by its other sessions: a load holds two when the limit allows two) (too many connections for role "app")`},
	} {
		got := a.Explain(tc.err)
		if tc.want == "" {
			if got != tc.err {
				t.Errorf("Explain(%v) = %v, want it unchanged", tc.err, got)
			}
			continue
		}
		if got.Error() != tc.want {
			t.Errorf("Explain(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) || a.Retryable(got) != a.Retryable(tc.err) {
			t.Errorf("Explain(%v) does not wrap it", tc.err)
		}
		if again := a.Explain(got); again != got {
			t.Errorf("Explain of an explained error changed it: %v", again)
		}
	}
}

// A snapshot whose connection is lost says why, in each of the ways a
// server lets a session go: its session terminated, the server stopped,
// the server restarted.
func TestSnapshotSaysWhyLost(t *testing.T) {
	cl := pgtest.NewCluster(t)
	a, err := Open(cl.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 1, `1`))
	admin := sqlDB(t, cl.URL())
	for _, tc := range []struct {
		name  string
		cause func(t *testing.T, pid int)
		want  string
	}{
		{"terminated", func(t *testing.T, pid int) {
			if _, err := admin.Exec(`SELECT pg_terminate_backend($1, 5000)`, pid); err != nil {
				t.Fatal(err)
			}
		}, "the session was terminated by an administrator (pg_terminate_backend): the server closed the connection unexpectedly"},
		{"restarted", func(t *testing.T, _ int) {
			cl.Stop(t)
			cl.Start(t)
		}, "the server closed the connection unexpectedly; the server has restarted since"},
		{"stopped", func(t *testing.T, _ int) {
			cl.Stop(t)
			t.Cleanup(func() { cl.Start(t) })
		}, "the server closed the connection unexpectedly; the server refuses connections now: it is stopped or restarting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := a.Snapshot(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var pid int
			if err := s.(*snapshot).tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			tc.cause(t, pid)
			for _, read := range []func() error{
				func() error { _, _, err := s.Count(ctx, adapters.Filter{}); return err },
				func() error { return s.Scan(ctx, adapters.Filter{}, nil) },
			} {
				err := read()
				if err == nil || err.Error() != tc.want || !a.Retryable(err) {
					t.Fatalf("got %v, want %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "bad connection") {
					t.Fatalf("%v", err)
				}
			}
		})
	}
}
