package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Scan and ScanShared read straight from SQLite (cRows); whatever another
// program stored, in whatever type, they must read as database/sql's
// conversions do, once settled: the same lines, or an error where those
// give one. Values over a batch's buffer, and over a huge value's size,
// come whole.
func TestScanSharedReadsAsScan(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, set string
		fails     bool
	}{
		{"as written", "", false},
		{"value a blob", "value = CAST(value AS BLOB)", false},
		{"value an integer", "value = 42", false},
		{"value a real", "value = 1.5", false},
		{"value an empty blob", "value = x''", true},
		{"value null", "value = NULL", false},
		{"value not JSON", "value = '{'", true},
		{"version text", "version = '7'", false},
		{"version a real", "version = 2.5", true},
		{"version not a number", "version = 'seven'", true},
		{"deleted text", "deleted = '1', value = NULL", false},
		{"deleted with a value", "deleted = 1", true},
		{"updated_at a blob", "updated_at = CAST('2026-01-02T00:00:00.000000Z' AS BLOB)", false},
		{"data a blob", "", false},
		{"value empty text", "value = ''", true},
		{"key a blob", "key = CAST(key AS BLOB)", true},
		{"collection an integer, stored as text", "collection = 7", false},
		{"value over a batch", `value = '{"v":"' || printf('%.*c', 40000, 'x') || '"}'`, false},
		{"value huge", `value = '{"v":"' || printf('%.*c', 1200000, 'y') || '"}' WHERE key IN ('b', 'e')`, false},
		{"updated_at another spelling", "updated_at = '2026-01-01T00:00:00Z'", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "edited.db")
			a := open(t, path, Options{})
			var in []string
			for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
				in = append(in, `{"kind":"record","collection":"c","key":"`+k+`","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"k":"`+k+`"}}`)
			}
			in = append(in, `{"kind":"event","stream":"s","seq":1,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":[1]}`,
				`{"kind":"event","stream":"s","seq":2,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":[2]}`)
			putLines(t, a, "s", in...)
			db := rawDB(t, path, "mode=rw")
			defer db.Close()
			if tc.set != "" {
				if _, err := db.Exec(`UPDATE persist_records SET ` + tc.set); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Exec(`UPDATE persist_events SET data = CAST(data AS BLOB) WHERE seq = 2`); err != nil {
				t.Fatal(err)
			}
			want, wantErr := scanWith(ctx, t, a, -2)
			if (wantErr != nil) != tc.fails {
				t.Fatalf("database/sql: %v", wantErr)
			}
			for share := -1; share < 2; share++ {
				got, err := scanWith(ctx, t, a, share)
				if (err != nil) != (wantErr != nil) {
					t.Fatalf("share %d: error %v; Scan's %v", share, err, wantErr)
				}
				if err == nil && !equalLines(got, want) {
					t.Fatalf("share %d:\n%q\nScan:\n%q", share, got, want)
				}
			}
		})
	}
}

