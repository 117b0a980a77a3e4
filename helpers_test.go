package persist_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/cuitty/persist"
)

// writeStream writes a stream file of n records (every 50th a tombstone,
// versions and times set) and n/10 events, in no particular order.
func writeStream(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := n - 1; i >= 0; i-- {
		coll := []string{"users", "orders", "carts"}[i%3]
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
		if i%50 == 7 {
			fmt.Fprintf(w, `{"kind":"record","collection":%q,"key":"k%05d","version":%d,"updated_at":%q,"deleted":true}`+"\n", coll, i, 2+i%3, at)
			continue
		}
		fmt.Fprintf(w, `{"kind":"record","collection":%q,"key":"k%05d","version":%d,"updated_at":%q,"value":{"n":%d,"tags":["a","b"],"price":%d.50}}`+"\n", coll, i, 1+i%3, at, i, i)
	}
	for i := 1; i <= n/10; i++ {
		fmt.Fprintf(w, `{"kind":"event","stream":"s%d","seq":%d,"type":"seeded","at":"2026-01-02T00:00:00.000000Z","data":{"i":%d}}`+"\n", i%4, i/4+1, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writer keeps putting, updating, deleting and appending through a store
// until stopped, and remembers the last thing it did to each key.
type writer struct {
	s    *persist.Store
	stop chan struct{}
	done chan struct{}
	ops  atomic.Int64
	mu   sync.Mutex
	last map[string]bool // collection/key → deleted by the last write
	errs []error
}

func startWriter(t *testing.T, s *persist.Store, seed uint64) *writer {
	w := &writer{s: s, stop: make(chan struct{}), done: make(chan struct{}), last: map[string]bool{}}
	ctx := context.Background()
	go func() {
		defer close(w.done)
		rng := rand.New(rand.NewPCG(seed, 1))
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			// Keys overlap the seeded ones, so the backfill's copies of them
			// go stale while it runs.
			coll := []string{"users", "orders", "carts"}[rng.IntN(3)]
			key := fmt.Sprintf("k%05d", rng.IntN(400))
			id := coll + "/" + key
			var err error
			switch op := rng.IntN(10); {
			case op < 5:
				_, err = s.Put(ctx, coll, key, map[string]any{"by": "writer", "r": rng.IntN(1000)})
				w.note(id, false, err)
			case op < 8:
				_, err = s.Delete(ctx, coll, key)
				if errors.Is(err, persist.ErrNotFound) {
					err = nil
				}
				w.note(id, true, err)
			default:
				_, err = s.Append(ctx, fmt.Sprintf("s%d", rng.IntN(4)), "live", map[string]int{"r": rng.IntN(1000)})
				w.note("", false, err)
			}
			w.ops.Add(1)
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writer) note(id string, deleted bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.errs = append(w.errs, err)
		return
	}
	if id != "" {
		w.last[id] = deleted
	}
}

func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// waitOps waits until the writer made n more writes.
func (w *writer) waitOps(t *testing.T, n int64) {
	t.Helper()
	target := w.ops.Load() + n
	deadline := time.Now().Add(time.Minute)
	for w.ops.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("the writer made %d writes in a minute, want %d more", w.ops.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// check stops the writer and fails the test when a write failed: the
// primary must keep working whatever happens to the secondary.
func (w *writer) check(t *testing.T) {
	t.Helper()
	w.halt()
	if len(w.errs) > 0 {
		t.Fatalf("%d of %d writes through the store failed, first: %v", len(w.errs), w.ops.Load(), w.errs[0])
	}
	if w.ops.Load() == 0 {
		t.Fatal("the writer wrote nothing")
	}
}

// assertSame checks that two store locations sum equal, that Diff finds
// nothing, and that no record the writer deleted came back in the second.
func assertSame(t *testing.T, a, b string, w *writer) {
	t.Helper()
	ctx := testContext(t)
	sa, sb := mustSum(t, a), mustSum(t, b)
	if sa != sb {
		t.Fatalf("sums differ:\n  %s  %s\n  %s  %s", sa, a, sb, b)
	}
	var out strings.Builder
	r, err := persist.Diff(ctx, a, b, &out, persist.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Differ() || out.Len() > 0 {
		t.Fatalf("diff found differences (%s):\n%s", r, out.String())
	}
	if w == nil {
		return
	}
	s := open(t, b)
	deleted := 0
	for id, del := range w.last {
		coll, key, _ := strings.Cut(id, "/")
		_, err := s.Get(ctx, coll, key)
		switch {
		case del && !errors.Is(err, persist.ErrNotFound):
			t.Fatalf("%s was deleted last, but the secondary has it (err %v)", id, err)
		case !del && err != nil:
			t.Fatalf("%s was written last, but the secondary says %v", id, err)
		}
		if del {
			deleted++
		}
	}
	if deleted == 0 {
		t.Fatal("the writer deleted nothing: the test proves less than it should")
	}
}

func admin(t *testing.T, adminURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func dbName(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(p.Path, "/")
}

func terminate(db *sql.DB, name string) error {
	_, err := db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	return err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
