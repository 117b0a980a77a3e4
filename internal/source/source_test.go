package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/sqlite"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
)

// A read cut short by a cancelled context must never pass for the whole
// store: dump, sum and migrate would commit a short result as complete.
func TestEachCancelledIsNotTheEnd(t *testing.T) {
	ctx := context.Background()
	var items []*record.Item
	for i := range 20000 {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%06d", i),
			Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`{"n":1}`)})
	}
	path := storeFile(t, items)

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

// Big values are lent by the scan rather than copied into a chunk: each
// must still be its own when the caller gets it, however the small ones
// around it are chunked (the PostgreSQL adapter reuses one buffer for the
// values of row after row), and the digests made of them must match what
// was stored.
func TestBigValuesLent(t *testing.T) {
	for _, loc := range []string{"sqlite:" + filepath.Join(t.TempDir(), "a.db") + "#s", pgtest.NewDatabase(t) + "#s"} {
		testBigValuesLent(t, loc)
	}
}

func testBigValuesLent(t *testing.T, raw string) {
	ctx := context.Background()
	loc, err := location.Parse(raw, true)
	if err != nil {
		t.Fatal(err)
	}
	a, err := location.Open(ctx, loc, false)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	want := map[string]string{}
	for i := range 3000 {
		v := fmt.Sprintf(`{"n":%d}`, i)
		if i%700 == 3 || i%700 == 4 { // two big ones in a row, now and then
			v = fmt.Sprintf(`{"big":"%s%d"}`, strings.Repeat("x", record.BigValue), i)
		}
		it := &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%06d", i),
			Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(v)}
		items = append(items, it)
		want[it.Key] = v
	}
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Close()

	src, err := Open(ctx, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var sum, wantSum record.Sum
	n := 0
	err = src.Each(ctx, func(it *record.Item, digest [32]byte) error {
		n++
		if len(it.Value) >= record.BigValue {
			// Time for a scan that did not wait to overwrite what it lent.
			time.Sleep(20 * time.Millisecond)
		}
		if string(it.Value) != want[it.Key] {
			t.Fatalf("%s: %s: value of %d bytes %.20q…, want %.20q…", loc.Kind, it.Key, len(it.Value), it.Value, want[it.Key])
		}
		if digest != record.Digest(record.AppendItem(nil, it)) {
			t.Fatalf("%s: %s: digest is not that of its line", loc.Kind, it.Key)
		}
		sum.Add(record.Sum(digest))
		return nil
	})
	if err != nil || n != len(items) {
		t.Fatalf("%s: %d items, %v", loc.Kind, n, err)
	}
	for _, it := range items {
		wantSum.AddLine(record.AppendItem(nil, it))
	}
	if sum != wantSum {
		t.Errorf("%s: sum %s, want %s", loc.Kind, sum, wantSum)
	}
}

// A stream applies the whole filter, as a store does: a point read and
// a "from seq" yield only what they name, and the header's counts, which
// know of no filter, are not given for it.
func TestStreamFilterKeysAndFromSeq(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := record.NewWriter(f, record.Header{Format: "persist.v1", Store: "s", Records: 3, Events: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		err = errors.Join(err, w.Write(&record.Item{Kind: record.KindRecord, Collection: "c", Key: k, Version: 1,
			UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte("1")}))
	}
	for seq := int64(1); seq <= 3; seq++ {
		err = errors.Join(err, w.Write(&record.Item{Kind: record.KindEvent, Stream: "e", Seq: seq, Type: "t",
			At: "2026-01-01T00:00:00.000000Z", Data: []byte("1")}))
	}
	if err = errors.Join(err, w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    adapters.Filter
		want []string
	}{
		{"keys", adapters.Filter{Collections: []string{"c"}, Keys: []string{"b"}, NoEvents: true}, []string{"c/b"}},
		{"from seq", adapters.Filter{Streams: []string{"e"}, FromSeq: 2, NoRecords: true}, []string{"e/2", "e/3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(ctx, path, Options{Filter: tt.f})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if _, _, ok, err := src.Counts(ctx); ok || err != nil {
				t.Errorf("Counts of a filtered stream: ok %v, %v; want not known", ok, err)
			}
			var got []string
			err = src.Items(ctx, func(it *record.Item) error {
				if it.IsRecord() {
					got = append(got, it.Collection+"/"+it.Key)
				} else {
					got = append(got, fmt.Sprintf("%s/%d", it.Stream, it.Seq))
				}
				return nil
			})
			if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("items %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// A store's stream whose items are not as many as its header counted in
// the same snapshot fails before its trailer; as many, or a stream's own
// source, or a header without counts, passes.
func TestAllWritten(t *testing.T) {
	ctx := context.Background()
	path := storeFile(t, []*record.Item{{Kind: record.KindRecord, Collection: "c", Key: "k", Version: 1,
		UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`1`)}})
	src, err := Open(ctx, "sqlite:"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out strings.Builder
	sw, err := record.NewWriter(&out, record.Header{Format: record.Format, Store: "s", Records: 1, Events: 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Write(&record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Version: 1,
		UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`1`)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		records, events int64
		want            bool
	}{{1, 0, false}, {2, 0, true}, {1, 1, true}, {-1, -1, false}} {
		err := src.allWritten(sw, record.Header{Records: c.records, Events: c.events})
		if got := errors.Is(err, ErrReadInPart); got != c.want {
			t.Errorf("header %d records, %d events: %v", c.records, c.events, err)
		}
	}
	stream := &Source{Loc: src.Loc} // no snapshot: a stream's header is its reader's to check
	if err := stream.allWritten(sw, record.Header{Records: 5, Events: 5}); err != nil {
		t.Errorf("a stream: %v", err)
	}
}

// storeFile writes items as store s of a new SQLite file, and returns its
// path.
func storeFile(t *testing.T, items []*record.Item) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	a, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tx, err := a.Begin(ctx, "s")
	if err == nil {
		err = tx.Put(ctx, items, adapters.Overwrite)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}
