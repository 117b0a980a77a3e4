package postgres

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/hint"
)

// mute is a server that takes connections and never says a word, as a
// server stuck in shutdown or a host behind a firewall that drops packets
// look to a client.
func mute(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Without a connect_timeout of its own, a location whose server never
// answers fails (instead of waiting for ever), saying so and how to wait
// longer.
func TestConnectTimeoutByDefault(t *testing.T) {
	old := defaultConnectTimeout
	defaultConnectTimeout = time.Second
	t.Cleanup(func() { defaultConnectTimeout = old })
	if os.Getenv("PGCONNECT_TIMEOUT") != "" {
		t.Skip("PGCONNECT_TIMEOUT is set: the default does not apply")
	}
	addr := mute(t)
	_, err := Open("postgres://u:secret@"+addr+"/db", Options{})
	if err == nil || !strings.Contains(err.Error(), addr+" did not answer within 1s") ||
		!strings.Contains(err.Error(), "connect_timeout=SECONDS") {
		t.Fatalf("Open on a server that never answers: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the password shows: %v", err)
	}
	// The user's own connect_timeout is kept (here shorter than the default).
	defaultConnectTimeout = time.Hour
	_, err = Open("postgres://u@"+addr+"/db?connect_timeout=1", Options{})
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("Open with connect_timeout=1: %v", err)
	}
}

// A raw '#' in a URL's password reaches the driver escaped, never as the
// start of a fragment.
func TestTargetEscapesHash(t *testing.T) {
	for in, want := range map[string]string{
		"//u:p#w@h/db":            "postgres://u:p%23w@h/db",
		"//u:p%23w@h/db":          "postgres://u:p%23w@h/db",
		"//h/db?sslmode=disable":  "postgres://h/db?sslmode=disable",
		"//u:a#b#c@h:5432/db?x=1": "postgres://u:a%23b%23c@h:5432/db?x=1",
	} {
		if got, err := target("postgres", in); err != nil || got != want {
			t.Errorf("target(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// An IPv6 host without a port gets libpq's, $PGPORT or 5432: lib/pq
// would bracket it twice ("[[::1]]:5432") and never connect.
func TestTargetIPv6Port(t *testing.T) {
	t.Setenv("PGPORT", "")
	for in, want := range map[string]string{
		"//u@[::1]/db":           "postgres://u@[::1]:5432/db",
		"//[::1]":                "postgres://[::1]:5432",
		"//[fe80::1]?x=1":        "postgres://[fe80::1]:5432?x=1",
		"//u:p@[::1]:6000/db":    "postgres://u:p@[::1]:6000/db",
		"//u@h/db":               "postgres://u@h/db",
		"//u:p]@h/db":            "postgres://u:p]@h/db",
		"//u:p#w@[2001:db8::1]/": "postgres://u:p%23w@[2001:db8::1]:5432/",
	} {
		if got, err := target("postgres", in); err != nil || got != want {
			t.Errorf("target(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	t.Setenv("PGPORT", "6543")
	if got, _ := target("postgres", "//[::1]/db"); got != "postgres://[::1]:6543/db" {
		t.Errorf("with PGPORT=6543: %q", got)
	}
	// A $PGPORT that is no port is left for the driver to name.
	t.Setenv("PGPORT", "5432,5433")
	if got, _ := target("postgres", "//[::1]/db"); got != "postgres://[::1]/db" {
		t.Errorf("with PGPORT=5432,5433: %q, want the URL as it was", got)
	}
}

// A setting the driver refuses is blamed on where it came from: a PG*
// variable of the environment is named, not the connection string, which
// holds nothing wrong.
func TestRefusedSettingNamesItsSource(t *testing.T) {
	for _, tc := range []struct {
		env, val, dsn, want string
	}{
		{"PGDATESTYLE", "German", "postgres://u@127.0.0.1/db", "PGDATESTYLE=German in the environment"},
		{"PGCLIENTENCODING", "LATIN1", "host=127.0.0.1 dbname=db", "PGCLIENTENCODING=LATIN1 in the environment"},
		{"PGSSLMODE", "sometimes", "postgres://u@127.0.0.1/db", "PGSSLMODE=sometimes in the environment"},
		{"PGDATESTYLE", "", "postgres://u@127.0.0.1/db?datestyle=German", "invalid postgres connection string"},
		{"PGSSLMODE", "require", "postgres://u@127.0.0.1/db?sslmode=bogus", "invalid postgres connection string"},
	} {
		t.Run(tc.env+"="+tc.val, func(t *testing.T) {
			t.Setenv(tc.env, tc.val)
			_, err := Open(tc.dsn, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// A secret lib/pq does not read (sslpassword, a password key in capitals)
// is refused before anything is sent: lib/pq would have sent it to the
// server as a session setting. The port is one nothing listens on, so a
// dial would fail with another error.
func TestSecretSettingRefused(t *testing.T) {
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 dbname=db sslpassword=s3cretkey",
		"postgres://u@127.0.0.1:1/db?PASSWORD=s3cretkey",
	} {
		_, err := Open(dsn, Options{})
		if err == nil || !strings.Contains(err.Error(), "is not a parameter this client reads") || strings.Contains(err.Error(), "s3cretkey") {
			t.Errorf("Open(%q): %v, want a refusal that does not show the secret", dsn, err)
		}
		if len(hint.All(err)) == 0 {
			t.Errorf("Open(%q): no hint", dsn)
		}
	}
}

// verify-ca and verify-full need the server's certificate authority, as in
// libpq: without sslrootcert or ~/.postgresql/root.crt, lib/pq would trust
// the system's authorities, and verify-ca then any certificate they signed.
// A root file named but missing is said as such, before a connection.
func TestRootCertRequired(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("PGSSLROOTCERT", "")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("not read here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dsn  string
		want string // in the error; "" for none
	}{
		{"postgres://u@127.0.0.1/db?sslmode=verify-ca", `root certificate file "` + filepath.Join(home, ".postgresql", "root.crt") + `"`},
		{"postgres://u@127.0.0.1/db?sslmode=verify-full", `root certificate file "` + filepath.Join(home, ".postgresql", "root.crt") + `"`},
		{"postgres://u@127.0.0.1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt", `root certificate file "/nonexistent/ca.crt"`},
		{"postgres://u@127.0.0.1/db?sslmode=verify-ca&sslrootcert=" + ca, ""},
		{"postgres://u@127.0.0.1/db?sslmode=verify-full&sslrootcert=system", ""},
		{"postgres://u@127.0.0.1/db?sslmode=verify-ca&sslinline=true", "no sslrootcert to verify the server against"},
		{"postgres://u@127.0.0.1/db?sslmode=require", ""},
		{"postgres://u@127.0.0.1/db", ""},
	} {
		cfg, err := newConfig(tc.dsn)
		if err != nil {
			t.Fatalf("%s: %v", tc.dsn, err)
		}
		err = rootCert(cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.dsn, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error naming %s", tc.dsn, err, tc.want)
		case tc.want != "" && !strings.Contains(strings.Join(hint.All(err), " "), "sslrootcert=FILE"):
			t.Errorf("%s: hints %q", tc.dsn, hint.All(err))
		}
	}
	// With the file in place, as libpq finds it.
	if err := os.MkdirAll(filepath.Join(home, ".postgresql"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".postgresql", "root.crt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := newConfig("postgres://u@127.0.0.1/db?sslmode=verify-ca")
	if err != nil {
		t.Fatal(err)
	}
	if err := rootCert(cfg); err != nil {
		t.Errorf("with ~/.postgresql/root.crt: %v", err)
	}
}
