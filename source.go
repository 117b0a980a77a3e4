package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// Filter narrows what a read yields. The zero Filter yields everything.
// Naming collections and no stream means records only, and the other way
// round, as persist-dump's --collection and --stream do.
type Filter struct {
	Collections []string // only the records of these collections
	Streams     []string // only the events of these streams
	Records     bool     // records only
	Events      bool     // events only
	Live        bool     // leave tombstones (deleted records) out
	// Keys keeps only the records with these keys (nil: all): with one
	// collection, a point read through the primary key. A key that does
	// not exist is no error.
	Keys []string
	// FromSeq keeps only the events from this seq on (0: all).
	FromSeq int64
}

func (f Filter) adapter() adapters.Filter {
	a := adapters.Filter{Collections: f.Collections, Streams: f.Streams, Live: f.Live, Keys: f.Keys, FromSeq: f.FromSeq}
	a.NoEvents = f.Records || (len(f.Collections) > 0 && len(f.Streams) == 0 && !f.Events)
	a.NoRecords = f.Events || (len(f.Streams) > 0 && len(f.Collections) == 0 && !f.Records)
	return a
}

// ErrFilter is wrapped when a filter's parts contradict each other, so that
// together they would select less than each says (--records --events,
// say, nothing at all), or when it names an empty list: a backup must not
// come out empty or partial because two flags cancel or a shell variable
// was empty.
var ErrFilter = errors.New("invalid filter")

// Check refuses a filter whose parts leave out what another asks for
// (ErrFilter). OpenSource checks the filter it is given.
func (f Filter) Check() error {
	switch {
	case f.Collections != nil && len(f.Collections) == 0:
		// An empty list would read no record and every event: what a
		// shell variable that was empty asks for, not what anyone means.
		return fmt.Errorf("%w: an empty list of collections selects no record (nil reads them all)", ErrFilter)
	case f.Streams != nil && len(f.Streams) == 0:
		return fmt.Errorf("%w: an empty list of streams selects no event (nil reads them all)", ErrFilter)
	case f.Records && f.Events:
		return fmt.Errorf("%w: records only and events only leave nothing", ErrFilter)
	case f.Events && len(f.Collections) > 0:
		return fmt.Errorf("%w: collection %s selects records, and events only leaves every record out", ErrFilter, quoted(f.Collections))
	case f.Records && len(f.Streams) > 0:
		return fmt.Errorf("%w: stream %s selects events, and records only leaves every event out", ErrFilter, quoted(f.Streams))
	}
	return f.checkNarrowing()
}

