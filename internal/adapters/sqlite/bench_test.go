package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// fill writes n records of about 400 bytes of JSON each into store "app", in
// shuffled key order as an application would.
func fill(tb testing.TB, path string, n int) {
	tb.Helper()
	a := open(tb, path, Options{})
	defer a.Close()
	ctx := context.Background()
	const batch = 10000
	items := make([]*record.Item, 0, batch)
	flush := func() {
		tx, err := a.Begin(ctx, "app")
		if err != nil {
			tb.Fatal(err)
		}
		if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
			tb.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
		items = items[:0]
	}
	pad := strings.Repeat("lorem ipsum ", 17)
	for i := range n {
		k := (i * 7919) % n // a permutation when n is not a multiple of 7919
		v := fmt.Sprintf(`{"address":{"city":"City %d","street":"%d Main Street","zip":"%05d"},`+
			`"age":%d,"email":"user%d@example.com","name":"User Ünïcödé %d","notes":"%s","score":%d.25,"tags":["a","b","c"]}`,
			k%1000, k, k%100000, 18+k%80, k, k, pad, k)
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "users", Key: fmt.Sprintf("user-%08d", k),
			Version: 1 + int64(k%5), UpdatedAt: "2026-11-25T12:00:00.123456Z", Value: []byte(v)})
		if len(items) == batch {
			flush()
		}
	}
	if len(items) > 0 {
		flush()
	}
}

// dumpTo writes store "app" as stream lines to w, as persist-dump does
// minus header, trailer and sum.
func dumpTo(tb testing.TB, a *Adapter, w io.Writer) int64 {
	bw := bufio.NewWriterSize(w, 1<<16)
	s, err := a.Snapshot(context.Background(), "app")
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	var buf []byte
	var n int64
	err = s.Scan(context.Background(), adapters.Filter{}, func(it *record.Item) error {
		buf = append(record.AppendItem(buf[:0], it), '\n')
		n++
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return n
}

func BenchmarkScan(b *testing.B) {
	const n = 100000
	path := filepath.Join(b.TempDir(), "bench.db")
	fill(b, path, n)
	a := open(b, path, Options{ReadOnly: true})
	defer a.Close()
	b.Run("Scan", func(b *testing.B) {
		var bytes int64
		for b.Loop() {
			s, err := a.Snapshot(context.Background(), "app")
			if err != nil {
				b.Fatal(err)
			}
			rows := 0
			err = s.Scan(context.Background(), adapters.Filter{}, func(it *record.Item) error {
				rows++
				bytes += int64(len(it.Value))
				return nil
			})
			if err != nil || rows != n {
				b.Fatalf("scanned %d rows, err %v", rows, err)
			}
			s.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	})
	b.Run("Dump", func(b *testing.B) {
		for b.Loop() {
			if got := dumpTo(b, a, io.Discard); got != n {
				b.Fatalf("dumped %d", got)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	})
}

func BenchmarkLookup(b *testing.B) {
	const n = 100000
	path := filepath.Join(b.TempDir(), "bench.db")
	fill(b, path, n)
	a := open(b, path, Options{})
	defer a.Close()
	keys := make([]*record.Item, 1000)
	for i := range keys {
		keys[i] = &record.Item{Kind: record.KindRecord, Collection: "users", Key: fmt.Sprintf("user-%08d", i*97)}
	}
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for b.Loop() {
		found := 0
		if err := tx.Lock(ctx, keys, func(*record.Item) error { found++; return nil }); err != nil || found != len(keys) {
			b.Fatalf("found %d, err %v", found, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}
