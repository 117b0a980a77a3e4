// Package persist is the Go API of the Persist toolkit: a store of records
// (current state, addressed by collection and key) and events (append-only
// streams) that lives in SQLite or PostgreSQL, and the operations that move,
// verify and dual-write stores between them.
//
// The binaries (persist-dump, persist-load, persist-sum, persist-diff,
// persist-tee, persist) are thin wrappers over the same internal packages, so
// what this package writes is byte for byte what they read, and a Sum here
// equals the one persist-sum prints.
//
// Locations are the ones the tools take (sqlite:PATH, postgres://…, a path
// to an existing SQLite file, each optionally followed by #NAME to pick a
// store). Passwords never appear in errors.
package persist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// DefaultStore is the store name Open uses for a database that holds no
// store yet when the location names none.
const DefaultStore = "default"

// Sentinels a caller can tell apart with errors.Is.
var (
	// ErrNotFound: no such record, or the record is deleted (a tombstone).
	ErrNotFound = errors.New("not found")
	// ErrClosed: the Store, or the Source, was closed.
	ErrClosed = source.ErrClosed
	// ErrReadAgain: a stream Source was asked for its items a second time
	// (a Dump, a Sum or an Items loop after another began, even one broken
	// out of): it is read once, and the rest of it would pass for the
	// whole. Open it again. A store Source reads its snapshot again after
	// a read that ran to its end (a loop broken out of may have cost a
	// PostgreSQL snapshot its connection: open that one again too).
	ErrReadAgain = source.ErrReadAgain
	// ErrUnsupported: a value the store (or, under dual-write, its
	// secondary) cannot hold as it is, such as a \u0000 in a string bound
	// for PostgreSQL. The write is refused rather than altered.
	ErrUnsupported = adapters.ErrUnsupported
	// ErrStoreName: a store name the database cannot hold (on PostgreSQL,
	// a NUL byte or a name too long for its index); nothing was written.
	ErrStoreName = adapters.ErrStoreName
	// ErrNoStore: the database holds no store of the name asked for.
	ErrNoStore = adapters.ErrNoStore
	// ErrFull: the database refused a write for want of room (its disk
	// is full); it wraps syscall.ENOSPC too.
	ErrFull = adapters.ErrFull
	// ErrForeignCode: a trigger or a rule Persist did not make runs as
	// its tables are written, and could change rows a load wrote and
	// verified before; a load refuses to write with it there.
	ErrForeignCode = adapters.ErrForeignCode
	// ErrSameStore: the two sides of a comparison, a migration or a
	// dual-write are one store of one database (or one stream file),
	// however differently their locations name it: the answer would prove
	// nothing, the copy copy nothing.
	ErrSameStore = errors.New("named twice")
)

// Store is one Persist store, open for reading and writing. It is safe for
// concurrent use by several goroutines.
type Store struct {
	loc  location.Location
	name string
	a    adapters.Adapter
	now  func() time.Time

	// mu orders writes against the moments that need a still picture of
	// both sides of a dual-write: every write holds it shared from its
	// primary transaction until its secondary copy is settled; enabling
	// dual-write and the start of a verify hold it exclusively.
	mu     sync.RWMutex
	dw     *DualWrite
	closed bool

	stripes [64]sync.Mutex // see Store.write
}

// Open opens the store a location names, creating the database (SQLite) and
// the store when missing. The store is the location's #NAME; without one,
// the only store the database holds, or DefaultStore when it holds none. A
// database holding several stores needs a #NAME.
func Open(ctx context.Context, loc string) (_ *Store, err error) {
	defer ofContext(ctx, &err)
	return OpenStore(ctx, loc, "")
}

// OpenStore is Open with the store named apart from the location (as the
// tools' --store flag does); name and a #NAME in loc must agree. An empty
// name behaves as Open.
func OpenStore(ctx context.Context, loc, name string) (_ *Store, err error) {
	defer ofContext(ctx, &err)
	w, err := openWriter(ctx, loc, false)
	if err != nil {
		return nil, err
	}
	store, err := w.store(ctx, name, "")
	if err == nil {
		err = createStore(ctx, w.a, w.loc, store)
	}
	if err != nil {
		return nil, w.fail(err, 0)
	}
	return &Store{loc: w.loc, name: store, a: w.a, now: time.Now}, nil
}

// createStore makes sure the schema and the store exist, so that a store
// just opened is listed, dumped and summed like any other, even empty.
func createStore(ctx context.Context, a adapters.Adapter, l location.Location, store string) error {
	tx, err := a.Begin(ctx, store)
	if err != nil {
		return fmt.Errorf("%s: store %q: %w", l, store, location.ScrubError(err, l.Raw))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: store %q: %w", l, store, location.ScrubError(err, l.Raw))
	}
	return nil
}

