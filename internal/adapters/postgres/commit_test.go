package postgres

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
)

// commitProxy forwards connections to PostgreSQL; armed, it cuts the next
// connection that sends a COMMIT: after passing it on (the server commits,
// and its answer is lost), or before (the server never sees it).
type commitProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	armed    string // "", "after", "before"
	refuse   bool   // no connection at all once one was cut
	conns    []net.Conn
	// restart: once a connection is cut, every other one is too, and the
	// next new ones are told the server is starting up (57P03).
	restart, startingUp int
}

func startCommitProxy(t *testing.T, dsn string) (*commitProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitProxy{ln: ln, upstream: u.Host}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	u.Host = ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable") // the proxy reads the messages
	u.RawQuery = q.Encode()
	return p, u.String()
}

func (p *commitProxy) arm(how string, refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.refuse = how, refuse
}

// armRestart cuts the next COMMIT's connection after passing it on, ends
// every other, and answers the next n new ones as a server starting up.
func (p *commitProxy) armRestart(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.restart = "after", n
}

// startup reports whether a new connection is to be told the server is
// starting up.
func (p *commitProxy) startup() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.startingUp == 0 {
		return false
	}
	p.startingUp--
	return true
}

// startingUpAnswer is the server's answer to a connection while it starts.
func startingUpAnswer() []byte {
	var fields []byte
	for _, f := range []string{"SFATAL", "VFATAL", "C57P03", "Mthe database system is starting up"} {
		fields = append(append(fields, f...), 0)
	}
	fields = append(fields, 0)
	n := len(fields) + 4
	return append([]byte{'E', byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, fields...)
}

// take reports how to cut a connection that sends a COMMIT, disarming.
func (p *commitProxy) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	how := p.armed
	p.armed = ""
	return how
}

func (p *commitProxy) refusing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refuse && p.armed == ""
}

// cutAll ends every connection (the pool's idle ones too): the server is
// out of reach.
func (p *commitProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *commitProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refusing() {
			c.Close()
			continue
		}
		if p.startup() {
			go func() {
				c.Read(make([]byte, 4096)) // the startup message
				c.Write(startingUpAnswer())
				c.Close()
			}()
			continue
		}
		s, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		var drop atomic.Bool // the server's answers go nowhere
		go p.back(c, s, &drop)
		go p.pipe(c, s, &drop)
	}
}

// back copies the server's answers to the client until drop is set.
func (p *commitProxy) back(c, s net.Conn, drop *atomic.Bool) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && !drop.Load() {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *commitProxy) pipe(c, s net.Conn, drop *atomic.Bool) {
	defer c.Close()
	defer s.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 && bytes.Contains(buf[:n], []byte("COMMIT\x00")) {
			switch p.take() {
			case "after":
				drop.Store(true)
				s.Write(buf[:n])
				time.Sleep(200 * time.Millisecond) // the server commits; its answer is dropped
				if p.refusing() {
					p.cutAll()
				}
				p.mu.Lock()
				if p.restart > 0 {
					p.startingUp, p.restart = p.restart, 0
					for _, c := range p.conns {
						c.Close()
					}
				}
				p.mu.Unlock()
				return
			case "before":
				return
			}
		}
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// A COMMIT whose answer is lost is asked after: one the server made is a
// success (redone, a write would be done twice: an event appended again, a
// compare-and-swap losing to itself), one it never saw is the connection's
// loss (retryable: nothing was written), and one no server can be asked
// about is ErrCommitUnknown, which is not retried.
func TestLostCommitAskedAfter(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	proxy, via := startCommitProxy(t, dsn)
	a := openAt(t, via, Options{})
	ctx := context.Background()
	write := func(key string) error {
		// A connection the proxy cut may wait in the pool: the first
		// statement on it fails, retryably, as after any lost connection.
		tx, err := a.Begin(ctx, "app")
		for i := 0; err != nil && a.Retryable(err) && i < 3; i++ {
			tx, err = a.Begin(ctx, "app")
		}
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer tx.Rollback()
		if err := tx.Put(ctx, []*record.Item{rec("c", key, 1, `1`)}, adapters.Overwrite); err != nil {
			t.Fatal(err)
		}
		return tx.Commit()
	}
	if err := write("schema"); err != nil {
		t.Fatal(err)
	}
	db := sqlDB(t, dsn)
	has := func(key string) bool {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM persist_records WHERE key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	proxy.arm("after", false)
	if err := write("landed"); err != nil || !has("landed") {
		t.Errorf("a commit the server made, its answer lost: %v (written: %v), want nil", err, has("landed"))
	}

	proxy.arm("before", false)
	err := write("lost")
	if err == nil || !a.Retryable(err) || errors.Is(err, adapters.ErrCommitUnknown) || has("lost") {
		t.Errorf("a commit the server never saw: %v (retryable %v, written %v), want the connection's loss, retryable", err, a.Retryable(err), has("lost"))
	}

	// The server restarting: asked again until it answers.
	proxy.armRestart(3)
	if err := write("restarted"); err != nil || !has("restarted") {
		t.Errorf("a commit the server made, then restarting (57P03): %v (written: %v), want nil", err, has("restarted"))
	}

	defer func(d time.Duration) { commitOutcomeFor = d }(commitOutcomeFor)
	commitOutcomeFor = time.Second
	proxy.arm("after", true)
	err = write("unknown")
	if !errors.Is(err, adapters.ErrCommitUnknown) || a.Retryable(err) {
		t.Errorf("a commit no server can be asked about: %v (retryable %v), want ErrCommitUnknown, not retryable", err, a.Retryable(err))
	}
}
