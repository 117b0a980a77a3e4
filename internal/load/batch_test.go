package load

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// items parses "c/k" as a record key, "s#n" as an event (n 0: appended).
func items(t *testing.T, spec string) []*record.Item {
	t.Helper()
	var out []*record.Item
	for _, f := range strings.Fields(spec) {
		if s, n, ok := strings.Cut(f, "#"); ok {
			it := &record.Item{Kind: record.KindEvent, Stream: s}
			if _, err := fmt.Sscan(n, &it.Seq); err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
			continue
		}
		c, k, _ := strings.Cut(f, "/")
		out = append(out, &record.Item{Kind: record.KindRecord, Collection: c, Key: k})
	}
	return out
}

func batchOf(t *testing.T, spec string) *batch {
	b := &batch{}
	for i, it := range items(t, spec) {
		b.add(int64(i+1), nil, false, it)
	}
	return b
}

func TestBatchOrder(t *testing.T) {
	for _, tc := range []struct {
		spec      string
		unordered bool
	}{
		{"", false},
		{"a/1", false},
		{"a/1 a/2 b/0 s#1 s#2 t#1", false},
		{"a/2 a/1", true},
		{"a/1 a/1", true},                 // a key twice
		{"s#1 a/1", true},                 // records come first
		{"s#2 s#10", false},               // seqs compare as numbers
		{"s#0", true},                     // appended: its seq is not known yet
		{"a/1 s#1 s#0", true},             // appended after others
		{"a/1 a/2 a/3 a/4 a/5 a/4", true}, // out of order at the end
	} {
		if got := batchOf(t, tc.spec).unordered; got != tc.unordered {
			t.Errorf("%q: unordered = %v, want %v", tc.spec, got, tc.unordered)
		}
	}
	b := batchOf(t, "a/1 a/3 a/2")
	if p := b.prefix(2); !p.unordered {
		t.Error("the prefix of an unordered batch is taken as ordered: it was not checked")
	}
	b.reset()
	if b.unordered {
		t.Error("a reset batch is still unordered")
	}
}

// Two batches being written at once must not share a key, nor may one
// append to a stream the other writes to, whichever way each batch's keys
// are known (a span for a batch in order, sets otherwise).
func TestJobsOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a/1 a/2", "a/3 a/4", false},
		{"a/3 a/4", "a/1 a/2", false},
		{"a/1 a/3", "a/3 a/4", true},
		{"a/1 a/5", "a/2 a/3", true}, // within the span, no key shared: still waits
		{"a/1 a/2", "s#1", false},
		{"a/9 s#1", "s#2 s#3", false},
		{"s#1 s#3", "s#2", true},
		{"a/2 a/1", "a/3 a/4", false}, // sets
		{"a/2 a/1", "a/1 a/4", true},
		{"a/1 a/4", "a/4 a/2", true},
		{"a/1 a/4", "a/3 a/2", false}, // sets: the span is not used then
		{"s#0", "s#5", true},          // an append and an event of its stream
		{"s#0", "t#5", false},
		{"s#0", "s#0", true},
		{"a/1", "", false},
	} {
		for _, swap := range []bool{false, true} {
			x, y := tc.a, tc.b
			if swap {
				x, y = y, x
			}
			j := newJob(batchOf(t, x), &job{}, true)
			o := newJob(batchOf(t, y), &job{}, true)
			if got := j.overlaps(o); got != tc.want {
				t.Errorf("%q and %q: overlap = %v, want %v", x, y, got, tc.want)
			}
		}
	}
}

// A batch keeps its own copies of the items added: the reader's item and
// buffers are reused for the next line, and what the batch handed out
// stays put while it fills (past the room reserved, and with a huge value
// among small ones), until it is reset.
func TestBatchKeepsCopies(t *testing.T) {
	b := &batch{}
	b.reserve(10)
	it := &record.Item{Kind: record.KindRecord, Collection: "c"}
	buf := make([]byte, 0, hugeLine+10)
	want := map[*entry]string{}
	for i := range 3000 {
		buf = fmt.Appendf(buf[:0], `{"i":%d}`, i)
		if i == 1500 {
			buf = append(buf[:0], '"')
			buf = append(buf, strings.Repeat("x", hugeLine)...)
			buf = append(buf, '"')
		}
		it.Key, it.Value = fmt.Sprintf("k%05d", i), buf
		b.add(int64(i+1), nil, false, it)
		want[b.ents[i]] = string(buf)
		for j := range buf {
			buf[j] = '?' // the reader's buffer, overwritten by the next line
		}
	}
	if b.unordered {
		t.Error("keys in order, batch unordered")
	}
	for i, e := range b.ents {
		if e.line != int64(i+1) || e.it.Key != fmt.Sprintf("k%05d", i) || string(e.it.Value) != want[e] {
			t.Fatalf("entry %d: line %d, key %s, value %.20s; want what was added", i, e.line, e.it.Key, e.it.Value)
		}
	}
	b.reset()
	if len(b.ents) != 0 || len(b.items) != 0 || len(b.vals) != 0 || b.unordered {
		t.Errorf("reset leaves %d entries, %d items, %d value bytes", len(b.ents), len(b.items), len(b.vals))
	}
	for _, x := range b.items[:cap(b.items)] {
		if x.Value != nil || x.Key != "" {
			t.Fatal("a reset batch still points to the items of the last")
		}
	}
	if cap(b.vals) == 0 {
		t.Fatal("the room for values is not kept for the next batch")
	}
	// Room grown past keepVals is let go at the reset.
	it.Value = []byte(`"` + strings.Repeat("y", 1<<20) + `"`)
	for i := range 2 * keepVals >> 20 {
		it.Key = fmt.Sprint(i)
		b.add(int64(i+1), nil, false, it)
	}
	if b.reset(); cap(b.vals) != 0 {
		t.Errorf("%d bytes of room kept after a batch of %d MiB of values", cap(b.vals), 2*keepVals>>20)
	}
}
