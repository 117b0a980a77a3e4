package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// fill puts n records of about 120 bytes each into store "app", in batches
// of 10k, keys shuffled so that the heap is not in key order.
func fill(b testing.TB, a *Adapter, n int) {
	b.Helper()
	const batch = 10000
	items := make([]*record.Item, 0, batch)
	for i := range n {
		k := (i * 7919) % n // a permutation of 0..n-1 (7919 is prime)
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: fmt.Sprintf("c%d", k%5),
			Key: fmt.Sprintf("user-%08d", k), Version: int64(k%9 + 1),
			UpdatedAt: record.FormatTime(time.Unix(1700000000+int64(k), int64(k%1000000)*1000).UTC()),
			Value: fmt.Appendf(nil, `{"age":%d,"email":"u%d@example.com","name":"User %d","score":%d.5,"tags":["a","b"]}`,
				k%90, k, k, k%100)})
		if len(items) == batch || i == n-1 {
			put(b, a, "app", adapters.Guarded, items...)
			items = items[:0]
		}
	}
}

// BenchmarkScan reads 100k records through a snapshot, formatting each line
// as persist-dump does.
func BenchmarkScan(b *testing.B) {
	a, _ := open(b)
	const n = 100000
	fill(b, a, n)
	b.ResetTimer()
	var line []byte
	var bytes int64
	for b.Loop() {
		s, err := a.Snapshot(ctx, "app")
		if err != nil {
			b.Fatal(err)
		}
		count := 0
		err = s.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
			line = record.AppendItem(line[:0], it)
			bytes += int64(len(line) + 1)
			count++
			return nil
		})
		s.Close()
		if err != nil || count != n {
			b.Fatalf("scanned %d, %v", count, err)
		}
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkTimeFormat compares formatting timestamptz in SQL (to_char) with
// parsing it into a time.Time in lib/pq and formatting it in Go (what the
// scan does).
func BenchmarkTimeFormat(b *testing.B) {
	a, _ := open(b)
	const n = 100000
	fill(b, a, n)
	for _, bc := range []struct{ name, col string }{
		{"to_char", `to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`},
		{"time.Time", "updated_at"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := a.db.QueryContext(ctx, `SELECT `+bc.col+` FROM persist_records WHERE store = 'app' ORDER BY collection, key`)
				if err != nil {
					b.Fatal(err)
				}
				var s string
				var t time.Time
				for rows.Next() {
					if bc.name == "to_char" {
						err = rows.Scan(&s)
					} else {
						err = rows.Scan(&t)
						s = record.FormatTime(t.UTC())
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
		})
	}
}
