package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// trace reads a stream to its end and writes down everything a caller of
// the Reader can see, item by item and error by error.
func trace(t testing.TB, in io.Reader, opt ReaderOptions) string {
	t.Helper()
	r, err := NewReader(in, opt)
	if err != nil {
		return "NewReader: " + err.Error()
	}
	defer r.Close()
	var b strings.Builder
	if h := r.Head(); h != nil {
		fmt.Fprintf(&b, "head %+v\n", *h)
	}
	for i := 0; ; i++ {
		it, err := r.Next()
		if err == nil {
			fmt.Fprintf(&b, "%d item %v raw=%q canon=%q digest=%x rawcanon=%v\n",
				r.Line(), it.Kind, r.Raw(), r.Canonical(), r.Digest(), r.RawIsCanonical())
			continue
		}
		var le *LineError
		if errors.As(err, &le) {
			fmt.Fprintf(&b, "%d error %v raw=%q\n", r.Line(), err, r.Raw())
			continue
		}
		rec, ev, sum := r.Stats()
		fmt.Fprintf(&b, "%d end %v records=%d events=%d sum=%s", r.Line(), err, rec, ev, sum)
		if tr := r.Trailer(); tr != nil {
			fmt.Fprintf(&b, " trailer %+v", *tr)
		}
		if _, again := r.Next(); again != err {
			fmt.Fprintf(&b, " not repeated: %v", again)
		}
		return b.String()
	}
}

// sameTrace checks that workers change nothing a caller can see.
func sameTrace(t *testing.T, in []byte, opt ReaderOptions) {
	t.Helper()
	want := trace(t, bytes.NewReader(in), opt)
	workers := []int{2, 3, 8}
	if raceEnabled {
		workers = workers[:1] // slow enough under the race detector
	}
	for _, w := range workers {
		opt.Workers = w
		if got := trace(t, bytes.NewReader(in), opt); got != want {
			t.Fatalf("Workers=%d: the reader tells another story:\n%s", w, firstDiff(want, got))
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nwithout: %.300s\nwith:    %.300s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(al), len(bl))
}

// mixed is a stream of n items over several chunks with bad lines of
// every sort at random places; seed picks them.
func mixed(n int, seed uint64, bad float64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString(`{"kind":"header","format":"persist.v1","store":"app"}` + "\n")
	badLines := []string{
		``, `   `, `{`, `[]`, `{"kind":"record"}`, `{"kind":"record","collection":"c","key":"k","bogus":1}`,
		`{"kind":"header","format":"persist.v1"}`, `{"kind":"remove","collection":"c","key":"k"}`,
		`{"kind":"record","collection":"c","key":"k","value":1,"value":2}`, `{"kind":"nope"}`,
		`{"kind":"record","collection":"c","key":"k","version":0}`, "{\"kind\":\"event\",\"stream\":\"s\",\"type\":\"\xff\"}",
	}
	for i := range n {
		if rng.Float64() < bad {
			b.WriteString(badLines[rng.IntN(len(badLines))] + "\n")
			continue
		}
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, `{"kind":"event","stream":"s%d","seq":%d,"type":"t","data":{"n":%d.50,"z":"Zoë"}}`+"\n", i%7, i+1, i)
		case 1:
			// Not canonical: members out of order, spaces, 1.0.
			fmt.Fprintf(&b, `{ "value": {"b": 1.0, "a": [1e2, "x\u00e9"]}, "key": "k%06d", "collection": "c%d", "kind": "record" }`+"\n", i, i%3)
		default:
			fmt.Fprintf(&b, `{"kind":"record","collection":"c%d","key":"k%06d","version":%d,"updated_at":"2024-01-02T03:04:05.000006Z","value":{"a":"%s"}}`+"\n",
				i%3, i, 1+i%9, strings.Repeat("v", rng.IntN(600)))
		}
	}
	return b.Bytes()
}

