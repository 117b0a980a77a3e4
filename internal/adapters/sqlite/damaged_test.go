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
// of the b-tree overwritten), is refused by every whole-store read,
// with what to run; the count of its indexes tells. A read of some
// collections, which has no count apart from the scan, is not checked.
func TestDamagedFileRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	a := open(t, good, Options{})
	var items []*record.Item
	for i := range 2000 {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%05d", i),
			Version: 1, UpdatedAt: "2026-11-25T12:00:00.000000Z", Value: []byte(`{"pad":"` + strings.Repeat("x", 60) + `"}`)})
	}
	ctx := context.Background()
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
	a.Close()
	bad := damagedCopy(t, good, 2000)

	r := open(t, bad, Options{ReadOnly: true})
	defer r.Close()
	for _, shared := range []bool{false, true} {
		s, err := r.Snapshot(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if shared {
			err = s.ScanShared(ctx, adapters.Filter{}, 0, func(*record.Item, adapters.Settle) error { n++; return nil })
		} else {
			err = s.Scan(ctx, adapters.Filter{}, func(*record.Item) error { n++; return nil })
		}
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), fmt.Sprintf("the scan read %d records", n)) {
			t.Errorf("shared %v: a scan of the damaged file read %d items: %v", shared, n, err)
		}
		if h := hint.All(err); len(h) == 0 || !strings.Contains(h[0], "sqlite3 '"+bad+"' 'PRAGMA integrity_check'") {
			t.Errorf("hints %q", h)
		}
		if err := s.Scan(ctx, adapters.Filter{Collections: []string{"c"}}, func(*record.Item) error { return nil }); err != nil {
			t.Errorf("a filtered scan: %v", err)
		}
		s.Close()
	}
}

// damagedCopy copies the file at path and overwrites eight bytes of one of
// its pages, the first after which SQLite's walk of persist_records yields
// fewer than want rows and no error, and returns the copy's path.
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
			err := db.QueryRow(`SELECT count(value) FROM persist_records WHERE store = 'big'`).Scan(&n) // value is in no index
			db.Close()
			if err == nil && n < want {
				return bad
			}
		}
	}
	t.Fatal("no page of the file, overwritten, shortens the walk of persist_records without an error")
	return ""
}
