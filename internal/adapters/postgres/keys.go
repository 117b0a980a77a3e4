package postgres

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cuitty/persist/internal/record"
)

// keySet holds the keys of one kind that a lookup asks for: by name (the
// collection, or the stream) and key (the key, or the seq), sorted and
// grouped by name, each with the item that named it, whose value (if any)
// is what the store is expected to hold. A row read is found among them by
// search, not by a map: a batch's keys mostly come in dump order, and
// filling maps with them cost more than looking them up.
type keySet[K cmp.Ordered] struct {
	ents   []keyed[K]
	found  []bool
	names  []string // each group's name, sorted
	starts []int    // group g spans ents[starts[g]:starts[g+1]]
	g      int      // the group of the last row found, where the next likely is
	next   int      // the entry after the last one found
}

type keyed[K cmp.Ordered] struct {
	name string
	key  K
	it   *record.Item
}

func compareKeyed[K cmp.Ordered](a, b keyed[K]) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

// recordKeys and eventKeys split keys by kind.
func recordKeys(keys []*record.Item) *keySet[string] {
	return keysOf(keys, true, func(k *record.Item) keyed[string] { return keyed[string]{k.Collection, k.Key, k} })
}

func eventKeys(keys []*record.Item) *keySet[int64] {
	return keysOf(keys, false, func(k *record.Item) keyed[int64] { return keyed[int64]{k.Stream, k.Seq, k} })
}

func keysOf[K cmp.Ordered](keys []*record.Item, records bool, of func(*record.Item) keyed[K]) *keySet[K] {
	n := 0
	for _, k := range keys {
		if k.IsRecord() == records {
			n++
		}
	}
	ents := make([]keyed[K], 0, n)
	for _, k := range keys {
		if k.IsRecord() == records {
			ents = append(ents, of(k))
		}
	}
	return newKeySet(ents)
}

// columns gives the names and keys apart, for a query's arrays.
func (s *keySet[K]) columns() (names []string, keys []K) {
	names, keys = make([]string, len(s.ents)), make([]K, len(s.ents))
	for i, e := range s.ents {
		names[i], keys[i] = e.name, e.key
	}
	return names, keys
}

// newKeySet sorts ents (unless they are sorted already) and keeps the last
// of each key named more than once.
func newKeySet[K cmp.Ordered](ents []keyed[K]) *keySet[K] {
	out := record.SortLast(ents, compareKeyed[K])
	s := &keySet[K]{ents: out, found: make([]bool, len(out))}
	for i, e := range out {
		if i == 0 || e.name != out[i-1].name {
			s.names = append(s.names, e.name)
			s.starts = append(s.starts, i)
		}
	}
	s.starts = append(s.starts, len(out))
	return s
}

func (s *keySet[K]) len() int { return len(s.ents) }

// group finds the group of name, -1 if none.
func (s *keySet[K]) group(name string) int {
	if s.g < len(s.names) && s.names[s.g] == name {
		return s.g
	}
	g, ok := slices.BinarySearch(s.names, name)
	if !ok {
		return -1
	}
	s.g = g
	return g
}

// find returns the item that asked for the row (name, key) and marks it
// found; nil when none did, or one already was. Neither name nor key is
// kept.
func (s *keySet[K]) find(name string, key K) *record.Item {
	g := s.group(name)
	if g < 0 {
		return nil
	}
	lo, hi := s.starts[g], s.starts[g+1]
	i := s.next
	if i < lo || i >= hi || s.ents[i].key != key {
		var ok bool
		i, ok = slices.BinarySearchFunc(s.ents[lo:hi], key, func(e keyed[K], k K) int { return cmp.Compare(e.key, k) })
		if !ok {
			return nil
		}
		i += lo
	}
	s.next = i + 1
	if s.found[i] {
		return nil
	}
	s.found[i] = true
	return s.ents[i].it
}

// missing lists the keys no row was found for.
func (s *keySet[K]) missing() []*record.Item {
	var out []*record.Item
	for i, e := range s.ents {
		if !s.found[i] {
			out = append(out, e.it)
		}
	}
	return out
}
