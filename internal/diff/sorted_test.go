package diff

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// genIter makes item perm[i] on the i-th call, so a large input costs no
// memory of its own.
type genIter struct {
	perm []int32
	i    int
	cur  record.Item
	val  []byte
}

func (g *genIter) Next() (*record.Item, error) {
	if g.i == len(g.perm) {
		return nil, io.EOF
	}
	g.cur = genItem(int(g.perm[g.i]), g.val[:0])
	g.val = g.cur.Value
	if g.cur.Kind == record.KindEvent {
		g.val = g.cur.Data
	}
	g.i++
	return &g.cur, nil
}

// genItem is item n: records in a few collections, then events; n orders
// them (dump order is n order).
func genItem(n int, buf []byte) record.Item {
	if n%4 == 3 {
		buf = fmt.Appendf(buf, `{"n":%d,"pad":"%s"}`, n, "0123456789abcdefghij")
		return record.Item{Kind: record.KindEvent, Stream: "stream", Seq: int64(n + 1), Type: "t",
			At: "2026-11-25T12:00:00.000000Z", Data: buf}
	}
	buf = fmt.Appendf(buf, `{"n":%d,"pad":"%s"}`, n, "0123456789abcdefghij")
	return record.Item{Kind: record.KindRecord, Collection: "coll", Key: fmt.Sprintf("key%09d", n),
		Version: 1, UpdatedAt: "2026-11-25T12:00:00.000000Z", Value: buf}
}

func shuffled(n int, seed uint64) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	rng.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// checkSorted drains s and checks it yields items 0..n-1 (by genItem's
// order), each exactly as generated.
func checkSorted(t *testing.T, s Iterator, n int, each func()) {
	t.Helper()
	var recs, evs []int
	for i := 0; ; i++ {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		var k int
		if it.Kind == record.KindRecord {
			k, _ = strconv.Atoi(it.Key[3:])
			recs = append(recs, k)
		} else {
			k = int(it.Seq - 1)
			evs = append(evs, k)
		}
		want := genItem(k, nil)
		if got, w := string(record.AppendItem(nil, it)), string(record.AppendItem(nil, &want)); got != w {
			t.Fatalf("item %d is %s, want %s", i, got, w)
		}
		if each != nil && i%1000 == 0 {
			each()
		}
	}
	got := append(recs, evs...)
	if len(got) != n {
		t.Fatalf("%d items, want %d", len(got), n)
	}
	// Records come first by key, then events by seq: both ascending in n.
	for i := 1; i < len(recs); i++ {
		if recs[i] <= recs[i-1] {
			t.Fatalf("records out of order at %d", i)
		}
	}
	for i := 1; i < len(evs); i++ {
		if evs[i] <= evs[i-1] {
			t.Fatalf("events out of order at %d", i)
		}
	}
}

