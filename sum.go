package persist

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cuitty/persist/internal/record"
)

// SumResult is a store's or stream's persist1 checksum and counts, as
// persist-sum prints them.
type SumResult struct {
	Sum             string // "persist1:" and 64 hex digits
	Records, Events int64
}

// String is the result as a persist-sum line without the input name.
func (r SumResult) String() string {
	return fmt.Sprintf("%s  records=%d events=%d", r.Sum, r.Records, r.Events)
}

// SumOptions tune Source.Sum.
type SumOptions struct {
	// ByCollection also sums each collection and each stream apart.
	ByCollection bool
	// OnProgress is called after each item; Total is -1 when unknown.
	OnProgress func(Progress)
}

// SumGroup is the sum of one collection's records or one stream's events.
type SumGroup struct {
	Kind string // "collection" or "stream"
	Name string
	SumResult
}

// Sum computes the persist1 checksum (docs/format.md) of the store or stream at
// loc, reading a store in one consistent, read-only snapshot. Equal sums
// mean equal content, versions, times and tombstones included, whichever
// database each side lives in.
func Sum(ctx context.Context, loc string) (_ SumResult, err error) {
	defer ofContext(ctx, &err)
	src, err := OpenSource(ctx, loc, ReadOptions{})
	if err != nil {
		return SumResult{}, fmt.Errorf("sum: %w", err)
	}
	defer src.Close()
	r, _, err := src.Sum(ctx, SumOptions{})
	if err != nil {
		return r, fmt.Errorf("sum: %w", err)
	}
	return r, nil
}

// Sum computes the source's checksum and counts, and with ByCollection one
// group per collection and stream, in dump order.
func (s *Source) Sum(ctx context.Context, opt SumOptions) (_ SumResult, _ []SumGroup, err error) {
	defer ofContext(ctx, &err)
	var total tally
	var groups map[string]*tally
	if opt.ByCollection {
		groups = map[string]*tally{}
	}
	var (
		lastKey string
		g       *tally
	)
	err = s.each(ctx, opt.OnProgress, func(it *record.Item, digest [32]byte) error {
		total.add(it, digest)
		if groups == nil {
			return nil
		}
		key := "s\x00" + it.Stream
		if it.IsRecord() {
			key = "c\x00" + it.Collection
		}
		if g == nil || key != lastKey {
			if g = groups[key]; g == nil {
				g = &tally{}
				groups[key] = g
			}
			lastKey = key
		}
		g.add(it, digest)
		return nil
	})
	if err != nil {
		return SumResult{}, nil, err
	}
	return total.result(), sortedGroups(groups), nil
}

// sortedGroups orders groups as a dump does: collections, then streams,
// each bytewise.
func sortedGroups(groups map[string]*tally) []SumGroup {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ca, cb := a[0] == 'c', b[0] == 'c'; ca != cb {
			if ca {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []SumGroup
	for _, k := range keys {
		kind := "stream"
		if k[0] == 'c' {
			kind = "collection"
		}
		out = append(out, SumGroup{Kind: kind, Name: k[2:], SumResult: groups[k].result()})
	}
	return out
}

// tally adds up items' digests and counts.
type tally struct {
	sum             record.Sum
	records, events int64
}

func (t *tally) add(it *record.Item, digest [32]byte) {
	t.sum.Add(record.Sum(digest))
	if it.IsRecord() {
		t.records++
	} else {
		t.events++
	}
}

func (t *tally) result() SumResult {
	return SumResult{Sum: t.sum.String(), Records: t.records, Events: t.events}
}
