package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// putItems parses lines into items.
func putItems(t testing.TB, lines ...string) []*record.Item {
	t.Helper()
	var items []*record.Item
	for _, s := range lines {
		var l record.Line
		if err := record.ParseLine([]byte(s), &l); err != nil {
			t.Fatalf("parse %s: %v", s, err)
		}
		it := l.Item
		items = append(items, &it)
	}
	return items
}

// putWith puts items into store in one transaction, through C or through
// database/sql, and returns Put's error, or Commit's.
func putWith(t *testing.T, a *Adapter, store string, viaC bool, mode adapters.PutMode, items []*record.Item) error {
	t.Helper()
	ctx := context.Background()
	tr, err := a.Begin(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	tr.(*tx).noC = !viaC
	if err := tr.Put(ctx, items, mode); err != nil {
		tr.Rollback()
		return err
	}
	if viaC != (tr.(*tx).c != nil) {
		t.Fatalf("put through C: %v, want %v", tr.(*tx).c != nil, viaC)
	}
	return tr.Commit()
}

// rowsOf is every row of Persist's data tables, each column with its
// SQLite type, for telling two files apart byte for byte.
func rowsOf(t *testing.T, path string) string {
	t.Helper()
	db := rawDB(t, path, "mode=ro")
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT store, collection, key, version, typeof(version), updated_at, deleted, typeof(deleted), quote(value), typeof(value), chg FROM persist_records ORDER BY 1, 2, 3`,
		`SELECT store, stream, seq, typeof(seq), type, at, quote(data), typeof(data), chg FROM persist_events ORDER BY 1, 2, 3`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

// The put through C writes what the put through database/sql writes, row
// for row and type for type, in every mode, with values larger than a
// call's pack and names holding NULs; where the statement fails, the error
// is the same, and tells a key that exists.
func TestPutInC(t *testing.T) {
	big := strings.Repeat("x", putPackBytes+10)
	huge := strings.Repeat("é", putKeepBytes)
	var lines []string
	for i := range 600 { // more than a call's rows
		lines = append(lines, fmt.Sprintf(`{"kind":"record","collection":"c","key":"k%04d","version":%d,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"i":%d,"s":"ü\u0000"}}`, i, i+1, i))
	}
	lines = append(lines,
		`{"kind":"record","collection":"c","key":"nul\u0000key","version":3,"updated_at":"2026-01-01T00:00:00.000000Z","value":null}`,
		`{"kind":"record","collection":"d","key":"gone","version":2,"updated_at":"2026-01-01T00:00:00.000000Z","deleted":true}`,
		`{"kind":"record","collection":"d","key":"big","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":"`+big+`"}`,
		`{"kind":"event","stream":"s","seq":1,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":{"a":[1,2]}}`,
		`{"kind":"event","stream":"s","seq":2,"type":"t\u0000u","at":"2026-01-01T00:00:00.000000Z"}`,
		`{"kind":"record","collection":"e","key":"huge","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":"`+huge+`"}`,
		`{"kind":"event","stream":"s","seq":3,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":"`+big+`"}`,
	)
	// A second write of some of them, older and newer, and a conflict.
	again := []string{
		`{"kind":"record","collection":"c","key":"k0001","version":1,"updated_at":"2026-02-01T00:00:00.000000Z","value":"older"}`,
		`{"kind":"record","collection":"c","key":"k0002","version":9,"updated_at":"2026-02-01T00:00:00.000000Z","value":"newer"}`,
		`{"kind":"event","stream":"s","seq":1,"type":"other","at":"2026-02-01T00:00:00.000000Z","data":1}`,
	}
	for _, mode := range []adapters.PutMode{adapters.Fresh, adapters.Guarded, adapters.Overwrite} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			dir := t.TempDir()
			var got [2]string
			var errs [2]error
			for i, viaC := range []bool{false, true} {
				path := filepath.Join(dir, fmt.Sprintf("%v.db", viaC))
				a := open(t, path, Options{})
				if err := putWith(t, a, "s", viaC, mode, putItems(t, lines...)); err != nil {
					t.Fatalf("via C %v: %v", viaC, err)
				}
				errs[i] = putWith(t, a, "s", viaC, mode, putItems(t, again...))
				a.Close()
				got[i] = rowsOf(t, path)
			}
			if got[0] != got[1] {
				t.Errorf("through C the tables hold\n%.2000s\nthrough database/sql\n%.2000s", got[1], got[0])
			}
			if fmt.Sprint(errs[0]) != fmt.Sprint(errs[1]) {
				t.Errorf("through C: %v\nthrough database/sql: %v", errs[1], errs[0])
			}
			if mode == adapters.Fresh && (!errors.Is(errs[1], adapters.ErrExists) || !strings.Contains(errs[1].Error(), "constraint failed")) {
				t.Errorf("a fresh put of a key that exists: %v, want ErrExists and SQLite's message", errs[1])
			}
			if mode != adapters.Fresh && errs[1] != nil {
				t.Errorf("second put: %v", errs[1])
			}
		})
	}
}

