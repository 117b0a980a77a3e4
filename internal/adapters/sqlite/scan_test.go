package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// scanStore writes n records and 300 events into a fresh store and returns
// the adapter and a connection of another program.
func scanStore(t *testing.T, n int) (*Adapter, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scan.db")
	a := open(t, path, Options{})
	t.Cleanup(func() { a.Close() })
	tx, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	for i := range n {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%05d", i),
			Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	for i := range 300 {
		items = append(items, &record.Item{Kind: record.KindEvent, Stream: "e", Seq: int64(i + 1), Type: "t",
			At: "2026-01-01T00:00:00.000000Z", Data: []byte(`[1]`)})
	}
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return a, rawDB(t, path, "mode=rw&_busy_timeout=5000")
}

// scanKeys scans the store, returning the items' names in the order fn saw
// them; fn fails at the item stopAt when it is not empty.
func scanKeys(t *testing.T, a *Adapter, stopAt string) ([]string, error) {
	t.Helper()
	snap, err := a.Snapshot(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var got []string
	err = snap.Scan(context.Background(), adapters.Filter{}, func(it *record.Item) error {
		name := it.Key
		if !it.IsRecord() {
			name = fmt.Sprint(it.Seq)
		}
		got = append(got, name)
		if name == stopAt {
			return errStopHere
		}
		return nil
	})
	return got, err
}

var errStopHere = errors.New("stop here")

// Rows are read a batch ahead of the check of their values: the rows
// before a bad one still reach fn, in order, and nothing after it does.
func TestScanAheadFirstErrorWins(t *testing.T) {
	a, db := scanStore(t, 2000)
	got, err := scanKeys(t, a, "")
	if err != nil || len(got) != 2300 || got[0] != "k00000" || got[1999] != "k01999" || got[2000] != "1" || got[2299] != "300" {
		t.Fatalf("scan: %d items (%v), %v", len(got), got[:3], err)
	}
	for _, bad := range []string{"k00700", "k01301"} {
		if _, err := db.Exec(`UPDATE persist_records SET value = '{"n":' WHERE key = ?`, bad); err != nil {
			t.Fatal(err)
		}
	}
	got, err = scanKeys(t, a, "")
	if err == nil || !strings.Contains(err.Error(), `record "c"/"k00700": stored value is not valid JSON`) {
		t.Fatalf("scan of a bad value: %v", err)
	}
	if len(got) != 700 || got[699] != "k00699" {
		t.Fatalf("fn saw %d items before the bad one (last %q), want 700", len(got), got[len(got)-1])
	}
}

// An error from fn stops the scan at once, in either table.
func TestScanAheadStops(t *testing.T) {
	a, _ := scanStore(t, 1000)
	for _, at := range []string{"k00000", "k00257", "k00999", "1", "150"} {
		got, err := scanKeys(t, a, at)
		if !errors.Is(err, errStopHere) || got[len(got)-1] != at {
			t.Fatalf("stop at %s: %v after %d items", at, err, len(got))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	snap, err := a.Snapshot(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	n := 0
	err = snap.Scan(ctx, adapters.Filter{}, func(*record.Item) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v after %d items", err, n)
	}
}
