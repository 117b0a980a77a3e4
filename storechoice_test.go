package persist_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/testdb"
)

// A dump of one store, loaded or migrated into a database whose only store
// is another, is refused before anything is written, merge or replace:
// picked only as the one store there, the other store would take in
// another application's data. Named, either store takes it.
func TestDumpOfAnotherStoreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		src, dst := db.Location(t), db.Location(t)
		billing := open(t, src+"#billing")
		if _, err := billing.Put(ctx, "invoices", "i1", map[string]any{"amount": 5}); err != nil {
			t.Fatal(err)
		}
		alpha := open(t, dst+"#alpha")
		if _, err := alpha.Put(ctx, "users", "u1", map[string]any{"name": "Ada"}); err != nil {
			t.Fatal(err)
		}
		var dump strings.Builder
		if _, err := persist.Dump(ctx, src+"#billing", &dump, persist.DumpOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []persist.LoadMode{persist.Merge, persist.Replace} {
			_, err := persist.Load(ctx, strings.NewReader(dump.String()), dst, persist.LoadOptions{Mode: mode})
			if !errors.Is(err, persist.ErrStoreChoice) || !strings.Contains(err.Error(), `the stream is a dump of store "billing"`) {
				t.Errorf("mode %v: %v, want ErrStoreChoice", mode, err)
			}
			if h := strings.Join(hint.All(err), "\n"); !strings.Contains(h, `to make store "billing" beside it`) {
				t.Errorf("mode %v: hints %q", mode, h)
			}
		}
		if _, err := persist.Migrate(ctx, src+"#billing", dst, persist.MigrateOptions{}); !errors.Is(err, persist.ErrStoreChoice) {
			t.Errorf("migrate: %v, want ErrStoreChoice", err)
		}
		if _, err := alpha.Get(ctx, "invoices", "i1"); !errors.Is(err, persist.ErrNotFound) {
			t.Fatalf("alpha took billing's invoice: %v", err)
		}
		for _, named := range []string{dst + "#billing", dst + "#alpha"} {
			if _, err := persist.Load(ctx, strings.NewReader(dump.String()), named, persist.LoadOptions{}); err != nil {
				t.Errorf("load into %s: %v", named, err)
			}
		}
	})
}
