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
