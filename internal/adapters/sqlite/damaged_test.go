package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// A file whose table SQLite walks only in part, without an error (a page
// of the b-tree overwritten), is refused by every read of every row of
// the store (a live one's too, which reads the tombstones it leaves out)
// and of a delta's, with what to run: the count of its indexes tells. A
// read of some collections, which has no count apart from the scan, is
// not checked.
func TestDamagedFileRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	a := open(t, good, Options{})
	ctx := context.Background()
	put := func(items ...*record.Item) {
		tx, err := a.Begin(ctx, "big")
		if err == nil {
			err = tx.Put(ctx, items, adapters.Guarded)
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	put(&record.Item{Kind: record.KindRecord, Collection: "a", Key: "first", Version: 1, UpdatedAt: "2026-11-25T12:00:00.000000Z", Deleted: true})
	s, err := a.Snapshot(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	cursor, err := s.Cursor(ctx)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	for i := range 2000 {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%05d", i),
			Version: 1, UpdatedAt: "2026-11-25T12:00:00.000000Z", Value: []byte(`{"pad":"` + strings.Repeat("x", 60) + `"}`)})
	}
	put(items...)
	a.Close()
	bad := damagedCopy(t, good, 2001)

	r := open(t, bad, Options{ReadOnly: true})
	defer r.Close()
	for _, c := range []struct {
		name   string
		shared bool
		f      adapters.Filter
	}{{"scan", false, adapters.Filter{}}, {"shared", true, adapters.Filter{}}, {"live", false, adapters.Filter{Live: true}},
		{"delta", false, adapters.Filter{Since: cursor}}} {
		s, err := r.Snapshot(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if c.shared {
			err = s.ScanShared(ctx, c.f, 0, func(*record.Item, adapters.Settle) error { n++; return nil })
		} else {
			err = s.Scan(ctx, c.f, func(*record.Item) error { n++; return nil })
		}
		if !errors.Is(err, ErrDamaged) || n >= 2000 {
			t.Errorf("%s: a scan of the damaged file read %d items: %v", c.name, n, err)
		}
		if h := hint.All(err); len(h) == 0 || !strings.Contains(h[0], "sqlite3 '"+bad+"' 'PRAGMA integrity_check'") {
			t.Errorf("%s: hints %q", c.name, h)
		}
		if err := s.Scan(ctx, adapters.Filter{Collections: []string{"c"}}, func(*record.Item) error { return nil }); err != nil {
			t.Errorf("a filtered scan: %v", err)
		}
		s.Close()
	}
}

// damagedCopy copies the file at path and overwrites eight bytes of one of
// its pages, the first after which SQLite's walk of store big's records
// yields fewer than want rows and no error, and returns the copy's path.
func damagedCopy(t *testing.T, path string, want int) string {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	for page := 2; page*4096 < len(orig); page++ {
		for _, at := range []int{8, 12, 16, 20} { // a page's header, its cell pointers
			b := append([]byte(nil), orig...)
			copy(b[(page-1)*4096+at:], "ZZZZZZZZ")
			if err := os.WriteFile(bad, b, 0o644); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, bad, "mode=ro")
			var n int
			err := db.QueryRow(`SELECT count(updated_at) FROM persist_records WHERE store = 'big'`).Scan(&n) // in no index
			db.Close()
			if err == nil && n < want {
				return bad
			}
		}
	}
	t.Fatal("no page of the file, overwritten, shortens the walk of persist_records without an error")
	return ""
}
