package adapterstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Every value, key and time of the corpus comes back byte for byte.
func testRoundTrip(t *testing.T, a adapters.Adapter) {
	for _, v := range values {
		if c, err := record.Canonical(nil, []byte(v)); err != nil || string(c) != v {
			t.Fatalf("suite bug: %q is not canonical (%q, %v)", v, c, err)
		}
	}
	items := storable(t, a, corpus()...)
	write(t, a, "app", adapters.Guarded, items...)
	same(t, "dump", dump(t, a, "app", adapters.Filter{}), lines(items...))
}

// Lock finds items by record or event key, or by remove lines naming
// them, and nothing for keys the store lacks.
func testLookup(t *testing.T, a adapters.Adapter) {
	items := storable(t, a, corpus()...)
	write(t, a, "app", adapters.Guarded, items...)
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		same(t, "lookup by items", lookup(t, tx, items...), lines(items...))
		var removes []*record.Item
		for _, it := range items {
			removes = append(removes, removeKey(it))
		}
		same(t, "lookup by remove lines", lookup(t, tx, removes...), lines(items...))
		// A key may carry the value the caller expects; the store's is what counts.
		var others []*record.Item
		for _, it := range items {
			o := it.Clone()
			if o.IsRecord() {
				o.Value = []byte(`{"not":"stored"}`)
			} else {
				o.Data = []byte(`[0]`)
			}
			others = append(others, o)
		}
		same(t, "lookup by keys expecting other values", lookup(t, tx, others...), lines(items...))
		missing := []*record.Item{
			rec("values", "v99", 1, T0, `1`), rec("nope", "x", 1, T0, `1`), rec("keys", "b", 1, T0, `1`),
			ev("orders", 1000, "t", T0, `1`), ev("nope", 1, "t", T0, `1`),
			{Kind: record.KindRemove, Collection: "keys", Key: "é "},
			{Kind: record.KindRemove, Stream: "orders", Seq: 11},
		}
		same(t, "lookup of missing keys", lookup(t, tx, missing...), nil)
		same(t, "lookup of nothing", lookup(t, tx), nil)
		mixed := append(missing[:2:2], items[0], items[len(items)-1])
		same(t, "lookup of some", lookup(t, tx, mixed...), lines(items[0], items[len(items)-1]))
	})
}

// Lock finds keys spread thinly among many others, and keys in a
// collection or stream of their own.
func testLookupSparse(t *testing.T, a adapters.Adapter) {
	var items []*record.Item
	for i := range 2000 {
		items = append(items, rec("c", fmt.Sprintf("k%04d", i), 1, T0, fmt.Sprintf(`%d`, i)),
			ev("s", int64(i+1), "t", T0, `null`))
	}
	lone := []*record.Item{rec("d", "only", 1, T0, `1`), ev("t", 7, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, append(items, lone...)...)
	want := []*record.Item{items[0], items[1000], items[3998], items[1], items[2001], items[3999], lone[0], lone[1]}
	keys := append([]*record.Item{rec("c", "k0500x", 1, T0, `1`), ev("s", 9999, "t", T0, `1`)}, want...)
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		same(t, "lookup of spread keys", lookup(t, tx, keys...), lines(want...))
	})
}

// Lock and Put work on batches far larger than a database's limit on
// bound parameters per statement.
func testLookupMany(t *testing.T, a adapters.Adapter) {
	const n = 12000
	var items, keys []*record.Item
	for i := range n {
		items = append(items, rec("c", fmt.Sprintf("k%06d", i), int64(1+i%3), T0, fmt.Sprintf(`{"i":%d}`, i)))
		if i%3 == 0 {
			items = append(items, ev("s", int64(i+1), "t", T0, `null`))
		}
	}
	write(t, a, "app", adapters.Guarded, items...)
	for _, it := range items {
		keys = append(keys, it)
		if it.Kind == record.KindRecord {
			keys = append(keys, rec("c", it.Key+"-missing", 1, T0, `1`))
		}
	}
	same(t, "lookup", lookupCommitted(t, a, "app", keys...), lines(items...))
	r, e := 0, 0
	for _, it := range items {
		if it.Kind == record.KindRecord {
			r++
		} else {
			e++
		}
	}
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	gr, ge, err := s.Count(t.Context(), adapters.Filter{})
	if err != nil || gr != int64(r) || ge != int64(e) {
		t.Errorf("Count = %d, %d, %v; want %d, %d", gr, ge, err, r, e)
	}
}

// Times keep their microseconds, over the whole range a stream allows.
func testTimes(t *testing.T, a adapters.Adapter) {
	var items []*record.Item
	for i, tm := range times {
		items = append(items, rec("t", tm, 1, tm, `1`), ev("t", int64(i+1), "t", tm, `1`))
	}
	for us := range 1000000 / 99991 {
		tm := fmt.Sprintf("2026-01-02T03:04:05.%06dZ", us*99991)
		items = append(items, rec("us", tm, 1, tm, `1`))
	}
	write(t, a, "app", adapters.Guarded, items...)
	same(t, "dump", dump(t, a, "app", adapters.Filter{}), lines(items...))
	same(t, "lookup", lookupCommitted(t, a, "app", items...), lines(items...))
}

