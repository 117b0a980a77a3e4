package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/adapterstest"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// open returns an adapter on a fresh database, and the database's URL.
func open(t testing.TB) (*Adapter, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	a, err := Open(dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dsn
}

func sqlDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func rec(coll, key string, version int64, value string) *record.Item {
	it := &record.Item{Kind: record.KindRecord, Collection: coll, Key: key, Version: version,
		UpdatedAt: "2026-11-25T12:00:00.000001Z"}
	if value == "" {
		it.Deleted = true
	} else {
		it.Value = []byte(value)
	}
	return it
}

func event(stream string, seq int64, typ, data string) *record.Item {
	it := &record.Item{Kind: record.KindEvent, Stream: stream, Seq: seq, Type: typ, At: "2026-11-25T12:00:02.5Z"}
	it.At = "2026-11-25T12:00:02.500000Z"
	if data != "" {
		it.Data = []byte(data)
	}
	return it
}

func put(t testing.TB, a *Adapter, store string, mode adapters.PutMode, items ...*record.Item) {
	t.Helper()
	tx, err := a.Begin(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, mode); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// dump returns a store's canonical lines, as persist-dump would print them.
func dump(t testing.TB, a adapters.Adapter, store string, f adapters.Filter) string {
	t.Helper()
	s, err := a.Snapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b []byte
	if err := s.Scan(ctx, f, func(it *record.Item) error {
		b = record.AppendItem(b, it)
		b = append(b, '\n')
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	var dsns sync.Map // *Adapter → its database's URL
	adapterstest.Run(t, func(t *testing.T) adapters.Adapter {
		a, dsn := open(t)
		dsns.Store(a, dsn)
		return a
	}, adapterstest.WithRawSQL(func(t *testing.T, a adapters.Adapter) *sql.DB {
		dsn, _ := dsns.Load(a)
		return sqlDB(t, dsn.(string))
	}), adapterstest.WithPair(func(t *testing.T) (adapters.Adapter, adapters.Adapter) {
		a, dsn := open(t)
		b, err := Open(pgtest.Respell(t, dsn), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}))
}

// The shared vectors, loaded and dumped, give the expected bytes exactly:
// jsonb's own spelling (key order, spaces, 1.50) never leaks out.
func TestVectorsRoundTrip(t *testing.T) {
	a, _ := open(t)
	f, err := os.Open("../../record/testdata/vectors/stream-small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := record.NewReader(f, record.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it.Clone())
	}
	if len(items) != 400 {
		t.Fatalf("read %d items, want 400", len(items))
	}
	put(t, a, "app", adapters.Guarded, items...)
	want, err := os.ReadFile(strings.TrimSuffix(f.Name(), ".jsonl") + ".canonical.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, a, "app", adapters.Filter{}); got != string(want) {
		t.Fatalf("dump differs from stream-small.canonical.jsonl\n%s", firstDiff(got, string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// A fresh database has no stores, and asking creates nothing.
func TestStoresWithoutSchema(t *testing.T) {
	a, dsn := open(t)
	names, err := a.Stores(ctx)
	if err != nil || len(names) != 0 {
		t.Fatalf("Stores = %v, %v; want none", names, err)
	}
	if _, err := a.Snapshot(ctx, "app"); !errors.Is(err, adapters.ErrNoStore) {
		t.Fatalf("Snapshot of a missing store: %v, want ErrNoStore", err)
	}
	var n int
	if err := sqlDB(t, dsn).QueryRow(`SELECT count(*) FROM pg_class WHERE relname LIKE 'persist%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("reading created %d relations", n)
	}
	put(t, a, "b", adapters.Overwrite, rec("c", "k", 1, `1`))
	put(t, a, "B", adapters.Overwrite)
	put(t, a, "a", adapters.Overwrite)
	if names, err = a.Stores(ctx); err != nil || strings.Join(names, ",") != "B,a,b" {
		t.Fatalf("Stores = %v, %v; want B,a,b", names, err)
	}
	if _, err := a.Snapshot(ctx, "nope"); !errors.Is(err, adapters.ErrNoStore) {
		t.Fatalf("Snapshot of a missing store: %v, want ErrNoStore", err)
	}
}

// Keys sort as bytes, whatever the database's collation, and the scan's plan
// walks the primary key instead of sorting.
func TestByteOrderAndFilters(t *testing.T) {
	a, _ := open(t)
	put(t, a, "app", adapters.Overwrite,
		rec("users", "é", 1, `{"b":1,"a":[1.5,"x"]}`),
		rec("users", "a", 1, `null`),
		rec("users", "B", 2, ""),
		rec("Users", "z", 1, `true`),
		event("s", 10, "t", `{"n":1}`),
		event("s", 9, "t", ""),
		event("S", 1, "t", `"x"`),
	)
	all := dump(t, a, "app", adapters.Filter{})
	want := `{"kind":"record","collection":"Users","key":"z","version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":true}
{"kind":"record","collection":"users","key":"B","version":2,"updated_at":"2026-11-25T12:00:00.000001Z","deleted":true}
{"kind":"record","collection":"users","key":"a","version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":null}
{"kind":"record","collection":"users","key":"é","version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":{"a":[1.5,"x"],"b":1}}
{"kind":"event","stream":"S","seq":1,"type":"t","at":"2026-11-25T12:00:02.500000Z","data":"x"}
{"kind":"event","stream":"s","seq":9,"type":"t","at":"2026-11-25T12:00:02.500000Z","data":null}
{"kind":"event","stream":"s","seq":10,"type":"t","at":"2026-11-25T12:00:02.500000Z","data":{"n":1}}
`
	if all != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", all, want)
	}
	lines := strings.SplitAfter(want, "\n")
	for _, tc := range []struct {
		name string
		f    adapters.Filter
		want string
		recs int64
		evs  int64
	}{
		{"live", adapters.Filter{Live: true}, lines[0] + lines[2] + lines[3] + lines[4] + lines[5] + lines[6], 3, 3},
		{"collection", adapters.Filter{Collections: []string{"users"}, NoEvents: true}, lines[1] + lines[2] + lines[3], 3, 0},
		{"stream", adapters.Filter{Streams: []string{"s"}, NoRecords: true}, lines[5] + lines[6], 0, 2},
		{"empty lists", adapters.Filter{Collections: []string{}, Streams: []string{}}, "", 0, 0},
		{"both", adapters.Filter{Collections: []string{"Users", "x"}, Streams: []string{"S"}}, lines[0] + lines[4], 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dump(t, a, "app", tc.f); got != tc.want {
				t.Errorf("dump:\n%s\nwant:\n%s", got, tc.want)
			}
			s, err := a.Snapshot(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r, e, err := s.Count(ctx, tc.f)
			if err != nil || r != tc.recs || e != tc.evs {
				t.Errorf("Count = %d, %d, %v; want %d, %d", r, e, err, tc.recs, tc.evs)
			}
		})
	}
}

// Times come back in UTC whatever the session's TimeZone.
func TestTimeZoneIndependent(t *testing.T) {
	_, dsn := open(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c TimeZone=Asia/Kathmandu")
	u.RawQuery = q.Encode()
	a, err := Open(u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	it := rec("c", "k", 1, `1`)
	it.UpdatedAt = "1999-12-31T23:59:59.999999Z"
	put(t, a, "app", adapters.Overwrite, it)
	if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"updated_at":"1999-12-31T23:59:59.999999Z"`) {
		t.Fatalf("time changed: %s", got)
	}
}

func TestSnapshotIsConsistent(t *testing.T) {
	a, _ := open(t)
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 1, `1`))
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 2, `2`), rec("c", "l", 1, `1`))
	var got []string
	if err := s.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		got = append(got, fmt.Sprintf("%s/%d/%s", it.Key, it.Version, it.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "k/1/1" {
		t.Fatalf("snapshot saw later writes: %v", got)
	}
}

func lookup(t testing.TB, tx adapters.Tx, keys ...*record.Item) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := tx.Lock(ctx, keys, func(it *record.Item) error {
		m[string(record.AppendItem(nil, it))] = ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func lines(m map[string]string) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return strings.Join(sortStrings(s), "\n")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestGuardedPut(t *testing.T) {
	a, _ := open(t)
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 3, `3`), event("s", 1, "a", `1`))
	put(t, a, "app", adapters.Guarded, rec("c", "k", 2, `2`), event("s", 1, "b", `2`)) // stale, taken
	if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"version":3`) || !strings.Contains(got, `"type":"a"`) {
		t.Fatalf("guarded put overwrote: %s", got)
	}
	put(t, a, "app", adapters.Guarded, rec("c", "k", 4, ""), rec("c", "k", 4, `"second"`), rec("c", "k", 3, `"old"`))
	if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"version":4,"updated_at":"2026-11-25T12:00:00.000001Z","deleted":true`) {
		t.Fatalf("guarded put of duplicates: %s", got)
	}
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 1, `"a"`), rec("c", "k", 1, `"b"`), event("s", 1, "x", ""), event("s", 1, "y", ""))
	got := dump(t, a, "app", adapters.Filter{})
	if !strings.Contains(got, `"version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":"b"`) || !strings.Contains(got, `"type":"y"`) {
		t.Fatalf("unguarded put: last should win: %s", got)
	}
	// Two Puts in one transaction: the staging tables are emptied between.
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, []*record.Item{rec("c", "x", 1, `1`)}, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, []*record.Item{rec("c", "y", 1, `1`), event("t", 1, "z", "")}, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, []*record.Item{rec("c", "x", 2, `2`), event("t", 2, "z", "")}, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	m := lookup(t, tx, rec("c", "x", 0, ""), rec("c", "y", 0, ""), rec("c", "nope", 0, ""),
		&record.Item{Kind: record.KindRemove, Stream: "t", Seq: 2}, event("t", 1, "", ""), event("t", 3, "", ""))
	want := `{"kind":"event","stream":"t","seq":1,"type":"z","at":"2026-11-25T12:00:02.500000Z","data":null}
{"kind":"event","stream":"t","seq":2,"type":"z","at":"2026-11-25T12:00:02.500000Z","data":null}
{"kind":"record","collection":"c","key":"x","version":2,"updated_at":"2026-11-25T12:00:00.000001Z","value":2}
{"kind":"record","collection":"c","key":"y","version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":1}`
	if got := lines(m); got != want {
		t.Fatalf("Lock:\n%s\nwant:\n%s", got, want)
	}
	seqs, err := tx.MaxSeq(ctx, []string{"t", "s", "none", "t"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "map[none:0 s:1 t:2]" {
		t.Fatalf("MaxSeq = %v", seqs)
	}
	if err := tx.Remove(ctx, []*record.Item{rec("c", "x", 0, ""), {Kind: record.KindRemove, Stream: "t", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	if m := lookup(t, tx, rec("c", "x", 0, ""), event("t", 1, "", ""), event("t", 2, "", "")); len(m) != 1 {
		t.Fatalf("after Remove, Lock found %v", m)
	}
	var n int
	if err := tx.Scan(ctx, adapters.Filter{}, func(*record.Item) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 4 { // c/k, c/y, s/1, t/2
		t.Fatalf("Tx.Scan saw %d items, want 4", n)
	}
	if err := tx.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after Commit: %v", err)
	}
	if got := dump(t, a, "app", adapters.Filter{}); got != "" {
		t.Fatalf("after Clear: %s", got)
	}
	if names, _ := a.Stores(ctx); len(names) != 1 {
		t.Fatalf("Clear removed the store: %v", names)
	}
}

// One Put of 10k records and 10k events goes through COPY in one piece.
func TestPutBatch10k(t *testing.T) {
	a, _ := open(t)
	var items []*record.Item
	for i := range 10000 {
		items = append(items, rec(fmt.Sprintf("c%d", i%7), fmt.Sprintf("k\t%06d\n\\", i), int64(i+1),
			fmt.Sprintf(`{"i":%d,"s":"tab\tnew\nline\\ \"q\" é"}`, i)))
		items = append(items, event(fmt.Sprintf("s%d", i%3), int64(i+1), "t", fmt.Sprintf(`[%d]`, i)))
	}
	put(t, a, "app", adapters.Guarded, items...)
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, e, err := s.Count(ctx, adapters.Filter{})
	if err != nil || r != 10000 || e != 10000 {
		t.Fatalf("Count = %d, %d, %v", r, e, err)
	}
	want := map[string]bool{}
	for _, it := range items {
		want[string(record.AppendItem(nil, it))] = true
	}
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	got := lookup(t, tx, items...)
	if len(got) != len(want) {
		t.Fatalf("Lock found %d items, want %d", len(got), len(want))
	}
	for l := range got {
		if !want[l] {
			t.Fatalf("Lock returned %s, not what was put", l)
		}
	}
}

// A role with nothing but SELECT can list stores, snapshot and scan.
func TestSelectOnlyRole(t *testing.T) {
	admin := sqlDB(t, pgtest.AdminURL(t))
	var b [6]byte
	rand.Read(b[:])
	role := "persist_ro_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE ROLE ` + role + ` LOGIN PASSWORD 'secret-pw'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP ROLE IF EXISTS ` + role) }) // after the database is gone

	a, dsn := open(t)
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 1, `{"x":1.50}`), event("s", 1, "t", ""))
	owner := sqlDB(t, dsn)
	for _, q := range []string{
		`REVOKE ALL ON DATABASE ` + dbName(t, dsn) + ` FROM PUBLIC`,
		`REVOKE ALL ON SCHEMA public FROM PUBLIC`,
		`GRANT CONNECT ON DATABASE ` + dbName(t, dsn) + ` TO ` + role,
		`GRANT USAGE ON SCHEMA public TO ` + role,
		`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + role,
	} {
		if _, err := owner.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(role, "secret-pw")
	ro, err := Open(u.String(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if names, err := ro.Stores(ctx); err != nil || len(names) != 1 {
		t.Fatalf("Stores = %v, %v", names, err)
	}
	want := `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-11-25T12:00:00.000001Z","value":{"x":1.5}}
{"kind":"event","stream":"s","seq":1,"type":"t","at":"2026-11-25T12:00:02.500000Z","data":null}
`
	if got := dump(t, ro, "app", adapters.Filter{}); got != want {
		t.Fatalf("dump as a SELECT-only role:\n%s", got)
	}
	if _, err := ro.Begin(ctx, "app"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Begin on a read-only adapter: %v", err)
	}
	// Without ReadOnly, the write itself is refused by the server.
	rw, err := Open(u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if tx, err := rw.Begin(ctx, "app"); err == nil {
		err = tx.Put(ctx, []*record.Item{rec("c", "k", 2, "2")}, adapters.Guarded)
		tx.Rollback()
		if err == nil {
			t.Fatal("a SELECT-only role could write")
		}
	}
}

func dbName(t testing.TB, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// Killing a transaction's backend gives a Retryable error, and the adapter
// recovers with the next Begin.
func TestRetryableAfterTerminate(t *testing.T) {
	a, _ := open(t)
	admin := sqlDB(t, pgtest.AdminURL(t))
	put(t, a, "app", adapters.Overwrite, rec("c", "k", 1, `1`))
	for _, step := range []string{"put", "lookup", "commit"} {
		t.Run(step, func(t *testing.T) {
			tx, err := a.Begin(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			var pid int
			if err := tx.(*writeTx).tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec(`SELECT pg_terminate_backend($1, 5000)`, pid); err != nil {
				t.Fatal(err)
			}
			switch step {
			case "put":
				err = tx.Put(ctx, []*record.Item{rec("c", "k", 2, `2`)}, adapters.Guarded)
			case "lookup":
				err = tx.Lock(ctx, []*record.Item{rec("c", "k", 0, "")}, func(*record.Item) error { return nil })
			case "commit":
				err = tx.Commit()
			}
			if err == nil {
				t.Fatal("no error from a terminated backend")
			}
			t.Logf("error: %v", err)
			if !a.Retryable(err) {
				t.Fatalf("not Retryable: %v (%T)", err, errors.Unwrap(err))
			}
			if err := tx.Rollback(); err != nil {
				t.Fatalf("Rollback after the connection died: %v", err)
			}
			put(t, a, "app", adapters.Guarded, rec("c", "k", 2, `2`))
		})
	}
}

func TestOpenNeverShowsPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://user:hunter2secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgresql://user:hunter2secret@127.0.0.1:notaport/db",
		"host=127.0.0.1 port=1 user=u password=hunter2secret sslmode=disable connect_timeout=2",
		"host=127.0.0.1 password='hunter2secret",
		"host=127.0.0.1 password=hunter2 secret",
	} {
		_, err := Open(dsn, Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestRetryableClassifies(t *testing.T) {
	a := &Adapter{}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("syntax error"), false},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{fmt.Errorf("x: %w", sqlErr("40001")), true},
		{sqlErr("40P01"), true},
		{sqlErr("57P01"), true},
		{sqlErr("08006"), true},
		{sqlErr("23505"), false},
		{sqlErr("22P02"), false},
		{fmt.Errorf("x: %w", errors.New("write: broken pipe")), true},
		{fmt.Errorf("x: %w", errors.New("read: connection reset by peer")), true},
		{fmt.Errorf("x: %w", sql.ErrConnDone), true},
	} {
		if got := a.Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// The value canonical JSON gives back equals what went in, for values whose
// jsonb spelling differs.
func TestValuesCanonical(t *testing.T) {
	a, _ := open(t)
	vals := []string{`{"a":2,"b":1}`, `1.5`, `[1e+21,1e-7,0.000001,-2]`, `"\u001f\"\\/é"`, `{"":{"a":3,"aa":1,"b":2}}`,
		`1.23456789012345678901234567890123456789e+29`, `-0.5`, `1e+131071`, `1e-16383`}
	var items []*record.Item
	for i, v := range vals {
		items = append(items, rec("c", fmt.Sprint(i), 1, v))
	}
	put(t, a, "app", adapters.Overwrite, items...)
	var got []string
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		got = append(got, string(it.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if !bytes.Equal([]byte(got[i]), []byte(v)) {
			t.Errorf("value %d: got %.60s, want %.60s", i, got[i], v)
		}
	}
}