func TestSortedShuffled(t *testing.T) {
	const n = 100_000
	dir := t.TempDir()
	// ~100 runs: more than maxFanIn, so a first merge pass runs too.
	s, err := Sorted(&genIter{perm: shuffled(n, 1)}, dir, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var base, peak uint64
	var ms runtime.MemStats
	measure := func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	measure()
	base, peak = ms.HeapAlloc, 0
	checkSorted(t, s, n, measure)
	if len(s.runs) != 0 {
		t.Errorf("%d run files still open at the end", len(s.runs))
	}
	// The whole input is ~25 MB as items; the merge holds a read buffer and
	// an item per run, the rest is the test's own bookkeeping.
	if s.files <= maxFanIn {
		t.Errorf("only %d run files: the test means to exercise a first merge pass", s.files)
	}
	grown := int64(peak) - int64(base)
	t.Logf("%d run files; heap grew by %d KiB while merging", s.files, grown>>10)
	if grown > 8<<20 {
		t.Errorf("heap grew by %d bytes while merging", grown)
	}
}

func TestSortedLoadMemory(t *testing.T) {
	// The load phase too: feed a large input and watch the heap as it goes.
	const n = 100_000
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	g := &genIter{perm: shuffled(n, 2)}
	w := &watchIter{in: g, every: 5000, f: func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}}
	s, err := Sorted(w, t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	grown := int64(peak) - int64(base)
	t.Logf("%d run files; heap grew by %d KiB while loading", s.files, grown>>10)
	if grown > 6<<20 {
		t.Errorf("heap grew by %d bytes while sorting runs of 1 MiB", grown)
	}
}

type watchIter struct {
	in    Iterator
	n     int
	every int
	f     func()
}

func (w *watchIter) Next() (*record.Item, error) {
	w.n++
	if w.n%w.every == 0 {
		w.f()
	}
	return w.in.Next()
}

func TestSortedSmallInMemory(t *testing.T) {
	const n = 1000
	s, err := Sorted(&genIter{perm: shuffled(n, 3)}, t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	checkSorted(t, s, n, nil)
	if s.runs != nil {
		t.Errorf("input that fits in memory spilled %d runs", len(s.runs))
	}
}

func TestSortedOrderedInput(t *testing.T) {
	const n = 20_000
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	// Records then events is dump order; genItem's n order interleaves
	// them, so order the input by what genItem makes.
	var ordered []int32
	for _, want := range []record.Kind{record.KindRecord, record.KindEvent} {
		for _, p := range perm {
			if genItem(int(p), nil).Kind == want {
				ordered = append(ordered, p)
			}
		}
	}
	s, err := Sorted(&genIter{perm: ordered}, t.TempDir(), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if len(s.runs) != 1 {
		t.Errorf("ordered input spilled to %d files, want 1", len(s.runs))
	}
	s.Close()
	checkSorted(t, mustSorted(t, &genIter{perm: ordered}, 64<<10), n, nil)
}

func mustSorted(t *testing.T, in Iterator, maxBytes int) *SortedIterator {
	t.Helper()
	s, err := Sorted(in, t.TempDir(), maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSortedDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int
		perm     []int32
	}{
		{"in memory", 1 << 20, []int32{5, 1, 2, 5, 3}},
		{"within a run", 2 << 10, []int32{9, 1, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"across runs", 1 << 10, append(shuffled(50, 4), 17)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSorted(t, &genIter{perm: tc.perm}, tc.maxBytes)
			var err error
			for err == nil {
				_, err = s.Next()
			}
			if !errors.Is(err, ErrDuplicate) {
				t.Fatalf("err = %v, want ErrDuplicate", err)
			}
			t.Log(err)
		})
	}
}

func TestSortedInputError(t *testing.T) {
	boom := errors.New("boom")
	s := mustSorted(t, &errIter{n: 10, err: boom}, 1<<10)
	if _, err := s.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Next(); !errors.Is(err, boom) {
		t.Fatalf("second Next: %v", err)
	}
}

type errIter struct {
	n   int
	err error
	cur record.Item
}

func (e *errIter) Next() (*record.Item, error) {
	if e.n == 0 {
		return nil, e.err
	}
	e.n--
	e.cur = genItem(e.n, nil)
	return &e.cur, nil
}

func TestSortedLongLines(t *testing.T) {
	// Lines longer than the merge's read buffers.
	big := make([]*record.Item, 0, 40)
	for i := range 40 {
		v := fmt.Appendf(nil, `{"s":"%0*d"}`, 100_000, i)
		big = append(big, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("%03d", (i*7)%40), Value: v})
	}
	s := mustSorted(t, iter(big), 300<<10)
	n := 0
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%03d", n); it.Key != want || len(it.Value) != 100_008 {
			t.Fatalf("item %d: key %s, %d bytes", n, it.Key, len(it.Value))
		}
		n++
	}
	if n != 40 {
		t.Fatalf("%d items", n)
	}
}