// Scan orders records by (collection, key) and events by (stream, seq) as
// bytes and numbers, whatever the insertion order.
func testOrder(t *testing.T, a adapters.Adapter) {
	var items []*record.Item
	for i, c := range keys {
		for j, k := range keys {
			items = append(items, rec(c, k, 1, T0, fmt.Sprint(i*100+j)))
		}
		for _, seq := range []int64{10, 2, 1, 100, 9, 11} {
			items = append(items, ev(c, seq, "t", T0, fmt.Sprint(seq)))
		}
	}
	// Insert in reverse, so no adapter gets the order for free.
	rev := make([]*record.Item, len(items))
	for i, it := range items {
		rev[len(items)-1-i] = it
	}
	rev = storable(t, a, rev...)
	write(t, a, "app", adapters.Guarded, rev...)
	got := dump(t, a, "app", adapters.Filter{})
	want := lines(rev...)
	same(t, "dump order", got, want)
	if len(got) == len(want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: got %s, want %s", i+1, got[i], want[i])
			}
		}
	}
}

// Every Filter field narrows Scan and Count alike, alone and combined, on a
// snapshot and in a transaction.
func testFilters(t *testing.T, a adapters.Adapter) {
	items := []*record.Item{
		rec("a", "1", 1, T0, `1`), tomb("a", "2", 2, T0), rec("a", "3", 1, T0, `3`),
		rec("b", "1", 1, T0, `1`), tomb("b", "2", 1, T0),
		rec("é", "1", 1, T0, `"é"`), rec("B", "1", 1, T0, `"B"`),
		ev("s", 1, "t", T0, `1`), ev("s", 2, "t", T0, `2`), ev("t", 1, "t", T0, `1`),
		ev("é", 1, "t", T0, `1`), ev("S", 1, "t", T0, `1`),
	}
	write(t, a, "app", adapters.Guarded, items...)
	filters := []adapters.Filter{
		{},
		{Collections: []string{"a"}},
		{Collections: []string{"b", "a"}},
		{Collections: []string{"é", "B", "missing"}},
		{Collections: []string{"missing"}},
		{Collections: []string{}}, // only these: none
		{Collections: []string{"a", "a"}},
		{Streams: []string{"s"}},
		{Streams: []string{"t", "S", "é"}},
		{Streams: []string{}},
		{NoRecords: true},
		{NoEvents: true},
		{NoRecords: true, NoEvents: true},
		{Live: true},
		{Live: true, Collections: []string{"b"}},
		{Live: true, NoEvents: true, Collections: []string{"a", "é"}},
		{NoRecords: true, Streams: []string{"s"}},
		{NoEvents: true, Streams: []string{"s"}},
		{Collections: []string{"a"}, Streams: []string{"t"}},
		{Live: true, NoRecords: true},
		{Collections: []string{"a"}, Keys: []string{"3"}, NoEvents: true},
		{Collections: []string{"a"}, Keys: []string{"2"}, Live: true},
		{Keys: []string{"1", "missing"}},
		{Keys: []string{}},
		{Streams: []string{"s"}, FromSeq: 2, NoRecords: true},
		{FromSeq: 2},
		{FromSeq: 99, Keys: []string{"1"}},
	}
	for _, f := range filters {
		want := lines(filtered(f, items...)...)
		same(t, fmt.Sprintf("snapshot scan %+v", f), dump(t, a, "app", f), want)
		inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
			got, _, _ := scanLines(t, tx, f)
			same(t, fmt.Sprintf("tx scan %+v", f), got, want)
		})
	}
}

// A value of several MiB goes in and out whole.
func testBigValue(t *testing.T, a adapters.Adapter) {
	var b strings.Builder
	b.WriteString(`{"esc":"tab\tquote\"back\\slash\nline","list":[`)
	for i := range 200000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"s":"Ünïcödé %d"}`, i, i)
	}
	b.WriteString(`],"text":"` + strings.Repeat("0123456789abcdef", 1<<18) + `"}`)
	big := b.String() // about 10 MiB
	other := strings.Replace(big, `"i":7,`, `"i":8,`, 1)
	items := []*record.Item{
		rec("c", "big", 1, T0, big), rec("c", "big2", 1, T0, big), rec("c", "small", 1, T0, `1`),
		ev("s", 1, "big", T0, big), ev("s", 2, "big", T0, big),
	}
	write(t, a, "app", adapters.Guarded, items...)
	same(t, "dump", dump(t, a, "app", adapters.Filter{}), lines(items...))
	same(t, "lookup", lookupCommitted(t, a, "app", items...), lines(items...))
	// Written again, over themselves, and read back in the transaction:
	// each huge value is checked for what it is, byte for byte.
	again := []*record.Item{rec("c", "big", 2, T0, other), items[1], items[2], ev("s", 1, "big", T0, other), items[4]}
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Put(ctx, again, adapters.Overwrite); err != nil {
			t.Fatalf("put: %v", err)
		}
		same(t, "read back", readBack(t, tx, again...), nil)
		wrong := []*record.Item{rec("c", "big", 2, T0, big), ev("s", 1, "big", T0, big)}
		want := []string{line(wrong[0]) + ": value differs", line(wrong[1]) + ": data differs"}
		slices.Sort(want)
		same(t, "read back of other content", readBack(t, tx, wrong...), want)
	})
	same(t, "dump again", dump(t, a, "app", adapters.Filter{}), lines(again...))
}
