package persist

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// errStop ends a scan early once the caller has what it wanted.
var errStop = errors.New("stop")

// Records yields the live records of a collection in key order (keys
// compared as bytes, as a dump orders them), read in one consistent
// snapshot; deleted records are left out, as Get leaves them out. Breaking
// out of the loop ends the read. An error is yielded once, last.
func (s *Store) Records(ctx context.Context, collection string) iter.Seq2[Record, error] {
	f := adapters.Filter{Collections: []string{collection}, NoEvents: true, Live: true}
	return func(yield func(Record, error) bool) {
		s.scan(ctx, f, func(it *record.Item) bool { return yield(recordOf(it), nil) },
			func(err error) { yield(Record{}, fmt.Errorf("records of %s: %w", collection, err)) })
	}
}

// Events yields the events of a stream in seq order, from seq from on (1 or
// less: all of them), read in one consistent snapshot. Breaking out of the
// loop ends the read. An error is yielded once, last.
func (s *Store) Events(ctx context.Context, stream string, from int64) iter.Seq2[Event, error] {
	f := adapters.Filter{Streams: []string{stream}, NoRecords: true, FromSeq: from}
	return func(yield func(Event, error) bool) {
		s.scan(ctx, f, func(it *record.Item) bool {
			return yield(eventOf(it), nil)
		}, func(err error) { yield(Event{}, fmt.Errorf("events of %s: %w", stream, err)) })
	}
}

// scan reads the store through a snapshot, handing each item, canonical,
// to each until it returns false; fail is called with an error that ended
// the read early.
func (s *Store) scan(ctx context.Context, f adapters.Filter, each func(*record.Item) bool, fail func(error)) {
	failed := fail
	fail = func(err error) {
		ofContext(ctx, &err)
		failed(err)
	}
	if err := s.usable(); err != nil {
		fail(err)
		return
	}
	snap, err := s.a.Snapshot(ctx, s.name)
	if err != nil {
		fail(s.scrub(err))
		return
	}
	defer snap.Close()
	err = snap.Scan(ctx, f, func(it *record.Item) error {
		if !each(it) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		fail(s.scrub(err))
	}
}
