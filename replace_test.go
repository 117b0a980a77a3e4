package persist_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/testdb"
)

// A replace makes the store exactly the stream, so a stream that may hold
// only part of its store is refused, with nothing written: one without a
// header (a producer that died midway leaves a part that reads as whole)
// and a dump persist-dump filtered. Sealed by persist-seal, either is
// vouched for, and replaces.
func TestReplaceRefusesPartialStreams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t) + "#app"
		s := open(t, loc)
		for _, c := range []string{"users", "orders"} {
			if _, err := s.Put(ctx, c, "k1", map[string]any{"c": c}); err != nil {
				t.Fatal(err)
			}
		}
		sum := func() string {
			res, err := persist.Sum(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			return res.Sum
		}
		before := sum()
		var filtered strings.Builder
		if _, err := persist.Dump(ctx, loc, &filtered, persist.DumpOptions{ReadOptions: persist.ReadOptions{Filter: persist.Filter{Collections: []string{"users"}}}}); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(filtered.String(), "\n")
		handMade := strings.Join(lines[1:len(lines)-2], "") // the items alone
		for name, in := range map[string]string{"filtered": filtered.String(), "hand-made": handMade} {
			_, err := persist.Load(ctx, strings.NewReader(in), loc, persist.LoadOptions{Mode: persist.Replace})
			if !errors.Is(err, persist.ErrPartialStream) {
				t.Errorf("%s: %v, want ErrPartialStream", name, err)
			}
			if h := strings.Join(hint.All(err), "\n"); !strings.Contains(h, "persist-seal") || !strings.Contains(h, "leave out --mode replace") {
				t.Errorf("%s: hints %q", name, h)
			}
			if got := sum(); got != before {
				t.Fatalf("%s: the store changed: %s, was %s", name, got, before)
			}
			// Merged, either is fine.
			if _, err := persist.Load(ctx, strings.NewReader(in), loc, persist.LoadOptions{}); err != nil {
				t.Errorf("%s merged: %v", name, err)
			}
		}
		var sealed strings.Builder
		if _, err := persist.Seal(ctx, strings.NewReader(filtered.String()), &sealed, persist.SealOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := persist.Load(ctx, strings.NewReader(sealed.String()), loc, persist.LoadOptions{Mode: persist.Replace}); err != nil {
			t.Fatalf("sealed: %v", err)
		}
		if _, err := s.Get(ctx, "orders", "k1"); !errors.Is(err, persist.ErrNotFound) {
			t.Errorf("after the sealed replace, orders/k1: %v, want ErrNotFound", err)
		}
	})
}
