package record

import (
	"slices"
	"strings"
)

// Compare orders items in dump order: records by (collection, key), then
// events by (stream, seq); strings as bytes. A remove line compares as the
// item it names.
func Compare(a, b *Item) int {
	ar, br := a.IsRecord(), b.IsRecord()
	switch {
	case ar && !br:
		return -1
	case !ar && br:
		return 1
	case ar:
		if c := strings.Compare(a.Collection, b.Collection); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Order follows a sequence of items that must come in dump order.
type Order struct {
	prev Item
	seen bool
}

// Next takes it as the latest item, and returns the one before and how
// the two compare (Compare(prev, it)): below 0 in dump order (or it is
// the first), 0 the same address twice, above 0 out of order. Only the
// addresses are kept: strings are never written over, so keeping them
// costs nothing even when the caller reuses the item.
func (o *Order) Next(it *Item) (prev Item, c int) {
	prev, c = o.prev, -1
	if o.seen {
		c = Compare(&o.prev, it)
	}
	o.prev = Item{Kind: it.Kind, Collection: it.Collection, Key: it.Key, Stream: it.Stream, Seq: it.Seq}
	o.seen = true
	return prev, c
}

// SortLast sorts s by cmp, stably, unless it is sorted already (a dump's
// keys are), and keeps the last of each run of equal elements: of a key
// named twice, the later naming counts. s is reordered in place; the part
// kept is returned.
func SortLast[T any](s []T, cmp func(a, b T) int) []T {
	if !slices.IsSortedFunc(s, cmp) {
		slices.SortStableFunc(s, cmp)
	}
	out := s[:0]
	for i, x := range s {
		if i+1 < len(s) && cmp(x, s[i+1]) == 0 {
			continue
		}
		out = append(out, x)
	}
	return out
}
