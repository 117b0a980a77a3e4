package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

var errStopHere = errors.New("stop here")

// scanNames scans store s, returning the items' names in the order fn saw
// them; fn fails at stopAt when it is not empty.
func scanNames(t *testing.T, a *Adapter, stopAt string) ([]string, error) {
	t.Helper()
	snap, err := a.Snapshot(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var got []string
	err = snap.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
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

// Rows are read a batch ahead of the respelling of their times and values:
// the rows before a bad one still reach fn, in order, nothing after it
// does, and an error from fn stops the scan.
func TestScanAhead(t *testing.T) {
	a, dsn := open(t)
	var items []*record.Item
	for i := range 1500 {
		items = append(items, rec("c", fmt.Sprintf("k%05d", i), 1, fmt.Sprintf(`{"n":%d,"s":"%s"}`, i, strings.Repeat("x", i%300))))
	}
	for i := range 300 {
		items = append(items, event("e", int64(i+1), "t", `[1]`))
	}
	put(t, a, "s", adapters.Overwrite, items...)
	got, err := scanNames(t, a, "")
	if err != nil || len(got) != 1800 || got[0] != "k00000" || got[1499] != "k01499" || got[1500] != "1" {
		t.Fatalf("scan: %d items, %v", len(got), err)
	}
	for _, at := range []string{"k00000", "k00257", "k01499", "1", "300"} {
		got, err := scanNames(t, a, at)
		if !errors.Is(err, errStopHere) || got[len(got)-1] != at {
			t.Fatalf("stop at %s: %v after %d items", at, err, len(got))
		}
	}
	db := sqlDB(t, dsn)
	for _, k := range []string{"k00700", "k01301"} {
		if _, err := db.Exec(`UPDATE persist_records SET updated_at = '10000-01-01 00:00:00+00' WHERE key = $1`, k); err != nil {
			t.Fatal(err)
		}
	}
	got, err = scanNames(t, a, "")
	if err == nil || !strings.Contains(err.Error(), `record "c"/"k00700": updated_at:`) {
		t.Fatalf("scan of a bad time: %v", err)
	}
	if len(got) != 700 || got[699] != "k00699" {
		t.Fatalf("fn saw %d items before the bad one, want 700", len(got))
	}
}
