package diff

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
)

func BenchmarkDiff(b *testing.B) {
	sa, sb := randomSides(rand.New(rand.NewPCG(3, 4)), 110_000)
	for _, f := range []Format{Human, JSONL, Summary, Patch} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Diff(context.Background(), iter(sa), iter(sb), io.Discard, Options{Format: f, TempDir: b.TempDir()}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(sa)+len(sb))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

func BenchmarkSorted(b *testing.B) {
	perm := shuffled(100_000, 5)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Sorted(&genIter{perm: perm}, b.TempDir(), 4<<20)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
}
