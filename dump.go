package persist

import (
	"context"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// DumpOptions tune Dump.
type DumpOptions struct {
	ReadOptions
	// OnProgress is called after each item; Total is -1 when unknown.
	OnProgress func(Progress)
}

// DumpResult says what a dump wrote.
type DumpResult struct {
	Store           string // the store dumped (a stream's header's, for a stream)
	Records, Events int64
	Sum             string // the persist1 sum of the items written
	// Cursor is the trailer's cursor: pass it as ReadOptions.Since to dump
	// what changes after this dump. Empty for a store that cannot tell
	// (ErrNoCursor).
	Cursor string
}

// Dump writes the store (or stream) at loc to w as a persist.v1 stream:
// a header with the counts, every item's canonical line in dump order, and
// a trailer with the counts and sum of what was written. A store is read in
// one consistent, read-only snapshot; the same content gives the same bytes
// from every adapter.
func Dump(ctx context.Context, loc string, w io.Writer, opt DumpOptions) (_ DumpResult, err error) {
	defer ofContext(ctx, &err)
	src, err := OpenSource(ctx, loc, opt.ReadOptions)
	if err != nil {
		return DumpResult{}, err
	}
	defer src.Close()
	return src.Dump(ctx, w, opt.OnProgress)
}

// Dump writes the source to w as Dump does. A stream source must already be
// in dump order: its items are written again canonically.
func (s *Source) Dump(ctx context.Context, w io.Writer, progress func(Progress)) (_ DumpResult, err error) {
	defer ofContext(ctx, &err)
	if err := s.notLiveDelta(); err != nil {
		return DumpResult{}, err
	}
	return s.writeStream(ctx, w, progress, true)
}

// notLiveDelta refuses to write a delta again without its tombstones: to
// a loader it is the same delta, its since, marked by the filter, chaining
// it after a --live full dump, and the copy would keep what was deleted.
// Summed or diffed, it writes no stream, and is read as asked.
func (s *Source) notLiveDelta() error {
	if !s.src.LiveDelta() {
		return nil
	}
	return hint.With(fmt.Errorf("%s is a delta (its header has a since): %w", s.Location(), ErrLiveDelta),
		"load a delta as it is, tombstones and all; to see only live records, dump the store or a full dump with --live")
}

// writeStream writes the source as a stream; ordered requires a stream
// source to be in dump order (what a dump promises; a load takes any order).
func (s *Source) writeStream(ctx context.Context, w io.Writer, progress func(Progress), ordered bool) (DumpResult, error) {
	records, events, known, err := s.Counts(ctx)
	if err != nil {
		return DumpResult{}, err
	}
	since, err := s.src.Since()
	if err != nil {
		return DumpResult{}, err
	}
	h := record.Header{Format: record.Format, Store: s.Store(), Records: -1, Events: -1, Since: since}
	if known {
		h.Records, h.Events = records, events
	}
	total := int64(-1)
	if known {
		total = records + events
	}
	var (
		prev *record.Item
		done int64
	)
	r, e, sum, err := s.src.WriteStream(ctx, w, h, func(it *record.Item) error {
		if ordered && !s.IsStore() {
			if prev != nil && record.Compare(prev, it) >= 0 {
				return hint.With(fmt.Errorf("%s: not in dump order at %s", s.Location(), describe(it)),
					"persist-diff, persist-sum and persist-load take any order; to put a stream in dump order, load it into a store and dump that: persist-load sqlite:sorted.db < FILE && persist-dump sqlite:sorted.db")
			}
			// Its address is all the next item is compared by: a clone
			// would copy a huge value once more.
			prev = &record.Item{Kind: it.Kind, Collection: it.Collection, Key: it.Key, Stream: it.Stream, Seq: it.Seq}
		}
		if progress != nil {
			done++
			progress(Progress{Completed: done, Total: total})
		}
		return nil
	})
	if err != nil {
		return DumpResult{}, err
	}
	var c string
	if !s.src.NoCursor() {
		c, _ = s.src.Cursor(ctx) // WriteStream has read it, or failed
	}
	return DumpResult{Store: s.Store(), Records: r, Events: e, Sum: sum.String(), Cursor: c}, nil
}
