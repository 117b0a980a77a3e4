package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// DumpOptions are persist-dump's flags.
type DumpOptions struct {
	cli.Common
	Select
	Location string
	Store    string
	Output   string
}

// Dump writes a consistent snapshot of a store as a stream.
func Dump(ctx context.Context, st Stdio, o DumpOptions) error {
	const name = "persist-dump"
	start := time.Now()
	src, err := source.Open(ctx, o.Location, source.Options{Store: o.Store, Filter: o.Filter(), Stdin: st.Stdin})
	if errors.Is(err, location.ErrLocation) {
		return cli.Hint(err, "a store is sqlite:PATH or postgres://…; see persist-dump --help")
	}
	if err != nil {
		return err
	}
	defer src.Close()
	records, events, known, err := src.Counts(ctx)
	if err != nil {
		return err
	}
	h := record.Header{Format: record.Format, Store: src.Store, Records: -1, Events: -1}
	if known {
		h.Records, h.Events = records, events
	}
	out, err := cli.CreateOutput(o.Output, st.Stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	total := int64(-1)
	if known {
		total = records + events
	}
	bar := cli.NewProgress(st.Stderr, cli.ShowProgress(o.Common, st.Stderr), total, "dumping")
	var prev *record.Item
	r, e, _, err := src.WriteStream(ctx, out, h, func(it *record.Item) error {
		if !src.IsStore() {
			// A stream file is re-emitted canonically; it must already be
			// in dump order, or the output would not be a dump.
			if prev != nil && record.Compare(prev, it) >= 0 {
				return fmt.Errorf("%s: not in dump order at an item for %s; sort it first (persist-diff and persist-sum accept any order)", src.Loc, source.Describe(it))
			}
			// Its address is all the next item is compared by: a clone
			// would copy a huge value once more.
			prev = &record.Item{Kind: it.Kind, Collection: it.Collection, Key: it.Key, Stream: it.Stream, Seq: it.Seq}
		}
		bar.Add(1)
		return nil
	})
	bar.Finish()
	if err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	d := time.Since(start)
	summary(st, o.Common, name, fmt.Sprintf("dumped %d records and %d events from %s", r, e, storeName(src)),
		d.Round(time.Millisecond).String(), cli.Rate(r+e, d))
	return nil
}

func storeName(s *source.Source) string {
	if s.Store != "" && s.IsStore() {
		return s.Loc.String() + " (store " + s.Store + ")"
	}
	return s.Loc.String()
}
