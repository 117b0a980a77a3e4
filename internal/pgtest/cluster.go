package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
)

// cluster is a PostgreSQL cluster this process created with initdb and
// started with pg_ctl.
type cluster struct {
	bin  string // directory holding initdb, pg_ctl and postgres
	dir  string // temporary directory: data/, the socket and the log
	cred *syscall.Credential
	url  *url.URL
	opts string // the server's options (port, socket directory, settings)
}

// findBin returns the directory of initdb and pg_ctl: PATH first, then the
// newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// freePort asks the kernel for a port nobody listens on. Another process
// may take it before the server binds it; startCluster retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "persist-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir}
	// initdb refuses to run as root, so the cluster belongs to postgres.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user to own a cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	if err := c.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "+
			"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
		err = c.start()
		if err == nil {
			c.url = &url.URL{Scheme: "postgres", User: url.User("postgres"),
				Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres",
				RawQuery: "sslmode=disable"}
			return c, nil
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
		}
	}
}

func (c *cluster) start() error {
	return c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "-o", c.opts, "start")
}

func (c *cluster) stop() error {
	err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
	if rerr := os.RemoveAll(c.dir); err == nil {
		err = rerr
	}
	return err
}

// run runs one of the cluster's programs, as the postgres user when the
// process is root.
func (c *cluster) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// Cluster is a throwaway PostgreSQL cluster of one test's own, for what the
// shared server must never go through: being stopped and started again.
type Cluster struct {
	c       *cluster
	stopped bool
}

// NewCluster starts a cluster for t (initdb and pg_ctl, as the throwaway
// server of the package doc), stopped and deleted when t ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startCluster()
	if err != nil {
		t.Fatalf("pgtest: starting a throwaway cluster: %v\nTo get one, %s.", err, howTo)
	}
	cl := &Cluster{c: c}
	t.Cleanup(func() {
		if cl.stopped {
			os.RemoveAll(c.dir)
			return
		}
		if err := c.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return cl
}

// URL is the libpq URL of the cluster's postgres database, as a superuser.
func (c *Cluster) URL() string { return c.c.url.String() }

// Stop shuts the server down as an administrator or a failover does
// (pg_ctl stop -m fast): its sessions are terminated, new connections
// refused until Start.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.c.run("pg_ctl", "-D", filepath.Join(c.c.dir, "data"), "-m", "fast", "-w", "stop"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c.stopped = true
}

// Start starts the stopped server again, on the same port.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.c.start(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.c.dir, "log"))
		t.Fatalf("pgtest: restarting the cluster: %v\nserver log:\n%s", err, log)
	}
	c.stopped = false
}
