package record

import (
	"cmp"
	"slices"
	"testing"
)

// SortLast sorts stably and keeps the last of equal elements, whether the
// input came sorted or not.
func TestSortLast(t *testing.T) {
	type kv struct{ k, v int }
	byKey := func(a, b kv) int { return cmp.Compare(a.k, b.k) }
	for _, tc := range []struct{ in, want []kv }{
		{nil, nil},
		{[]kv{{1, 1}}, []kv{{1, 1}}},
		{[]kv{{1, 1}, {2, 2}, {3, 3}}, []kv{{1, 1}, {2, 2}, {3, 3}}},
		{[]kv{{1, 1}, {1, 2}, {2, 3}}, []kv{{1, 2}, {2, 3}}},
		{[]kv{{2, 1}, {1, 2}, {2, 3}, {1, 4}, {3, 5}}, []kv{{1, 4}, {2, 3}, {3, 5}}},
	} {
		if got := SortLast(slices.Clone(tc.in), byKey); !slices.Equal(got, tc.want) {
			t.Errorf("SortLast(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Order tells each item's place against the one before, by address alone:
// records before events, names as bytes, seqs as numbers.
func TestOrderNext(t *testing.T) {
	rec := func(c, k string) *Item { return &Item{Kind: KindRecord, Collection: c, Key: k} }
	ev := func(s string, n int64) *Item { return &Item{Kind: KindEvent, Stream: s, Seq: n} }
	var o Order
	for i, tc := range []struct {
		it   *Item
		sign int
	}{
		{rec("c", "b"), -1}, // the first
		{rec("c", "c"), -1},
		{rec("c", "c"), 0},
		{rec("c", "B"), 1}, // "B" sorts before "c" as bytes
		{rec("d", "a"), -1},
		{ev("s", 2), -1},
		{ev("s", 10), -1},
		{rec("z", "z"), 1}, // a record after an event
	} {
		prev, c := o.Next(tc.it)
		if sign(c) != tc.sign {
			t.Errorf("%d: %+v after %+v compares %d, want sign %d", i, tc.it, prev, c, tc.sign)
		}
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
