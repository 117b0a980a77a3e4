package persist_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// Into a SQLite file that does not exist yet, a SQLite store is copied
// whole by SQLite itself and proven item by item: the same content, the
// same result, the cursor it was copied at noted (so that the source's
// next delta loads into the copy), and no file left beside it. A target
// that exists, or a source that holds more than the store, is loaded as
// a stream, with the same outcome.
func TestMigrateCopiesFile(t *testing.T) {
	const n = 3000
	stream := writeStream(t, n)
	for _, tt := range []struct {
		name   string
		prep   func(t *testing.T, src, dst string)
		copied bool
	}{
		{"new file", nil, true},
		{"source with another store", func(t *testing.T, src, _ string) {
			migrateInto(t, stream, strings.TrimSuffix(src, "#app")+"#other")
		}, false},
		{"target exists, empty", func(t *testing.T, _, dst string) {
			if err := os.WriteFile(strings.TrimPrefix(dst, "sqlite:"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			src, dst := backends[0].new(t)+"#app", backends[0].new(t)
			migrateInto(t, stream, src)
			if tt.prep != nil {
				tt.prep(t, src, dst)
			}
			c, err := persist.Dump(ctx, src, io.Discard, persist.DumpOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var loaded persist.LoadResult
			res, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{BatchSize: 700, OnLoaded: func(r persist.LoadResult) { loaded = r }})
			if err != nil {
				t.Fatal(err)
			}
			want := persist.Result{Records: n, Events: n / 10, Sum: mustSum(t, src).Sum, Written: n + n/10}
			if res != want {
				t.Fatalf("Result = %+v, want %+v", res, want)
			}
			if copied := loaded.Batches == 1; copied != tt.copied || loaded.Written+loaded.Events != n+n/10 {
				t.Fatalf("load account %+v: copied %v, want %v", loaded, copied, tt.copied)
			}
			assertSame(t, src, dst+"#app", nil)
			path := strings.TrimPrefix(dst, "sqlite:")
			if left, _ := filepath.Glob(path + ".persist-copy-*"); len(left) != 0 {
				t.Errorf("left beside the target: %q", left)
			}

			// The source's next delta follows the copy.
			s := open(t, src)
			if _, err := s.Put(ctx, "users", "late", []byte(`{"n":1}`)); err != nil {
				t.Fatal(err)
			}
			var delta bytes.Buffer
			if _, err := persist.Dump(ctx, src, &delta, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: c.Cursor}}); err != nil {
				t.Fatal(err)
			}
			if _, err := persist.Load(ctx, &delta, dst+"#app", persist.LoadOptions{}); err != nil {
				t.Fatalf("the source's delta into the copy: %v", err)
			}
			assertSame(t, src, dst+"#app", nil)
		})
	}
}

func migrateInto(t *testing.T, from, to string) {
	t.Helper()
	if _, err := persist.Migrate(testContext(t), from, to, persist.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A Source read in an Items loop takes no other call meanwhile: a SQLite
// store's says so (ErrScanning) rather than wait for the connection its
// scan holds.
func TestItemsLoopRefusesOtherCalls(t *testing.T) {
	ctx := testContext(t)
	src := backends[0].new(t) + "#app"
	// Many more items than a scan reads ahead (some 14,000 here), so that
	// the scan is still under way at the 2000th.
	migrateInto(t, writeStream(t, 30000), src)
	s, err := persist.OpenSource(ctx, src, persist.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for _, err := range s.Items(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2000 {
			if _, _, _, err := s.Counts(ctx); !errors.Is(err, persist.ErrScanning) {
				t.Fatalf("Counts within the loop: %v, want ErrScanning", err)
			}
		}
	}
	if n != 33000 {
		t.Fatalf("the loop gave %d items, want 33000", n)
	}
	if r, e, _, err := s.Counts(ctx); err != nil || r+e != 33000 {
		t.Fatalf("Counts after the loop: %d, %d, %v", r, e, err)
	}
}
