package adapterstest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A snapshot that says it is adapters.OwnBytes hands on items whose bytes
// nothing writes to again: kept without a copy through a whole Scan or
// ScanShared, every item still reads as it did when fn had it, values
// respelled from another program's spelling included. (An adapter that
// does not say so is held to nothing here: its callers copy.)
func testOwnBytes(t *testing.T, a adapters.Adapter, db *sql.DB) {
	items := storable(t, a, corpus()...)
	for i := range 3000 {
		v := fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("x", i%300))
		items = append(items, rec("many", fmt.Sprintf("k%05d", i), 1, T0, v))
	}
	write(t, a, "app", adapters.Guarded, items...)
	// Two values of one length in another spelling: respelled into one
	// reused buffer, the second would overwrite the first.
	exec(t, db,
		`UPDATE persist_records SET value = '{ "b" : 1, "a" : 2 }' WHERE store = 'app' AND collection = 'many' AND key = 'k00007'`,
		`UPDATE persist_records SET value = '{ "d" : 3, "c" : 4 }' WHERE store = 'app' AND collection = 'many' AND key = 'k02000'`)
	if s := snapshot(t, a, "app"); !isOwnBytes(s) {
		t.Logf("%T is not adapters.OwnBytes: nothing to hold it to", s)
		return
	}
	respelled := map[string]string{"k00007": `{"a":2,"b":1}`, "k02000": `{"c":4,"d":3}`}
	scans := map[string]func(adapters.Snapshot, func(*record.Item, adapters.Settle) error) error{
		"Scan": func(s adapters.Snapshot, fn func(*record.Item, adapters.Settle) error) error {
			return s.Scan(t.Context(), adapters.Filter{}, func(it *record.Item) error { return fn(it, nil) })
		},
		"ScanShared 0": func(s adapters.Snapshot, fn func(*record.Item, adapters.Settle) error) error {
			return s.ScanShared(t.Context(), adapters.Filter{}, 0, fn)
		},
		"ScanShared 1": func(s adapters.Snapshot, fn func(*record.Item, adapters.Settle) error) error {
			return s.ScanShared(t.Context(), adapters.Filter{}, 1, fn)
		},
	}
	for name, scan := range scans {
		var (
			kept  []record.Item
			as    []string
			fixed int
		)
		err := scan(snapshot(t, a, "app"), func(it *record.Item, settle adapters.Settle) error {
			if want, ok := respelled[it.Key]; ok && settle == nil {
				if string(it.Value) != want {
					return fmt.Errorf("%s reads %s, want %s", it.Key, it.Value, want)
				}
				fixed++
			}
			kept = append(kept, *it) // no copy of the bytes
			as = append(as, rawItem(it))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(kept) != len(items) {
			t.Fatalf("%s: %d items, want %d", name, len(kept), len(items))
		}
		for i := range kept {
			if got := rawItem(&kept[i]); got != as[i] {
				t.Fatalf("%s: item %d read %s when fn had it, %s after the scan", name, i, as[i], got)
			}
		}
		if name == "Scan" && fixed != 2 {
			t.Fatalf("Scan respelled %d of the 2 values in another spelling", fixed)
		}
	}
}

func isOwnBytes(s adapters.Snapshot) bool {
	_, ok := s.(adapters.OwnBytes)
	return ok
}

// rawItem spells every field of it, byte for byte.
func rawItem(it *record.Item) string {
	return fmt.Sprintf("%v %q %q %d %q %v %q %q %d %q %q %q", it.Kind, it.Collection, it.Key, it.Version,
		it.UpdatedAt, it.Deleted, it.Value, it.Stream, it.Seq, it.Type, it.At, it.Data)
}
