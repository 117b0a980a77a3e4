package load

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/postgres"
	"github.com/cuitty/persist/internal/adapters/sqlite"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/testdb"
)

func TestRetryTerminatedBackends(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	a, err := postgres.Open(dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	admin, err := sql.Open("postgres", pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	data, sum := genStream(50000, 1, "x")
	ctx := context.Background()
	done := make(chan struct{})
	var kills atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for kills.Load() < 6 {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			var n int64
			// The CTE is materialized so that pg_terminate_backend only
			// ever sees the pids the filter kept (never this session's).
			err := admin.QueryRowContext(ctx, `WITH busy AS MATERIALIZED (
					SELECT pid FROM pg_stat_activity
					WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle')
				SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM busy`, dbname).Scan(&n)
			if err != nil {
				t.Errorf("terminating backends: %v", err)
				return
			}
			kills.Add(n)
		}
	}()
	var heard retriesHeard
	st, err := Load(ctx, a, testStore, streamOf(t, data), Options{BatchSize: 1000, OnRetry: heard.add})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatalf("load: %v (stats %+v)", err, st)
	}
	t.Logf("%d backends terminated, stats %+v", kills.Load(), st)
	if kills.Load() == 0 {
		t.Fatal("no backend was terminated during the load")
	}
	if st.Retries == 0 {
		t.Errorf("no retries counted")
	}
	heard.check(t, st, "the session was terminated by an administrator or a server shutdown (terminating connection due to administrator command)",
		"the server closed the connection unexpectedly", "the connection was reset (by the server, or by the network between)")
	if st.Written != 50000 || st.Events != 5000 {
		t.Errorf("stats %+v", st)
	}
	if got := storeSum(t, a); got != sum {
		t.Errorf("store sum %s, stream sum %s", got, sum)
	}
}

// sqliteBusyHold outlasts the SQLite adapter's busy timeout, so the load
// sees SQLITE_BUSY and has to retry.
const sqliteBusyHold = 6500 * time.Millisecond

func TestRetrySQLiteBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	a, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustLoad(t, a, Options{}, rec("u", "first", 1, `{}`)) // schema and store exist

	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(sqliteBusyHold)
		_, err := conn.ExecContext(ctx, "COMMIT")
		released <- err
	}()
	data, sum := genStream(2000, 1, "x")
	// A single-transaction load retries too, as long as it has read no more
	// than its first batch.
	type result struct {
		st  Stats
		err error
	}
	single := make(chan result, 1)
	var heard, heardSingle retriesHeard
	go func() {
		st, err := Load(ctx, a, "atomic", streamOf(t, data), Options{Mode: Replace, BatchSize: 10000, OnRetry: heardSingle.add})
		single <- result{st, err}
	}()
	st, err := Load(ctx, a, testStore, streamOf(t, data), Options{OnRetry: heard.add})
	if rerr := <-released; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("load: %v (stats %+v)", err, st)
	}
	if st.Retries == 0 {
		t.Errorf("no retries counted: %+v", st)
	}
	r := <-single
	if r.err != nil {
		t.Fatalf("single-transaction load: %v (stats %+v)", r.err, r.st)
	}
	if r.st.Retries == 0 || r.st.Written != 2000 {
		t.Errorf("single-transaction load: %+v", r.st)
	}
	busy := "the database is busy: another connection held its lock for as long as this one waited (up to 5 s, or the call's own deadline where sooner) (database is locked)"
	heard.check(t, st, busy)
	heardSingle.check(t, r.st, busy)
	if got := sumOf(dumpStore(t, a, "atomic")); got != sum {
		t.Errorf("single-transaction load: sum %s, want %s", got, sum)
	}
	lines := slices.DeleteFunc(dump(t, a), func(l string) bool { return strings.Contains(l, `"key":"first"`) })
	if got := sumOf(lines); len(lines) != 2200 || got != sum {
		t.Errorf("store holds %d items of the stream, sum %s; want 2200 and %s", len(lines), got, sum)
	}
}