// withTrailer ends a stream with the trailer of what a reader makes of it.
func withTrailer(t *testing.T, in []byte) []byte {
	r, err := NewReader(bytes.NewReader(in), ReaderOptions{IgnoreTrailer: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err != nil && !errors.As(err, new(*LineError)) {
			break
		}
	}
	rec, ev, sum := r.Stats()
	return append(AppendTrailer(bytes.Clone(in), &Trailer{Records: rec, Events: ev, Sum: sum.String()}), '\n')
}

func TestParallelReaderSameAsSequential(t *testing.T) {
	small := vector(t, "stream-small.jsonl")
	good := withTrailer(t, mixed(5000, 1, 0))
	var zst bytes.Buffer
	zw, _ := zstd.NewWriter(&zst)
	zw.Write(good)
	zw.Close()
	big := fmt.Sprintf(`{"kind":"record","collection":"c","key":"big","value":"%s"}`, strings.Repeat("é", BigValue))
	long := fmt.Sprintf(`{"kind":"record","collection":"c","key":"long","value":"%s"}`, strings.Repeat("x", 300<<10))
	bigMixed := append(append(append(append(mixed(3000, 2, 0.01), big+"\n"...), long+"\n"...), big+"\n"...), mixed(1500, 3, 0.01)...)
	cases := map[string][]byte{
		"vector":            small,
		"vector canonical":  vector(t, "stream-small.canonical.jsonl"),
		"good":              good,
		"good, no newline":  bytes.TrimSuffix(good, []byte("\n")),
		"bad lines":         withTrailer(t, mixed(6000, 4, 0.02)),
		"bad lines, trail":  mixed(6000, 5, 0.05),
		"damaged":           bytes.Replace(good, []byte(`"k000100"`), []byte(`"k000100x"`), 1),
		"two streams":       append(bytes.Clone(good), good...),
		"truncated":         good[:len(good)/2],
		"wrong format":      append([]byte(`{"kind":"header","format":"persist.v9"}`+"\n"), good...),
		"zstd":              zst.Bytes(),
		"big values":        withTrailer(t, bigMixed),
		"big value first":   []byte(big + "\n" + rec1 + "\n"),
		"big value alone":   []byte(big),
		"only bad":          []byte("{\n[\n\n"),
		"empty":             nil,
		"blank":             []byte("\n"),
		"no trailer header": mixed(2500, 6, 0),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			sameTrace(t, in, ReaderOptions{})
			sameTrace(t, in, ReaderOptions{IgnoreTrailer: true, AllowPatch: true})
		})
	}
}

// The first error reported is the one on the smallest line, whichever
// worker found it first.
func TestParallelReaderFirstErrorWins(t *testing.T) {
	in := mixed(10000, 7, 0)
	lines := bytes.SplitAfter(in, []byte("\n"))
	badAt := []int{9000, 2500, 7001} // line numbers, from 1
	for _, n := range badAt {
		lines[n-1] = []byte(`{"kind":"record","collection":"c","key":"bad` + fmt.Sprint(n) + `"` + "\n")
	}
	in = bytes.Join(lines, nil)
	// A trailer in the middle: the stream must end at the line after it,
	// even though the workers read on.
	in = append(in, []byte(`{"kind":"trailer","records":1,"events":0,"sum":"persist1:`+strings.Repeat("0", 64)+`"}`+"\n")...)
	in = append(in, mixed(3000, 8, 0)...)
	r, err := NewReader(bytes.NewReader(in), ReaderOptions{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []int64
	for {
		_, err := r.Next()
		if err == nil {
			continue
		}
		var le *LineError
		if errors.As(err, &le) {
			got = append(got, le.Line)
			continue
		}
		if !errors.Is(err, ErrPlacement) || !strings.Contains(err.Error(), "line 10003") {
			t.Fatalf("final error %v, want the line after the trailer (10003)", err)
		}
		break
	}
	if fmt.Sprint(got) != "[2500 7001 9000]" {
		t.Fatalf("line errors on lines %v, want [2500 7001 9000]", got)
	}
}

// Closing a reader part way stops its goroutines; a closed reader is not
// read again.
func TestParallelReaderCloseEarly(t *testing.T) {
	in := mixed(20000, 9, 0)
	for range 20 {
		r, err := NewReader(bytes.NewReader(in), ReaderOptions{Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		for range 1500 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A chunk's line slots do not keep what a large value grew them to: with
// many slots over many chunks, that would add up to slots times the
// largest value, whatever the stream's size.
func TestParallelSlotsLetLargeValuesGo(t *testing.T) {
	fill := func(c *lineChunk, value func(i int) string) {
		c.reset()
		for i := range chunkLines {
			start := len(c.buf)
			c.buf = fmt.Appendf(c.buf, `{"kind":"record","collection":"c","key":"k%05d","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":%s}`, i, value(i))
			c.ents = append(c.ents, lineEnt{line: int64(i + 1), start: start, end: len(c.buf)})
		}
		c.process()
	}
	// Not canonical (a space), so each is made canonical in its slot.
	big := `{"s": "` + strings.Repeat("x", 60<<10) + `"}`
	var c lineChunk
	fill(&c, func(int) string { return big })
	for i := range c.ents {
		if c.ents[i].parseErr != nil {
			t.Fatal(c.ents[i].parseErr)
		}
	}
	fill(&c, func(int) string { return `{"n":1}` })
	for i := range c.lines {
		if n := cap(c.lines[i].buf); n > slotKeep {
			t.Fatalf("slot %d keeps %d bytes after a small value, more than %d", i, n, slotKeep)
		}
	}
}
