package load

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/postgres"
	"github.com/cuitty/persist/internal/adapters/sqlite"
	"github.com/cuitty/persist/internal/pgtest"
)

// BenchmarkLoad loads 100k records into a fresh store per iteration, for
// choosing DefaultBatchSize: go test -run - -bench Load -benchtime 3x.
func BenchmarkLoad(b *testing.B) {
	const n = 100000
	data, _ := genStream(n, 1, "benchmark value with some text in it")
	opens := []struct {
		name string
		open func(b *testing.B) adapters.Adapter
	}{
		{"sqlite", func(b *testing.B) adapters.Adapter {
			a, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return a
		}},
		{"postgres", func(b *testing.B) adapters.Adapter {
			a, err := postgres.Open(pgtest.NewDatabase(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return a
		}},
	}
	for _, o := range opens {
		for _, size := range []int{1000, 5000, 20000} {
			for _, verify := range []bool{true, false} {
				name := fmt.Sprintf("%s/batch=%d/verify=%v", o.name, size, verify)
				b.Run(name, func(b *testing.B) {
					a := o.open(b)
					defer a.Close()
					b.SetBytes(int64(len(data)))
					i := 0
					for b.Loop() {
						i++
						_, err := Load(context.Background(), a, fmt.Sprintf("s%d", i), streamOf(b, data),
							Options{BatchSize: size, NoVerify: !verify})
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n+n/10)*float64(i)/b.Elapsed().Seconds(), "items/s")
				})
			}
		}
	}
}