// scanWith reads store "s" through database/sql (share -2), by Scan
// (share -1) or ScanShared, settling every value handed on unchecked.
func scanWith(ctx context.Context, t *testing.T, a *Adapter, share int) ([]string, error) {
	snap, err := a.Snapshot(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var out []string
	if share == -2 {
		s := snap.(*snapshot)
		err = scan(ctx, s.tx, s.store, adapters.Filter{}, -1, canonicalValues, plain(func(it *record.Item) error {
			out = append(out, string(record.AppendItem(nil, it)))
			return nil
		}))
		return out, err
	}
	if share < 0 {
		err = snap.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
			out = append(out, string(record.AppendItem(nil, it)))
			return nil
		})
		return out, err
	}
	var buf []byte
	err = snap.ScanShared(ctx, adapters.Filter{}, share, func(it *record.Item, settle adapters.Settle) error {
		if settle != nil {
			if err := settle(it, &buf); err != nil {
				return err
			}
		}
		out = append(out, string(record.AppendItem(nil, it)))
		return nil
	})
	return out, err
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A file made by another implementation may lack the NOT NULLs: a NULL
// where a name or a time belongs is an error on every path, never a
// column read out of place.
func TestScanNullWhereTextBelongs(t *testing.T) {
	for _, col := range []string{"collection", "key", "updated_at"} {
		t.Run(col, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			db := rawDB(t, path, "mode=rwc")
			for _, q := range []string{
				`CREATE TABLE persist_stores (name TEXT PRIMARY KEY, created_at TEXT)`,
				`CREATE TABLE persist_records (store TEXT, collection TEXT, key TEXT, version INTEGER,
					updated_at TEXT, deleted INTEGER, value TEXT, PRIMARY KEY (store, collection, key))`,
				`CREATE TABLE persist_events (store TEXT, stream TEXT, seq INTEGER, type TEXT, at TEXT, data TEXT,
					PRIMARY KEY (store, stream, seq))`,
				`INSERT INTO persist_stores VALUES ('s', '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO persist_records VALUES ('s', 'c', 'a', 1, '2026-01-01T00:00:00.000000Z', 0, '1')`,
				`INSERT INTO persist_records VALUES ('s', 'c', 'b', 1, '2026-01-01T00:00:00.000000Z', 0, '2')`,
				`UPDATE persist_records SET ` + col + ` = NULL WHERE key = 'a'`,
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			a := open(t, path, Options{ReadOnly: true})
			for share := -2; share < 2; share++ {
				_, err := scanWith(t.Context(), t, a, share)
				if err == nil || !strings.Contains(err.Error(), "NULL") {
					t.Errorf("read %d with a NULL %s: %v, want an error saying NULL", share, col, err)
				}
				if col == "updated_at" && (!strings.Contains(err.Error(), `record "c"/"a"`) || len(hint.All(err)) == 0) {
					t.Errorf("read %d with a NULL %s: %v, hints %q; want the record named, and a hint", share, col, err, hint.All(err))
				}
			}
			if col == "updated_at" {
				followNullHint(t, a, path)
			}
		})
	}
}

// followNullHint runs the SQL of the hint a read of a NULL updated_at
// gives, and checks that the store reads again.
func followNullHint(t *testing.T, a *Adapter, path string) {
	_, err := scanWith(t.Context(), t, a, -1)
	hints := hint.All(err)
	if len(hints) == 0 || !strings.Contains(hints[0], "UPDATE") {
		t.Fatalf("no SQL in the hints %q", hints)
	}
	h := hints[0]
	db := rawDB(t, path, "mode=rw")
	defer db.Close()
	if _, err := db.Exec(h[strings.Index(h, "UPDATE"):]); err != nil {
		t.Fatalf("the hint's SQL: %v", err)
	}
	for share := -2; share < 2; share++ {
		if _, err := scanWith(t.Context(), t, a, share); err != nil {
			t.Errorf("read %d after the hint was followed: %v", share, err)
		}
	}
}

// A snapshot being scanned refuses other calls, rather than waiting for
// the connection the scan holds.
func TestSnapshotBusyWhileScanning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{ReadOnly: true})
	snap, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	calls := 0
	err = snap.Scan(t.Context(), adapters.Filter{}, func(*record.Item) error {
		calls++
		if _, _, err := snap.Count(t.Context(), adapters.Filter{}); !errors.Is(err, adapters.ErrScanning) {
			t.Errorf("Count during Scan: %v, want ErrScanning", err)
		}
		if _, err := snap.Cursor(t.Context()); !errors.Is(err, adapters.ErrScanning) {
			t.Errorf("Cursor during Scan: %v, want ErrScanning", err)
		}
		if _, _, err := snap.Names(t.Context()); !errors.Is(err, adapters.ErrScanning) {
			t.Errorf("Names during Scan: %v, want ErrScanning", err)
		}
		return snap.Scan(t.Context(), adapters.Filter{}, func(*record.Item) error { return nil })
	})
	if !errors.Is(err, adapters.ErrScanning) || calls != 1 {
		t.Fatalf("Scan within Scan: %v after %d items, want ErrScanning", err, calls)
	}
	if _, _, err := snap.Count(t.Context(), adapters.Filter{}); err != nil {
		t.Errorf("Count after the scan: %v", err)
	}
}
