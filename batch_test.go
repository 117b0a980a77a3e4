package persist_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

func TestPutIf(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t, b.new(t))
			r, err := s.PutIf(ctx, "users", "u1", 0, "first")
			if err != nil || r.Version != 1 {
				t.Fatalf("PutIf on no record, version 0 = %+v, %v", r, err)
			}
			if _, err := s.PutIf(ctx, "users", "u1", 0, "again"); !errors.Is(err, persist.ErrVersionMismatch) {
				t.Fatalf("PutIf version 0 over a live record: %v, want ErrVersionMismatch", err)
			}
			if _, err := s.PutIf(ctx, "users", "u1", 5, "x"); !errors.Is(err, persist.ErrVersionMismatch) || !strings.Contains(err.Error(), "at version 1, not 5") {
				t.Fatalf("PutIf over the wrong version: %v", err)
			}
			if r, err = s.PutIf(ctx, "users", "u1", 1, "second"); err != nil || r.Version != 2 {
				t.Fatalf("PutIf over the right version = %+v, %v", r, err)
			}
			if _, err := s.PutIf(ctx, "users", "nobody", 1, "x"); !errors.Is(err, persist.ErrVersionMismatch) {
				t.Fatalf("PutIf version 1 on no record: %v", err)
			}
			if _, err := s.Delete(ctx, "users", "u1"); err != nil {
				t.Fatal(err)
			}
			if r, err = s.PutIf(ctx, "users", "u1", 0, "reborn"); err != nil || r.Version != 4 {
				t.Fatalf("PutIf version 0 over a tombstone = %+v, %v", r, err)
			}
			got, err := s.Get(ctx, "users", "u1")
			if err != nil || string(got.Value) != `"reborn"` {
				t.Fatalf("Get after PutIf = %+v, %v", got, err)
			}
		})
	}
}

func TestPutManyAndIterators(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			loc := b.new(t)
			s := open(t, loc)
			if _, err := s.Put(ctx, "users", "k1", "old"); err != nil {
				t.Fatal(err)
			}
			puts := []persist.Put{
				{"users", "k2", map[string]int{"n": 2}},
				{"users", "k1", "new"},
				{"users", "k0", nil},
				{"users", "k2", map[string]int{"n": 3}}, // the later one wins
				{"other", "k1", true},
			}
			recs, err := s.PutMany(ctx, puts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("%s/%s@%d=%s", r.Collection, r.Key, r.Version, r.Value))
			}
			want := `users/k2@1={"n":2} users/k1@2="new" users/k0@1=null users/k2@2={"n":3} other/k1@1=true`
			if strings.Join(got, " ") != want {
				t.Fatalf("PutMany returned\n%s\nwant\n%s", strings.Join(got, " "), want)
			}
			if _, err := s.Delete(ctx, "users", "k0"); err != nil {
				t.Fatal(err)
			}
			got = nil
			for r, err := range s.Records(ctx, "users") {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s@%d=%s", r.Key, r.Version, r.Value))
			}
			if want := `k1@2="new" k2@2={"n":3}`; strings.Join(got, " ") != want {
				t.Fatalf("Records = %s, want %s (live only, key order)", strings.Join(got, " "), want)
			}
			for i := range 5 {
				if _, err := s.Append(ctx, "orders", "placed", i); err != nil {
					t.Fatal(err)
				}
			}
			got = nil
			for e, err := range s.Events(ctx, "orders", 3) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%d=%s", e.Seq, e.Data))
				if e.Seq == 4 {
					break // breaking out ends the read
				}
			}
			if want := "3=2 4=3"; strings.Join(got, " ") != want {
				t.Fatalf("Events from 3 = %s, want %s", strings.Join(got, " "), want)
			}
			n := 0
			for _, err := range s.Records(ctx, "nosuch") {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 0 {
				t.Fatalf("Records of a collection that does not exist yielded %d", n)
			}
			// What PutMany wrote sums as what single Puts would have.
			if r := mustSum(t, loc); r.Records != 4 || r.Events != 5 {
				t.Fatalf("sum after PutMany: %+v", r)
			}
		})
	}
}

func TestPutManyRefusesWhatTheStoreCannotHold(t *testing.T) {
	ctx := testContext(t)
	s := open(t, backends[1].new(t))
	_, err := s.PutMany(ctx, []persist.Put{{"c", "ok", 1}, {"c", "bad", "a\u0000b"}})
	if !errors.Is(err, persist.ErrUnsupported) {
		t.Fatalf("PutMany with a \\u0000 into PostgreSQL: %v, want ErrUnsupported", err)
	}
	if _, err := s.Get(ctx, "c", "ok"); !errors.Is(err, persist.ErrNotFound) {
		t.Fatalf("a refused batch wrote part of itself: %v", err)
	}
}

// BenchmarkPutMany writes 20,000 records per PutMany into a fresh SQLite
// store; records/s is what a batch write reaches.
func BenchmarkPutMany(b *testing.B) {
	const n = 20000
	puts := make([]persist.Put, n)
	for i := range puts {
		puts[i] = persist.Put{Collection: "users", Key: fmt.Sprintf("user-%06d", i), Value: map[string]any{"name": "Ada", "n": i, "tags": []string{"a", "b"}}}
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s, err := persist.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.PutMany(ctx, puts); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPut is the single-record Put, for comparison.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s, err := persist.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Put(ctx, "users", fmt.Sprintf("user-%06d", i), map[string]any{"name": "Ada", "n": i}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGet reads one record of a store of 10,000 by its key.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s, err := persist.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 10000
	puts := make([]persist.Put, n)
	for i := range puts {
		puts[i] = persist.Put{Collection: "users", Key: fmt.Sprintf("user-%06d", i), Value: map[string]any{"name": "Ada", "n": i}}
	}
	if _, err := s.PutMany(ctx, puts); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i = (i + 7919) % n
		if _, err := s.Get(ctx, "users", puts[i].Key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}