// writeNewer writes version 100 of the keys, as an application would.
func writeNewer(ctx context.Context, a adapters.Adapter, keys []string) error {
	items := make([]*record.Item, len(keys))
	for i, k := range keys {
		items[i] = &record.Item{Kind: record.KindRecord, Collection: "u", Key: k, Version: 100,
			UpdatedAt: "2026-06-01T00:00:00.000000Z", Value: []byte(`{"writer":true}`)}
	}
	for try := 0; ; try++ {
		err := func() error {
			tx, err := a.Begin(ctx, testStore)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := tx.Put(ctx, items, adapters.Guarded); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err == nil || try > 20 || !a.Retryable(err) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVerifyCatchesConcurrentWrite races an application writing newer
// versions of keys the store lacks with a load writing them. In a batch
// tried as fresh, the loader's COPY meets the other's rows (ErrExists) and
// the batch is decided again; in a batch merged the full way, the guarded
// write leaves them alone, verification sees it, and the batch is redone.
// Either way they end stale. (In SQLite the writer lock makes the other
// writer wait for the commit, after which its newer versions win as well.)
func TestVerifyCatchesConcurrentWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		preload int // keys the store holds already, as the load has them
		redo    bool
	}{
		{"fresh", 0, false},
		{"merged", 100, true},
	} {
		for _, tg := range testdb.All {
			t.Run(tc.name+"/"+tg.Name, func(t *testing.T) {
				a, _ := tg.Open(t)
				ctx := context.Background()
				var lines, raced []string
				for i := range 300 {
					k := fmt.Sprintf("k%03d", i)
					lines = append(lines, rec("u", k, 1, `{"loader":true}`))
					if i >= 100 && i < 150 {
						raced = append(raced, k)
					}
				}
				mustLoad(t, a, Options{}, append([]string{rec("other", "x", 1, `{}`)}, lines[:tc.preload]...)...)
				var once sync.Once
				writer := make(chan error, 1)
				beforePut = func(puts []*record.Item) {
					if puts[0].Key != "k100" {
						return
					}
					once.Do(func() {
						go func() { writer <- writeNewer(ctx, a, raced) }()
						select {
						case err := <-writer:
							writer <- err
						case <-time.After(time.Second):
						}
					})
				}
				defer func() { beforePut = nil }()
				// One batch at a time: the batch after one that found its keys
				// in the store is merged the full way, not tried as fresh.
				st, err := Load(ctx, a, testStore, reader(t, lines...), Options{BatchSize: 100, Writers: 1})
				if werr := <-writer; werr != nil {
					t.Fatalf("concurrent writer: %v", werr)
				}
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				checkRaced(t, a, raced)
				if tg.Name != "postgres" {
					return
				}
				if st.Stale != 50 || st.Written != 250-int64(tc.preload) || st.Unchanged != int64(tc.preload) || (st.Redos > 0) != tc.redo {
					t.Errorf("want 50 stale records, redone: %v: %+v", tc.redo, st)
				}
			})
		}
	}
}

// TestConcurrentWriterDuringLoad races an application writing newer
// versions with a load of the same keys: whoever comes second, the newer
// versions are what the store ends with.
func TestConcurrentWriterDuringLoad(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		mustLoad(t, a, Options{}, rec("other", "x", 1, `{}`))
		var buf bytes.Buffer
		var raced []string
		for i := range 5000 {
			k := fmt.Sprintf("k%05d", i)
			buf.WriteString(rec("u", k, 1, `{"loader":true}`) + "\n")
			if i%10 == 3 {
				raced = append(raced, k)
			}
		}
		writer := make(chan error, 1)
		go func() {
			for i := 0; i < len(raced); i += 25 {
				if err := writeNewer(ctx, a, raced[i:min(i+25, len(raced))]); err != nil {
					writer <- err
					return
				}
			}
			writer <- nil
		}()
		st, err := Load(ctx, a, testStore, streamOf(t, buf.Bytes()), Options{BatchSize: 200})
		if werr := <-writer; werr != nil {
			t.Fatalf("concurrent writer: %v", werr)
		}
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		t.Logf("stats %+v", st)
		checkRaced(t, a, raced)
	})
}

func checkRaced(t *testing.T, a adapters.Adapter, raced []string) {
	t.Helper()
	isRaced := map[string]bool{}
	for _, k := range raced {
		isRaced[k] = true
	}
	ctx := context.Background()
	snap, err := a.Snapshot(ctx, testStore)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var n int
	err = snap.Scan(ctx, adapters.Filter{Collections: []string{"u"}}, func(it *record.Item) error {
		n++
		want := int64(1)
		if isRaced[it.Key] {
			want = 100
		}
		if it.Version != want {
			return fmt.Errorf("%s has version %d, want %d", it.Key, it.Version, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no records")
	}
}

// retriesHeard keeps what Options.OnRetry heard.
type retriesHeard struct {
	mu    sync.Mutex
	heard []Retry
}

func (h *retriesHeard) add(r Retry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.heard = append(h.heard, r)
}

// check checks that each retry counted was heard of, with its lines, an
// attempt after the first, a wait, and one of the causes.
func (h *retriesHeard) check(t *testing.T, st Stats, causes ...string) {
	t.Helper()
	if int64(len(h.heard)) != st.Retries {
		t.Errorf("%d retries heard of, %d counted", len(h.heard), st.Retries)
	}
	for _, r := range h.heard {
		if r.First < 1 || r.Last < r.First || r.Attempt < 2 || r.Wait <= 0 || !slices.Contains(causes, r.Err.Error()) {
			t.Errorf("retry %+v, want one of the causes %q", r, causes)
		}
	}
}
