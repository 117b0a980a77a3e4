package adapterstest

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

func stores(t *testing.T, a adapters.Adapter) []string {
	t.Helper()
	names, err := a.Stores(t.Context())
	if err != nil {
		t.Fatalf("Stores: %v", err)
	}
	return names
}

// A database without the schema holds no stores, and reading it creates
// nothing: Stores again, and a snapshot, still find none.
func testEmptyDatabase(t *testing.T, a adapters.Adapter) {
	if got := stores(t, a); len(got) != 0 {
		t.Fatalf("Stores of an empty database = %q, want none", got)
	}
	s, err := a.Snapshot(t.Context(), "app")
	if !errors.Is(err, adapters.ErrNoStore) {
		t.Fatalf("Snapshot of an empty database: err = %v, want ErrNoStore", err)
	}
	if s != nil {
		t.Errorf("Snapshot returned a snapshot with its error")
	}
	if got := stores(t, a); len(got) != 0 {
		t.Fatalf("Stores after reading an empty database = %q, want none", got)
	}
}

// Begin creates schema and store when missing and reuses them otherwise.
func testSchemaIdempotent(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "k", 1, T0, `1`))
	write(t, a, "app", adapters.Guarded, rec("c", "k2", 1, T0, `2`))
	inTx(t, a, "other", func(ctx context.Context, tx adapters.Tx) {})
	write(t, a, "app", adapters.Overwrite, rec("c", "k", 2, T0, `3`))
	if got, want := stores(t, a), []string{"app", "other"}; !slices.Equal(got, want) {
		t.Errorf("Stores = %q, want %q", got, want)
	}
	same(t, "dump", dump(t, a, "app", adapters.Filter{}),
		lines(rec("c", "k", 2, T0, `3`), rec("c", "k2", 1, T0, `2`)))
}

// Stores sorts names bytewise.
func testStoresSorted(t *testing.T, a adapters.Adapter) {
	names := []string{"é", "a", "B", "app", "a b", "😀", "Z"}
	for _, n := range names {
		inTx(t, a, n, func(ctx context.Context, tx adapters.Tx) {})
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if got := stores(t, a); !slices.Equal(got, want) {
		t.Errorf("Stores = %q, want %q", got, want)
	}
}

// A store created by a committed Begin exists, empty.
func testEmptyStore(t *testing.T, a adapters.Adapter) {
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {})
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatalf("Snapshot of an empty store: %v", err)
	}
	defer closeSnapshot(t, s)
	r, e, err := s.Count(t.Context(), adapters.Filter{})
	if err != nil || r != 0 || e != 0 {
		t.Errorf("Count of an empty store = %d, %d, %v; want 0, 0, nil", r, e, err)
	}
	if got, _, _ := scanLines(t, s, adapters.Filter{}); len(got) != 0 {
		t.Errorf("Scan of an empty store yielded %q", got)
	}
}

// Snapshot of a missing store wraps ErrNoStore, also beside other stores.
func testNoStore(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "k", 1, T0, `1`))
	for _, name := range []string{"App", "ap", "app ", ""} {
		s, err := a.Snapshot(t.Context(), name)
		if !errors.Is(err, adapters.ErrNoStore) {
			t.Errorf("Snapshot(%q): err = %v, want ErrNoStore", name, err)
		}
		if s != nil {
			s.Close()
		}
	}
}

// Two stores with the same collections, keys and streams stay apart through
// every operation.
func testTwoStores(t *testing.T, a adapters.Adapter) {
	ctx := t.Context()
	a1 := []*record.Item{rec("c", "k", 1, T0, `"a"`), rec("c", "only-a", 1, T0, `1`), ev("s", 1, "t", T0, `"a"`)}
	b1 := []*record.Item{rec("c", "k", 5, T0, `"b"`), ev("s", 1, "t", T0, `"b"`), ev("s", 2, "t", T0, `"b2"`)}
	write(t, a, "a", adapters.Guarded, a1...)
	write(t, a, "b", adapters.Guarded, b1...)
	same(t, "store a", dump(t, a, "a", adapters.Filter{}), lines(a1...))
	same(t, "store b", dump(t, a, "b", adapters.Filter{}), lines(b1...))
	same(t, "lookup in a", lookupCommitted(t, a, "a", a1...), lines(a1...))
	inTx(t, a, "b", func(ctx context.Context, tx adapters.Tx) {
		if m, err := tx.MaxSeq(ctx, []string{"s"}); err != nil || m["s"] != 2 {
			t.Errorf("MaxSeq in b = %v, %v; want s:2", m, err)
		}
	})
	inTx(t, a, "a", func(ctx context.Context, tx adapters.Tx) {
		if m, err := tx.MaxSeq(ctx, []string{"s"}); err != nil || m["s"] != 1 {
			t.Errorf("MaxSeq in a = %v, %v; want s:1", m, err)
		}
		if err := tx.Remove(ctx, []*record.Item{removeKey(a1[0]), removeKey(a1[2])}); err != nil {
			t.Fatal(err)
		}
	})
	same(t, "store b after removing from a", dump(t, a, "b", adapters.Filter{}), lines(b1...))
	inTx(t, a, "b", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Clear(ctx); err != nil {
			t.Fatal(err)
		}
	})
	same(t, "store a after clearing b", dump(t, a, "a", adapters.Filter{}), lines(a1[1]))
	same(t, "store b cleared", dump(t, a, "b", adapters.Filter{}), nil)
	_ = ctx
}

// Two handles on one fresh database create the schema at the same time.
func testPairConcurrentSchema(t *testing.T, a, b adapters.Adapter) {
	var wg sync.WaitGroup
	for i, ad := range []adapters.Adapter{a, b, a, b} {
		wg.Go(func() {
			store := []string{"x", "y", "x", "y"}[i]
			if err := tryWrite(t.Context(), t, ad, store, adapters.Guarded, rec("c", string(rune('a'+i)), 1, T0, `1`)); err != nil {
				t.Errorf("write to store %q: %v", store, err)
			}
		})
	}
	wg.Wait()
	for _, ad := range []adapters.Adapter{a, b} {
		if got := stores(t, ad); !slices.Equal(got, []string{"x", "y"}) {
			t.Errorf("Stores = %q, want [x y]", got)
		}
	}
	same(t, "store x", dump(t, b, "x", adapters.Filter{}), lines(rec("c", "a", 1, T0, `1`), rec("c", "c", 1, T0, `1`)))
}

// Records and events another program wrote for a store that persist_stores
// does not name are a store all the same: listed, and read by its name.
// Left out, a database of two stores would pass for one, and a dump of
// "its only store" would leave the other behind without a word.
func testStoresWithoutRow(t *testing.T, a adapters.Adapter, db *sql.DB) {
	exec(t, db,
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('other', 'c', 'k', 1, '`+T0+`', false, '{"a":1}')`,
		`INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES ('third', 's', 1, 't', '`+T0+`', '2')`)
	if got, want := stores(t, a), []string{"app", "other", "third"}; !slices.Equal(got, want) {
		t.Errorf("Stores = %q, want %q", got, want)
	}
	same(t, "dump of other", dump(t, a, "other", adapters.Filter{}), lines(rec("c", "k", 1, T0, `{"a":1}`)))
	same(t, "dump of third", dump(t, a, "third", adapters.Filter{}), lines(ev("s", 1, "t", T0, `2`)))
	if _, err := a.Snapshot(t.Context(), "none"); !errors.Is(err, adapters.ErrNoStore) {
		t.Errorf("Snapshot of a store nothing holds: %v, want ErrNoStore", err)
	}
}
