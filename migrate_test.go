package persist_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

func TestMigrate(t *testing.T) {
	const n = 3000
	stream := writeStream(t, n)
	for _, tt := range []struct{ from, to backend }{
		{backends[0], backends[1]},
		{backends[1], backends[0]},
	} {
		t.Run(tt.from.name+"_to_"+tt.to.name, func(t *testing.T) {
			ctx := testContext(t)
			src, dst := tt.from.new(t)+"#app", tt.to.new(t)
			// A stream file is a source too: it seeds the source store.
			if _, err := persist.Migrate(ctx, stream, src, persist.MigrateOptions{}); err != nil {
				t.Fatal(err)
			}
			var calls int
			var last persist.Progress
			res, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{BatchSize: 700, OnProgress: func(p persist.Progress) {
				calls++
				if p.Completed < last.Completed {
					t.Errorf("progress went back from %d to %d", last.Completed, p.Completed)
				}
				last = p
			}})
			if err != nil {
				t.Fatal(err)
			}
			want := persist.Result{Records: n, Events: n / 10, Written: n + n/10}
			res.Sum = ""
			if res != want {
				t.Fatalf("Result = %+v, want %+v", res, want)
			}
			if calls < 4 || last.Completed != n+n/10 || last.Total != n+n/10 {
				t.Fatalf("%d progress calls, last %+v; want several, ending at %d of %d", calls, last, n+n/10, n+n/10)
			}
			// The target store takes the source's name.
			assertSame(t, src, dst+"#app", nil)

			// Idempotent: a second run changes nothing.
			res, err = persist.Migrate(ctx, src, dst, persist.MigrateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Written != 0 || res.Unchanged != n+n/10 {
				t.Fatalf("second run: %+v, want all unchanged", res)
			}
		})
	}
}

func TestMigrateStaleAndConflict(t *testing.T) {
	ctx := testContext(t)
	src, dst := backends[0].new(t), backends[0].new(t)
	a, b := open(t, src), open(t, dst)
	for _, s := range []*persist.Store{a, b, b} {
		if _, err := s.Put(ctx, "users", "newer-in-target", 1); err != nil {
			t.Fatal(err)
		}
	}
	res, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stale != 1 || res.Written != 0 {
		t.Fatalf("Result = %+v, want one stale record", res)
	}
	// Version 1 on both sides, other values: the histories forked.
	a.Put(ctx, "users", "forked", "a")
	b.Put(ctx, "users", "forked", "b")
	if _, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{}); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("Migrate over a forked history: %v, want a conflict", err)
	}
	if r, err := b.Get(ctx, "users", "forked"); err != nil || string(r.Value) != `"b"` {
		t.Fatalf("the conflicting record in the target = %s, %v; want it left alone", r.Value, err)
	}
}

// A value the target cannot hold stops a migration with a reason the caller
// can tell apart, and the message names no password.
func TestMigrateUnsupported(t *testing.T) {
	ctx := testContext(t)
	src, dst := backends[0].new(t), backends[1].new(t)
	if _, err := open(t, src).Put(ctx, "users", "nul", "a\u0000b"); err != nil {
		t.Fatal(err)
	}
	_, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{})
	if !errors.Is(err, persist.ErrUnsupported) || !strings.Contains(err.Error(), `\u0000`) {
		t.Fatalf("Migrate of a \\u0000 into PostgreSQL: %v; want ErrUnsupported naming it", err)
	}
}
