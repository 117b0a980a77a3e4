package postgres

import "testing"

// A socket directory written as the URL's host, percent-encoded (libpq's
// own form), is read as the host parameter; every other location is left
// as it is.
func TestSocketHost(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgresql://%2Fvar%2Frun%2Fpostgresql/db", "postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql"},
		{"postgres://u:pw@%2Ftmp:5433/db?sslmode=disable", "postgres://u:pw@:5433/db?sslmode=disable&host=%2Ftmp"},
		{"postgres://u@%2fsock", "postgres://u@?host=%2Fsock"},
		{"postgres://u@127.0.0.1/db", "postgres://u@127.0.0.1/db"},
		{"host=/tmp dbname=db", "host=/tmp dbname=db"},
		{"postgres://u@h/%2Fdb", "postgres://u@h/%2Fdb"},
	} {
		if got := socketHost(c.in); got != c.want {
			t.Errorf("socketHost(%q) = %q, want %q", c.in, got, c.want)
		}
		if _, err := newConfig(c.in); err != nil {
			t.Errorf("newConfig(%q): %v", c.in, err)
		}
	}
}