// checkNarrowing refuses keys and a first seq that narrow what the rest of
// the filter leaves out anyway, or nothing at all: keys with no record
// selected would be dropped without a word, and so would a first seq with
// no event.
func (f Filter) checkNarrowing() error {
	a := f.adapter()
	switch {
	case f.Keys != nil && len(f.Keys) == 0:
		return fmt.Errorf("%w: an empty list of keys selects no record (nil reads them all)", ErrFilter)
	case f.Keys != nil && a.NoRecords:
		return fmt.Errorf("%w: keys select records, and the rest of the filter leaves every record out", ErrFilter)
	case f.FromSeq < 0:
		return fmt.Errorf("%w: events are numbered from 1, and a first seq of %d is none (0 reads them all)", ErrFilter, f.FromSeq)
	case f.FromSeq != 0 && a.NoEvents:
		return fmt.Errorf("%w: a first seq selects events, and the rest of the filter leaves every event out", ErrFilter)
	}
	return nil
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// IsZero reports whether the filter yields everything.
func (f Filter) IsZero() bool {
	return f.Collections == nil && f.Streams == nil && !f.Records && !f.Events && !f.Live && f.Keys == nil && f.FromSeq == 0
}

// ReadOptions say what to read from a location.
type ReadOptions struct {
	// Store picks the store of a database holding several (as #NAME does).
	Store string
	// StreamStore makes Store ask the same of a stream: one whose header
	// names another store, or none, is an error. A stream's own #NAME is
	// always checked.
	StreamStore bool
	// Filter narrows the items. A collection or stream it names that the
	// store (or stream) does not hold is an error wrapping ErrNoMatch.
	Filter Filter
	// Since, a cursor from the trailer of an earlier dump of the same store,
	// reads only what changed after that dump: records written or
	// tombstoned, events appended (a delta). A since the store cannot serve
	// is an error wrapping ErrCursor, ErrRemoved or ErrNoCursor. Stores only.
	Since string
	// IgnoreTrailer accepts a stream edited on purpose whose trailer no
	// longer matches; a stream cut short is still refused.
	IgnoreTrailer bool
	// NoCursor leaves the cursor out of the trailer Dump writes, so that
	// dumps of the same content in two stores are the same bytes.
	NoCursor bool
	// Stdin is what the location "-" reads (default os.Stdin).
	Stdin io.Reader

	// unmatched leaves the filter's names that a source lacks to the
	// caller (Diff: a name is missing only when neither side holds it).
	unmatched bool
}

// ErrLiveDelta is returned for a delta (ReadOptions.Since) that would
// leave tombstones out (Filter.Live): deletes travel as tombstones, and a
// copy brought up to date without them would keep what was deleted.
var ErrLiveDelta = fmt.Errorf("%w: a delta without tombstones (live) would carry no deletes: a copy brought up to date with it would keep every record deleted since its cursor", ErrFilter)

// ErrNoMatch is wrapped when a filter names a collection or stream that
// does not exist: a typo must not pass for an empty backup.
var ErrNoMatch = source.ErrNoMatch

// Source is a store (one consistent, read-only snapshot of it) or a stream
// (a file, a pipe or stdin), open for reading once.
type Source struct {
	src      *source.Source
	borrowed bool // another Source owns src and closes it
}

// OpenSource opens loc for reading.
func OpenSource(ctx context.Context, loc string, opt ReadOptions) (_ *Source, err error) {
	defer ofContext(ctx, &err)
	if err := opt.Filter.Check(); err != nil {
		return nil, err
	}
	if opt.Filter.Live && opt.Since != "" {
		// A delta carries a delete as its tombstone: without them, a copy
		// brought up to date with it keeps every record deleted since.
		return nil, ErrLiveDelta
	}
	f := opt.Filter.adapter()
	// A cursor persist-seal marked reads as its dump's: the store does not
	// know what a filter downstream left out, and the delta is marked again
	// only if it is sealed too (checkChain holds the chain to one or the
	// other).
	f.Since = adapters.Unsealed(opt.Since)
	src, err := source.Open(ctx, loc, source.Options{
		Store: opt.Store, StreamStore: opt.StreamStore, Filter: f, IgnoreTrailer: opt.IgnoreTrailer, NoCursor: opt.NoCursor, Stdin: opt.Stdin,
		Unmatched: opt.unmatched,
	})
	if err != nil {
		return nil, err
	}
	return &Source{src: src}, nil
}

// Store is the store's name; for a stream, its header's (may be empty).
func (s *Source) Store() string { return s.src.Store }

// Missing is what the filter named and a delta read to its end did not
// hold, each as `collection "c"` or `stream "s"`: a delta holds only what
// changed, so its lack is no error, but may be a typo.
func (s *Source) Missing() []string { return s.src.Missing() }

// Location is the location read, password masked.
func (s *Source) Location() string { return s.src.Loc.String() }

// IsStore reports whether the source is a database, not a stream.
func (s *Source) IsStore() bool { return s.src.IsStore() }

// Counts says how many records and events the source will yield: exact for
// a store; for a stream, its header's counts (known is false without them).
func (s *Source) Counts(ctx context.Context) (records, events int64, known bool, err error) {
	defer ofContext(ctx, &err)
	return s.src.Counts(ctx)
}

// Cursor is where the source stands in its store's history: what a later
// read passes as ReadOptions.Since to get only what changed after this one.
// A store whose schema cannot tell (version 1: see Upgrade) gives an error
// wrapping ErrNoCursor; a stream gives its trailer's cursor once read to the
// end ("" before).
func (s *Source) Cursor(ctx context.Context) (_ string, err error) {
	defer ofContext(ctx, &err)
	return s.src.Cursor(ctx)
}

// Close releases the snapshot, the database and the file.
func (s *Source) Close() error {
	if s.borrowed {
		return nil
	}
	return s.src.Close()
}

// each calls fn with each item and the digest of its canonical line,
// reporting progress.
func (s *Source) each(ctx context.Context, progress func(Progress), fn func(*record.Item, [32]byte) error) error {
	total := int64(-1)
	if progress != nil {
		if r, e, ok, err := s.Counts(ctx); err != nil {
			return err
		} else if ok {
			total = r + e
		}
	}
	var done int64
	return s.src.Each(ctx, func(it *record.Item, digest [32]byte) error {
		if progress != nil {
			done++
			progress(Progress{Completed: done, Total: total})
		}
		return fn(it, digest)
	})
}

// openSources opens a and b, closing the first when the second fails.
func openSources(ctx context.Context, a, b string, opt ReadOptions) (*Source, *Source, error) {
	if a == b && a == "-" {
		return nil, nil, errors.New("only one side can be standard input (-)")
	}
	if location.StdinName(a) && location.StdinName(b) && (a == b || descriptor0(opt.Stdin)) {
		return nil, nil, fmt.Errorf("only one side can be standard input: %s and %s both name it", a, b)
	}
	sa, err := OpenSource(ctx, a, opt)
	if err != nil {
		return nil, nil, err
	}
	sb, err := OpenSource(ctx, b, opt)
	if err != nil {
		sa.Close()
		return nil, nil, err
	}
	return sa, sb, nil
}

// descriptor0 reports whether in, what "-" reads, is this process's
// standard input (the default, or a file of the same pipe or file), which
// /dev/stdin names too.
func descriptor0(in io.Reader) bool {
	f, ok := in.(*os.File)
	if in == nil || f == os.Stdin {
		return true
	}
	if !ok {
		return false
	}
	a, aerr := f.Stat()
	b, berr := os.Stdin.Stat()
	return aerr == nil && berr == nil && os.SameFile(a, b)
}

// describe names an item for a message.
func describe(it *record.Item) string { return source.Describe(it) }
