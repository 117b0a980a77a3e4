package main

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

func gen(t *testing.T, o options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := generate(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// read parses a generated stream with the toolkit's own reader, so every line
// is one persist-load accepts, and returns the items keyed by address.
func read(t *testing.T, stream []byte) (items []*record.Item, canon map[string]string) {
	t.Helper()
	r, err := record.NewReader(bytes.NewReader(stream), record.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	canon = map[string]string{}
	var prev *record.Item
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", r.Line(), err)
		}
		if prev != nil && record.Compare(prev, it) >= 0 {
			t.Fatalf("line %d: not in dump order", r.Line())
		}
		prev = it.Clone()
		items = append(items, prev)
		canon[it.Collection+"\x00"+it.Key+"\x00"+it.Stream+"\x00"+strconv.FormatInt(it.Seq, 10)] = string(r.Canonical())
	}
	return items, canon
}

func TestStream(t *testing.T) {
	for _, tc := range []struct {
		records, events int
	}{
		{0, 0},
		{1, 1},
		{7, 3},
		{5000, 1200},
	} {
		o := options{records: tc.records, events: tc.events, seed: 1}
		a := gen(t, o)
		if !bytes.Equal(a, gen(t, o)) {
			t.Fatalf("%+v: two runs differ", tc)
		}
		items, _ := read(t, a)
		var records, events, tombs int
		for _, it := range items {
			switch it.Kind {
			case record.KindRecord:
				records++
				if it.Deleted {
					tombs++
				}
				if it.Version < 1 || it.Version > 9 {
					t.Fatalf("version %d", it.Version)
				}
			case record.KindEvent:
				events++
			}
		}
		if records != tc.records || events != tc.events {
			t.Fatalf("%+v: got %d records, %d events", tc, records, events)
		}
		if tc.records >= 5000 && (tombs < tc.records/100 || tombs > tc.records*3/100) {
			t.Fatalf("%d tombstones in %d records, want about 2%%", tombs, records)
		}
	}
}

func TestDiffer(t *testing.T) {
	o := options{records: 20000, events: 2000, seed: 7}
	_, a := read(t, gen(t, o))
	o.differ = 1
	_, b := read(t, gen(t, o))
	var changed int
	for k, v := range a {
		if b[k] != v {
			changed++
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			changed++
		}
	}
	// 1% of 20000 records, plus the events appended to 1% of the streams.
	if changed < 120 || changed > 320 {
		t.Fatalf("%d items differ, want about 200 + a few events", changed)
	}
}
