package persist

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
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

// Sum computes the persist1 checksum (docs/format.md) of the store or stream at
// loc, reading a store in one consistent, read-only snapshot. Equal sums
// mean equal content, versions, times and tombstones included, whichever
// database each side lives in.
func Sum(ctx context.Context, loc string) (SumResult, error) {
	src, err := source.Open(ctx, loc, source.Options{})
	if err != nil {
		return SumResult{}, fmt.Errorf("sum: %w", err)
	}
	defer src.Close()
	r, err := sumSource(ctx, src)
	if err != nil {
		return r, fmt.Errorf("sum: %w", err)
	}
	return r, nil
}

// sumSource is persist-sum's computation: the sum of the canonical lines.
func sumSource(ctx context.Context, src *source.Source) (SumResult, error) {
	var (
		sum record.Sum
		r   SumResult
	)
	err := src.Each(ctx, func(it *record.Item, digest [32]byte) error {
		sum.Add(record.Sum(digest))
		if it.IsRecord() {
			r.Records++
		} else {
			r.Events++
		}
		return nil
	})
	r.Sum = sum.String()
	return r, err
}
