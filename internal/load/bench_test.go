package load

import (
	"context"
	"fmt"
	"testing"

	"github.com/cuitty/persist/internal/testdb"
)

// BenchmarkLoad loads 100k records into a fresh store per iteration, for
// choosing DefaultBatchSize: go test -run - -bench Load -benchtime 3x.
func BenchmarkLoad(b *testing.B) {
	const n = 100000
	data, _ := genStream(n, 1, "benchmark value with some text in it")
	for _, o := range testdb.All {
		for _, size := range []int{1000, 5000, 20000} {
			for _, verify := range []bool{true, false} {
				name := fmt.Sprintf("%s/batch=%d/verify=%v", o.Name, size, verify)
				b.Run(name, func(b *testing.B) {
					a, _ := o.Open(b)
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
