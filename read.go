package persist

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// Item is one record or event read from a Source, with its line as a dump
// writes it.
type Item struct {
	Record *Record // nil for an event
	Event  *Event  // nil for a record
	Line   []byte  // the canonical persist.v1 line, without the newline
}

// Items yields the source's items, filtered as it was opened, with their
// canonical lines: a store in dump order, a stream in its own. Breaking out
// of the loop ends the read. An error is yielded once, last. While the loop
// runs, the Source takes no other call: finish or break out first (a
// store's Counts or Cursor meanwhile fail, wrapping ErrScanning).
func (s *Source) Items(ctx context.Context) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		err := s.src.Each(ctx, func(it *record.Item, _ [32]byte) error {
			out := Item{Line: record.AppendItem(nil, it)}
			if it.IsRecord() {
				r := recordOf(it)
				out.Record = &r
			} else {
				e := eventOf(it)
				out.Event = &e
			}
			if !yield(out, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			ofContext(ctx, &err)
			yield(Item{}, err)
		}
	}
}

// NameCount is a collection or stream of a store and how much it holds.
type NameCount struct {
	Name    string
	Count   int64 // records, deleted ones included; or events
	Deleted int64 // deleted records (tombstones) among Count
}

// Holds reports whether the store holds a record (a tombstone too) in
// collection, reading the first one only.
func (s *Source) Holds(ctx context.Context, collection string) (_ bool, err error) {
	defer ofContext(ctx, &err)
	return s.src.Holds(ctx, collection)
}

// Names lists a store's collections and streams, each sorted bytewise,
// with their counts. A stream source has none: it would have to be read.
func (s *Source) Names(ctx context.Context) (collections, streams []NameCount, err error) {
	defer ofContext(ctx, &err)
	cs, ss, err := s.src.Names(ctx)
	if err != nil {
		return nil, nil, err
	}
	return nameCounts(cs), nameCounts(ss), nil
}

func nameCounts(ns []adapters.NameCount) []NameCount {
	out := make([]NameCount, len(ns))
	for i, n := range ns {
		out[i] = NameCount{Name: n.Name, Count: n.Count, Deleted: n.Deleted}
	}
	return out
}

// StoreInfo is a store a database holds and how much it holds.
type StoreInfo struct {
	Name    string
	Records int64 // live records
	Deleted int64 // deleted records (tombstones)
	Events  int64
}

// Stores lists the stores the database at loc holds, by name, with their
// counts, reading each in a read-only snapshot: nothing is written, and a
// database file that does not exist is an error, not a new database.
func Stores(ctx context.Context, loc string) (_ []StoreInfo, err error) {
	defer ofContext(ctx, &err)
	l, err := location.Parse(loc, false)
	if err != nil {
		return nil, err
	}
	if !l.IsStore() {
		return nil, fmt.Errorf("%w: %s is a stream, not a database", ErrLocation, l)
	}
	a, err := location.Open(ctx, l, true)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	names, err := a.Stores(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
	}
	if l.Store != "" {
		names = filterName(names, l.Store)
	}
	out := make([]StoreInfo, 0, len(names))
	for _, n := range names {
		info, err := storeInfo(ctx, a, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
		}
		out = append(out, info)
	}
	return out, nil
}

func filterName(names []string, want string) []string {
	for _, n := range names {
		if n == want {
			return []string{n}
		}
	}
	return nil
}

func storeInfo(ctx context.Context, a adapters.Adapter, name string) (StoreInfo, error) {
	snap, err := a.Snapshot(ctx, name)
	if err != nil {
		return StoreInfo{}, err
	}
	defer snap.Close()
	all, events, err := snap.Count(ctx, adapters.Filter{})
	if err != nil {
		return StoreInfo{}, err
	}
	live, _, err := snap.Count(ctx, adapters.Filter{Live: true, NoEvents: true})
	if err != nil {
		return StoreInfo{}, err
	}
	return StoreInfo{Name: name, Records: live, Deleted: all - live, Events: events}, nil
}

// Get reads the record collection/key of the store at loc without writing
// anything (a reader, as Dump is: a missing database is an error). It
// returns the record and its line as a dump writes it, or an error wrapping
// ErrNotFound when there is no such record or it is deleted. It reads the
// one row through the primary key, in a snapshot of its own.
func Get(ctx context.Context, loc, collection, key string, opt ReadOptions) (_ Item, err error) {
	defer ofContext(ctx, &err)
	opt.Filter = Filter{Collections: []string{collection}, Keys: []string{key}}
	src, err := OpenSource(ctx, loc, opt)
	if err != nil {
		return Item{}, err
	}
	defer src.Close()
	return src.Get(ctx, collection, key)
}

// Get returns the live record collection/key of a store source opened
// with that key in its filter (Filter.Keys), or an error wrapping
// ErrNotFound.
func (s *Source) Get(ctx context.Context, collection, key string) (_ Item, err error) {
	defer ofContext(ctx, &err)
	if !s.IsStore() {
		return Item{}, fmt.Errorf("%w: %s is a stream, not a database", ErrLocation, s.Location())
	}
	for it, err := range s.Items(ctx) {
		if err != nil {
			return Item{}, err
		}
		if it.Record.Collection == collection && it.Record.Key == key && !it.Record.Deleted {
			return it, nil
		}
	}
	return Item{}, fmt.Errorf("get %s/%s: %w", collection, key, ErrNotFound)
}