// Name returns the store's name.
func (s *Store) Name() string { return s.name }

// Location returns the location the store was opened from, with any
// password masked.
func (s *Store) Location() string { return s.loc.String() }

// DualWrite returns the store's dual-write, or nil when none is enabled.
func (s *Store) DualWrite() *DualWrite {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dw
}

// Degraded reports whether a dual-write is enabled and its secondary is
// behind: some writes could not be applied to it yet (see DualWriteStatus).
func (s *Store) Degraded() bool {
	dw := s.DualWrite()
	return dw != nil && dw.Status().Degraded
}

// Close closes the store and, when dual-write is on, its secondary. Writes
// still waiting for the secondary are tried once more; if some remain, Close
// returns an error wrapping ErrDegraded that says how many, so that they are
// never dropped unnoticed (a backfill, run later, copies them).
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	dw := s.dw
	s.dw = nil
	s.mu.Unlock()
	var errs []error
	if dw != nil {
		errs = append(errs, dw.close(context.Background()))
	}
	if err := s.a.Close(); err != nil {
		errs = append(errs, fmt.Errorf("%s: close: %w", s.loc, err))
	}
	return errors.Join(errs...)
}

// Record is a record as the store holds it.
type Record struct {
	Collection string
	Key        string
	Version    int64     // 1 for the first write, bumped by every write and delete
	UpdatedAt  time.Time // UTC, microsecond precision
	Deleted    bool      // a tombstone (Get never returns one)
	Value      []byte    // canonical JSON; nil for a tombstone
}

// Decode unmarshals the record's value into v with encoding/json.
func (r Record) Decode(v any) error { return decodeJSON(r.Value, v) }

// Event is one event of a stream.
type Event struct {
	Stream string
	Seq    int64 // 1 for the first event of a stream, then one more each
	Type   string
	At     time.Time // UTC, microsecond precision
	Data   []byte    // canonical JSON
}

// Decode unmarshals the event's data into v with encoding/json.
func (e Event) Decode(v any) error { return decodeJSON(e.Data, v) }

func recordOf(it *record.Item) Record {
	r := Record{
		Collection: it.Collection,
		Key:        it.Key,
		Version:    it.Version,
		UpdatedAt:  parseTime(it.UpdatedAt),
		Deleted:    it.Deleted,
	}
	if !it.Deleted {
		r.Value = orNull(it.Value)
	}
	return r
}

func eventOf(it *record.Item) Event {
	return Event{Stream: it.Stream, Seq: it.Seq, Type: it.Type, At: parseTime(it.At), Data: orNull(it.Data)}
}

func orNull(v []byte) []byte {
	if v == nil {
		return []byte("null")
	}
	return append([]byte(nil), v...)
}

// parseTime reads a canonical stream time; adapters only ever hand out
// canonical times, so a failure here would be a bug elsewhere and yields the
// zero time rather than a made-up one.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// Line is the record as a dump writes it: its canonical persist.v1 line,
// without the newline.
func (r Record) Line() []byte {
	it := &record.Item{Kind: record.KindRecord, Collection: r.Collection, Key: r.Key, Version: r.Version,
		UpdatedAt: record.FormatTime(r.UpdatedAt), Deleted: r.Deleted, Value: r.Value}
	return record.AppendItem(nil, it)
}

// Line is the event as a dump writes it: its canonical persist.v1 line,
// without the newline.
func (e Event) Line() []byte {
	it := &record.Item{Kind: record.KindEvent, Stream: e.Stream, Seq: e.Seq, Type: e.Type, At: record.FormatTime(e.At), Data: e.Data}
	return record.AppendItem(nil, it)
}

// ofContext makes *err, where ctx ended, wrap ctx's error too: a database
// answers a statement its context cancelled in its own words (PostgreSQL:
// "canceling statement due to user request"), which errors.Is would not
// tell from trouble. The message stays as it was.
func ofContext(ctx context.Context, err *error) {
	cause := ctx.Err()
	if d, ok := ctx.Deadline(); cause == nil && ok && !time.Now().Before(d) {
		// Past its deadline, but for its timer: a dial that timed out at
		// the deadline can return before ctx says so.
		cause = context.DeadlineExceeded
	}
	if *err == nil || cause == nil || errors.Is(*err, cause) {
		return
	}
	*err = &ended{*err, cause}
}

// ended is an error that happened as its context ended.
type ended struct{ err, cause error }

func (e *ended) Error() string   { return e.err.Error() }
func (e *ended) Unwrap() []error { return []error{e.err, e.cause} }
