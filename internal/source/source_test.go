package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/sqlite"
	"github.com/cuitty/persist/internal/record"
)

// A read cut short by a cancelled context must never pass for the whole
// store: dump, sum and migrate would commit a short result as complete.
func TestEachCancelledIsNotTheEnd(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	a, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	for i := range 20000 {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%06d", i),
			Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`{"n":1}`)})
	}
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Close()

	for run := range 20 {
		src, err := Open(ctx, "sqlite:"+path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		err = src.Each(cctx, func(*record.Item, [32]byte) error {
			if n++; n == 1000+run*37 {
				cancel()
			}
			return nil
		})
		cancel()
		src.Close()
		if n < 20000 && !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Each stopped after %d of 20000 items and returned %v, want context.Canceled", run, n, err)
		}
	}
}