// An item the statements cannot write is refused, and fails the put (the
// items packed before it in the same call are not written: the caller
// rolls the transaction back either way).
func TestPutInCRefusesIncomplete(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	items := putItems(t, `{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`)
	bad := *items[0]
	bad.UpdatedAt = ""
	err := putWith(t, a, "s", true, adapters.Fresh, []*record.Item{items[0], &bad})
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("put with no updated_at: %v, want ErrIncomplete", err)
	}
}

// A transaction whose Begin's context ended does not commit what was put
// in it; a put whose transaction ended under it writes nothing on its own,
// where a statement outside a transaction would commit itself; a cancelled
// put says which item it stopped at.
func TestPutInCAfterTheTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	a := open(t, path, Options{})
	ctx := context.Background()
	line := func(k string) string {
		return `{"kind":"record","collection":"c","key":"` + k + `","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`
	}
	begun, end := context.WithCancel(ctx)
	tr, err := a.Begin(begun, "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Put(ctx, putItems(t, line("a")), adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	end()
	if err := tr.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("commit after Begin's context ended: %v, want context.Canceled", err)
	}
	if got := rowsOf(t, path); strings.Contains(got, `"a"`) {
		t.Errorf("a transaction whose context ended committed:\n%s", got)
	}

	tr, err = a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Put(ctx, putItems(t, line("a")), adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	tr.(*tx).tx.Rollback() // the connection stays, out of any transaction
	if err := tr.Put(ctx, putItems(t, line("b")), adapters.Fresh); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("put after the transaction ended: %v, want sql.ErrTxDone", err)
	}
	tr.Rollback()
	if got := rowsOf(t, path); strings.Contains(got, `"a"`) || strings.Contains(got, `"b"`) {
		t.Errorf("the put wrote on its own:\n%s", got)
	}

	tr, err = a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Rollback()
	if err := tr.Put(ctx, putItems(t, line("a")), adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.Put(cancelled, putItems(t, line("b")), adapters.Fresh); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"c"/"b"`) {
		t.Errorf("a cancelled put: %v, want context.Canceled naming the record", err)
	}
}

// A context that ends at any instant of a transaction or a snapshot ends
// it with the context's error, and what was not committed is not there.
// database/sql closes a Conn whose transaction's context ended from a
// goroutine of its own; a Conn.Raw racing that close dereferenced nil.
func TestContextEndsAnywhere(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	bg := context.Background()
	for i := range 1500 {
		ctx, cancel := context.WithTimeout(bg, time.Duration(i%50)*20*time.Microsecond)
		k := fmt.Sprint("k", i)
		err := putCommitted(ctx, a, putItems(t, `{"kind":"record","collection":"c","key":"`+k+`","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`))
		if err == nil {
			err = scanAll(ctx, a)
		}
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%d: %v, want nil or context.DeadlineExceeded", i, err)
		}
	}
	if err := putCommitted(bg, a, putItems(t, `{"kind":"record","collection":"c","key":"last","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`)); err != nil {
		t.Fatalf("after the deadlines: %v", err)
	}
}

func putCommitted(ctx context.Context, a *Adapter, items []*record.Item) error {
	tr, err := a.Begin(ctx, "s")
	if err != nil {
		return err
	}
	if err := tr.Put(ctx, items, adapters.Fresh); err != nil {
		tr.Rollback()
		return err
	}
	return tr.Commit()
}

func scanAll(ctx context.Context, a *Adapter) error {
	sn, err := a.Snapshot(ctx, "s")
	if err != nil {
		return err
	}
	defer sn.Close()
	return sn.ScanShared(ctx, adapters.Filter{}, 0, func(*record.Item, adapters.Settle) error { return nil })
}

// A put of a huge value lets go of its copy when it returns.
func TestPutInCReleasesHugeValues(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	ctx := context.Background()
	items := putItems(t, `{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":"`+strings.Repeat("x", 2*putKeepBytes)+`"}`)
	tr, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Rollback()
	if err := tr.Put(ctx, items, adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	if c := tr.(*tx).c; c == nil || cap(c.pack) > putKeepBytes || len(c.rows) != 0 || (cap(c.rows) > 0 && c.rows[:1][0] != nil) {
		t.Errorf("after the put the pack holds %d bytes and %d items", cap(c.pack), len(c.rows))
	}
}
