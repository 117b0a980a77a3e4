package adapterstest

import (
	"context"
	"errors"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// isolationCase is a state, a change committed while a snapshot of the state
// is open, and the state after it.
func isolationCase() (before, change, removed, after []*record.Item) {
	before = []*record.Item{
		rec("c", "a", 1, T0, `"a1"`), rec("c", "b", 1, T0, `"b1"`), rec("c", "gone", 1, T0, `1`),
		ev("s", 1, "t", T0, `1`),
	}
	change = []*record.Item{
		rec("c", "a", 2, T0, `"a2"`), tomb("c", "b", 2, T0), rec("c", "new", 1, T0, `"n"`),
		ev("s", 2, "t", T0, `2`), ev("t", 1, "t", T0, `1`),
	}
	removed = []*record.Item{removeKey(before[2])}
	after = []*record.Item{change[0], change[1], change[2], before[3], change[3], change[4]}
	return before, change, removed, after
}

func commitChange(t *testing.T, a adapters.Adapter, change, removed []*record.Item) {
	t.Helper()
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Put(ctx, change, adapters.Guarded); err != nil {
			t.Fatal(err)
		}
		if err := tx.Remove(ctx, removed); err != nil {
			t.Fatal(err)
		}
	})
}

// checkSnapshot checks that s still shows want, by Count and Scan.
func checkSnapshot(t *testing.T, what string, s adapters.Snapshot, want []*record.Item) {
	t.Helper()
	got, _, _ := scanLines(t, s, adapters.Filter{})
	same(t, what, got, lines(want...))
	var r, e int64
	for _, it := range want {
		if it.Kind == record.KindRecord {
			r++
		} else {
			e++
		}
	}
	if gr, ge, err := s.Count(t.Context(), adapters.Filter{}); err != nil || gr != r || ge != e {
		t.Errorf("%s: Count = %d, %d, %v; want %d, %d", what, gr, ge, err, r, e)
	}
}

// A snapshot keeps showing the instant it was opened at while a transaction
// commits changes; a new snapshot shows them.
func testSnapshotIsolation(t *testing.T, a adapters.Adapter) {
	isolation(t, a, a)
}

// The same with the write through another handle on the database.
func testPairSnapshotIsolation(t *testing.T, a, b adapters.Adapter) {
	isolation(t, a, b)
}

func isolation(t *testing.T, reader, writer adapters.Adapter) {
	before, change, removed, after := isolationCase()
	write(t, writer, "app", adapters.Guarded, before...)
	s, err := reader.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	// Read once before the change, as a dump reads its counts first.
	checkSnapshot(t, "snapshot before the change", s, before)
	commitChange(t, writer, change, removed)
	checkSnapshot(t, "snapshot after the change", s, before)
	same(t, "new snapshot", dump(t, reader, "app", adapters.Filter{}), lines(after...))

	// A snapshot opened and not yet read from is just as fixed.
	s2, err := reader.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s2)
	write(t, writer, "app", adapters.Guarded, rec("c", "later", 1, T0, `1`))
	checkSnapshot(t, "snapshot opened before a write, read after it", s2, after)
}

// Rows keep streaming from the snapshot's instant while a write commits
// halfway through a scan.
func testSnapshotWhileScanning(t *testing.T, a adapters.Adapter) {
	before, change, removed, _ := isolationCase()
	write(t, a, "app", adapters.Guarded, before...)
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	var got []string
	err = s.Scan(t.Context(), adapters.Filter{}, func(it *record.Item) error {
		if len(got) == 0 {
			commitChange(t, a, change, removed)
		}
		got = append(got, line(it))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	same(t, "scan across a commit", got, lines(before...))
}

// A snapshot takes no other call while it is being scanned: each is
// refused with ErrScanning, and the scan goes on to its end unharmed.
func testCallsWhileScanning(t *testing.T, a adapters.Adapter) {
	before, _, _, _ := isolationCase()
	write(t, a, "app", adapters.Guarded, before...)
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	ctx := t.Context()
	calls := map[string]func() error{
		"Count":  func() error { _, _, err := s.Count(ctx, adapters.Filter{}); return err },
		"Cursor": func() error { _, err := s.Cursor(ctx); return err },
		"Names":  func() error { _, _, err := s.Names(ctx); return err },
		"Scan":   func() error { return s.Scan(ctx, adapters.Filter{}, func(*record.Item) error { return nil }) },
		"ScanShared": func() error {
			return s.ScanShared(ctx, adapters.Filter{}, 0, func(*record.Item, adapters.Settle) error { return nil })
		},
	}
	var got []string
	err = s.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		if len(got) == 0 {
			for name, call := range calls {
				if err := call(); !errors.Is(err, adapters.ErrScanning) {
					t.Errorf("%s during a scan: %v, want ErrScanning", name, err)
				}
			}
		}
		got = append(got, line(it))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	same(t, "a scan with calls refused during it", got, lines(before...))
	if _, _, err := s.Count(ctx, adapters.Filter{}); err != nil {
		t.Errorf("Count after the scan: %v", err)
	}
}
