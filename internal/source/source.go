// Package source opens what the reading tools read — a store in a
// database, or a stream in a file or on stdin — as one thing that yields
// items with their canonical lines.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// Options tune Open.
type Options struct {
	Store         string          // --store
	StreamStore   bool            // Store is asked of a stream too
	Filter        adapters.Filter // what to yield
	IgnoreTrailer bool            // accept a stream edited on purpose
	NoCursor      bool            // WriteStream leaves the cursor out of the trailer
	Stdin         io.Reader       // for "-"
	// Unmatched notes the filter's names the source does not hold
	// (Missing) instead of failing: a diff judges them over both sides.
	Unmatched bool
}

// Source is an open store snapshot or stream.
type Source struct {
	Loc   location.Location
	Store string // the store's name; for a stream, its header's (may be empty)

	opt    Options
	a      adapters.Adapter
	snap   adapters.Snapshot
	file   io.Closer
	reader *record.Reader
	line   []byte
	// The names a stream held, for a filter's check.
	seen     map[string]bool
	lastSeen string
	missing  []string // with Options.Unmatched: what the filter named and the source lacks

	cursor    string // the snapshot's, once asked for
	cursorErr error

	regular os.FileInfo // a stream's file, when it is a regular one

	// read: a stream's reading began, which no second read may take up
	// where it stopped; closed: Close ran.
	read, closed bool
}

// ErrClosed: the source was closed.
var ErrClosed = errors.New("store closed")

// ErrReadAgain: a stream was asked for its items a second time. It is
// read once, and a second read would take up where the first stopped:
// a dump or a sum of the rest, with no error.
var ErrReadAgain = errors.New("a stream is read once, and this one was read already (in whole or in part): open it again")

// begin starts a read of the items: refused after Close, and for a
// stream, after a read began.
func (s *Source) begin() error {
	switch {
	case s.closed:
		return s.wrap(ErrClosed)
	case s.snap != nil:
		return nil
	case s.read:
		return s.wrap(ErrReadAgain)
	}
	s.read = true
	return nil
}

// open refuses a question of a closed source.
func (s *Source) open() error {
	if s.closed {
		return s.wrap(ErrClosed)
	}
	return nil
}

// maxWorkers is the most workers a stream is read with: past it, the
// reading of lines on one goroutine is what limits the rate anyway.
const maxWorkers = 8

// Open opens raw for reading. A store is read in one consistent snapshot,
// read-only.
func Open(ctx context.Context, raw string, opt Options) (*Source, error) {
	loc, err := location.Parse(raw, false)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, opt)
}

// OpenLocation is Open of a location already parsed.
func OpenLocation(ctx context.Context, loc location.Location, opt Options) (*Source, error) {
	s := &Source{Loc: loc, opt: opt}
	if loc.IsStore() {
		if err := s.openStore(ctx); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	var in io.Reader
	switch loc.Kind {
	case location.Stdin:
		in, s.regular = stdin(opt)
	default:
		f, err := OpenFile(ctx, loc.Target)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
		s.file, in = f, f
		s.regular, _ = os.Stat(loc.Target)
	}
	// Lines are parsed and hashed on every core: a stream's reading is
	// otherwise one core's work, and the sum of digests does not care in
	// which order they are made. Up to maxWorkers: the chunks in flight
	// grow with the workers, and memory must not grow with the machine.
	r, err := record.NewReader(in, record.ReaderOptions{IgnoreTrailer: opt.IgnoreTrailer, Workers: min(runtime.GOMAXPROCS(0), maxWorkers)})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	s.reader = r
	// The header comes with the first line: read it now, so that the
	// store's name and counts are known before the first item is asked for.
	if h := r.Head(); h != nil {
		s.Store = h.Store
	}
	if err := Started(r); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	if err := s.streamStore(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// stdin is what "-" reads, and its file's description when it is a file.
func stdin(opt Options) (io.Reader, os.FileInfo) {
	if opt.Stdin == nil {
		fi, _ := os.Stdin.Stat()
		return os.Stdin, fi
	}
	if f, ok := opt.Stdin.(*os.File); ok {
		fi, _ := f.Stat()
		return f, fi
	}
	return opt.Stdin, nil
}

// streamStore refuses a stream that is not a dump of the store asked of
// it (its location's #NAME, or Store with StreamStore): a sum or diff that
// went on would prove something of another store than the one asked for.
func (s *Source) streamStore() error {
	want, how := s.Loc.Store, "FILE#NAME"
	if want == "" && s.opt.StreamStore {
		want, how = s.opt.Store, "the store"
	}
	if want == "" || want == s.Store {
		return nil
	}
	if s.Store == "" {
		return hint.With(fmt.Errorf("%s: store %q was asked for, and the stream names none (no header, or one without a store)", s.Loc, want),
			"leave %s out for a stream without a header, or read the database the stream was dumped from", how)
	}
	return hint.With(fmt.Errorf("%s: store %q was asked for, and the stream is a dump of store %q", s.Loc, want, s.Store),
		"leave %s out to read the stream as it is, or read a stream of store %q", how, want)
}

func (s *Source) openStore(ctx context.Context) error {
	a, err := location.Open(ctx, s.Loc, true)
	if err != nil {
		return err
	}
	s.a = a
	store, err := location.Store(ctx, a, s.Loc, s.opt.Store, "", "")
	if err != nil {
		return err
	}
	s.Store = store
	snap, err := a.Snapshot(ctx, store)
	if errors.Is(err, adapters.ErrNoStore) {
		names, _ := a.Stores(ctx)
		if len(names) == 0 {
			return fmt.Errorf("%s: %w: it holds no store at all (Persist has written nothing there, or its tables are out of reach: another database or schema)", s.Loc, err)
		}
		return fmt.Errorf("%s: %w; it holds %s", s.Loc, err, strings.Join(names, ", "))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.Loc, location.ScrubError(err, s.Loc.Raw))
	}
	s.snap = snap
	if err := adapters.SameFilter(s.opt.Filter.Since, s.opt.Filter); err != nil {
		return fmt.Errorf("%s: %w", s.Loc, err)
	}
	return s.checkFilter(ctx)
}

// Header is a stream's header (nil for a store, or a stream without one).
func (s *Source) Header() *record.Header {
	if s.reader == nil {
		return nil
	}
	return s.reader.Header()
}

// Cursor is where the source stands in its store's history, for a later
// delta's since: a store snapshot's cursor (an error wrapping
// adapters.ErrNoCursor when the store's schema cannot tell), or a stream's
// trailer's once the stream was read to its end ("" before, or without one).
func (s *Source) Cursor(ctx context.Context) (string, error) {
	if err := s.open(); err != nil {
		return "", err
	}
	if s.snap == nil {
		return s.streamCursor()
	}
	if s.cursor == "" && s.cursorErr == nil {
		s.cursor, s.cursorErr = s.snap.Cursor(ctx)
		if s.cursorErr == nil {
			// A filtered dump's cursor says so: a delta from it with
			// another filter would miss what this one left out.
			s.cursor, s.cursorErr = adapters.WithFilter(s.cursor, s.opt.Filter)
		}
		if s.cursorErr != nil {
			s.cursorErr = fmt.Errorf("%s: %w", s.Loc, location.ScrubError(s.cursorErr, s.Loc.Raw))
		}
	}
	return s.cursor, s.cursorErr
}

// streamCursor is a stream's trailer's cursor, as what is written of the
// stream can stand for: none without the header (nothing says whether the
// stream was a whole dump or a delta whose header was cut, which must not
// start a chain), and marked by the filter that left items out (edited).
func (s *Source) streamCursor() (string, error) {
	t, h := s.reader.Trailer(), s.reader.Header()
	if t == nil || h == nil {
		return "", nil
	}
	return s.edited(t.Cursor, "the trailer's cursor")
}

// edited is a stream's cursor (or since) c as the filter leaves it: a
// filter over a stream is a dump's filter after the fact (WithFilter).
func (s *Source) edited(c, what string) (string, error) {
	out, err := adapters.WithFilter(c, s.opt.Filter)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", s.Loc, what, err)
	}
	return out, nil
}

// Since is where a delta starts: a store's Since filter, carrying the
// dump's filter tag (a filtered delta of a whole store's cursor must not
// follow the whole dump, which the loader tells by it), or a stream's
// header's since, marked as edited where the filter leaves items out
// ("" for all of a store, or a stream that is not a delta).
func (s *Source) Since() (string, error) {
	if s.snap != nil {
		since, err := adapters.WithFilter(s.opt.Filter.Since, s.opt.Filter)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Loc, err)
		}
		return since, nil
	}
	if h := s.Header(); h != nil && h.Since != "" {
		return s.edited(h.Since, "the header's since")
	}
	return "", nil
}

// LiveDelta reports whether the source is a delta's stream (its header
// has a since) read without its tombstones (Filter.Live).
func (s *Source) LiveDelta() bool {
	h := s.Header()
	return s.opt.Filter.Live && h != nil && h.Since != ""
}

// trailerCursor is the cursor WriteStream's trailer carries: the source's;
// or, where it is left out (NoCursor) or there is none (a store that does
// not track changes), the mark that the stream holds part of its store
// (adapters.PartialCursor), without which a filtered dump would pass for a
// whole one and a replace or a patch delete what the filter left out.
func (s *Source) trailerCursor(ctx context.Context) (string, error) {
	tag := adapters.FilterTag(s.opt.Filter)
	if s.opt.NoCursor {
		if s.snap != nil {
			return adapters.PartialCursor("", tag), nil
		}
		c, err := s.streamCursor()
		return adapters.PartialCursor(c, tag), err
	}
	c, err := s.Cursor(ctx)
	switch {
	case errors.Is(err, adapters.ErrNoCursor):
		return adapters.PartialCursor("", tag), nil
	case err != nil:
		return "", err
	case c == "" && s.snap == nil && s.Header() != nil:
		// A framed stream without a cursor (one written before the mark,
		// or by hand): what the filter leaves of it is part of it.
		return adapters.PartialCursor("", tag), nil
	}
	return c, nil
}

// NoCursor reports whether WriteStream leaves the cursor out.
func (s *Source) NoCursor() bool { return s.opt.NoCursor }

// IsStore reports whether the source is a database snapshot.
func (s *Source) IsStore() bool { return s.snap != nil }

// Counts returns how many records and events Each will yield: exact for a
// store; for a stream, its header's counts (ok false without a header, or
// with a filter, which a header's counts do not know of).
func (s *Source) Counts(ctx context.Context) (records, events int64, ok bool, err error) {
	if err := s.open(); err != nil {
		return 0, 0, false, err
	}
	if s.snap != nil {
		r, e, err := s.snap.Count(ctx, s.opt.Filter)
		if err != nil {
			// The chain is kept: a refused Since is told apart by the caller.
			return 0, 0, false, fmt.Errorf("%s: %w", s.Loc, location.ScrubError(err, s.Loc.Raw))
		}
		return r, e, true, nil
	}
	h := s.reader.Header()
	if h == nil || h.Records < 0 || h.Events < 0 || !isZeroFilter(s.opt.Filter) {
		return 0, 0, false, nil
	}
	return h.Records, h.Events, true, nil
}

// isZeroFilter reports whether f yields everything.
func isZeroFilter(f adapters.Filter) bool {
	return f.Collections == nil && f.Streams == nil && !f.NoRecords && !f.NoEvents && !f.Live &&
		f.Keys == nil && f.FromSeq == 0 && f.Since == ""
}

// Each calls fn with every item that passes the filter and the digest of
// its canonical line (the item is reused after fn returns). A store yields
// dump order; a stream yields its own order. Errors name the source and,
// for a stream, the line.
func (s *Source) Each(ctx context.Context, fn func(it *record.Item, digest [32]byte) error) error {
	return s.items(ctx, func(it *record.Item) error {
		var d [32]byte
		if s.reader != nil {
			d = s.reader.Digest() // the reader has it already
		} else {
			d, s.line = record.ItemDigest(it, s.line)
		}
		return fn(it, d)
	})
}

// Items is Each without the digests, for a reader that only looks at the
// items (a store's lines would otherwise be written out and hashed).
func (s *Source) Items(ctx context.Context, fn func(it *record.Item) error) error {
	return s.items(ctx, fn)
}

// items calls fn with every item that passes the filter, made canonical.
func (s *Source) items(ctx context.Context, fn func(it *record.Item) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	if s.snap != nil {
		return s.storeItems(ctx, fn)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := s.reader.Next()
		if errors.Is(err, io.EOF) {
			return s.unmatched()
		}
		if err != nil {
			return s.wrap(err)
		}
		if !s.keep(it) {
			continue
		}
		if err := fn(it); err != nil {
			return err
		}
	}
}

// storeItems is items of a store. The database is read by a goroutine of
// its own (see Iterator): stepping rows on one core, formatting, hashing
// and writing lines on the other. Values come canonical from the adapter.
// Every reader checks the order a dump relies on, a sum too: a store
// whose address comes twice is one no dump can be made of.
func (s *Source) storeItems(ctx context.Context, fn func(it *record.Item) error) error {
	it := s.Iterator(ctx)
	defer it.Close()
	var order storeOrder
	for {
		item, err := it.Next()
		if errors.Is(err, io.EOF) {
			// A cancelled read must not pass for the whole store.
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		if err := order.check(item); err != nil {
			return s.wrap(err)
		}
		if err := fn(item); err != nil {
			return err
		}
	}
}

// Describe names an item for a message: record "c"/"k", event "s"/7.
func Describe(it *record.Item) string {
	if it.IsRecord() {
		return fmt.Sprintf("record %q/%q", it.Collection, it.Key)
	}
	return fmt.Sprintf("event %q/%d", it.Stream, it.Seq)
}

// wrap names the source; drivers do not echo passwords, and the location
// is printed redacted.
func (s *Source) wrap(err error) error {
	return fmt.Errorf("%s: %w", s.Loc, err)
}

// Keep applies a filter to one item, for sources that cannot filter at the
// database.
func Keep(f *adapters.Filter, it *record.Item) bool {
	if it.IsRecord() {
		if f.NoRecords || (f.Live && it.Deleted) || (f.Keys != nil && !slices.Contains(f.Keys, it.Key)) {
			return false
		}
		return f.Collections == nil || slices.Contains(f.Collections, it.Collection)
	}
	if f.NoEvents || it.Seq < f.FromSeq {
		return false
	}
	return f.Streams == nil || slices.Contains(f.Streams, it.Stream)
}

// Close releases the snapshot, the database and the file.
func (s *Source) Close() error {
	var errs []error
	if s.snap != nil {
		errs = append(errs, s.snap.Close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.a != nil {
		errs = append(errs, s.a.Close())
	}
	if s.file != nil {
		errs = append(errs, s.file.Close())
	}
	// A second Close finds nothing left to close.
	s.snap, s.reader, s.a, s.file, s.closed = nil, nil, nil, nil, true
	return errors.Join(errs...)
}

// WriteStream writes the source to w as a persist.v1 stream: h, each item's
// canonical line, and the trailer of what was written, with the source's
// cursor when it has one. onItem, when not nil, sees each item before its
// line is written, and may stop the stream.
func (s *Source) WriteStream(ctx context.Context, w io.Writer, h record.Header, onItem func(*record.Item) error) (records, events int64, sum record.Sum, err error) {
	sw, err := record.NewWriter(w, h)
	if err != nil {
		return 0, 0, sum, err
	}
	err = s.items(ctx, func(it *record.Item) error {
		if onItem != nil {
			if err := onItem(it); err != nil {
				return err
			}
		}
		if s.reader != nil && len(it.Value)+len(it.Data) < record.BigValue {
			// Built and hashed already.
			return sw.WriteHashed(s.reader.Canonical(), s.reader.Digest())
		}
		return sw.Write(it)
	})
	if err == nil {
		err = s.allWritten(sw, h)
	}
	if err == nil {
		var c string
		c, err = s.trailerCursor(ctx)
		sw.SetCursor(c)
	}
	if err == nil {
		err = sw.Close()
	}
	if err != nil {
		return 0, 0, sum, err
	}
	records, events, sum = sw.Stats()
	return records, events, sum, nil
}

// ErrReadInPart: a store yielded other counts of items than it counted in
// the same snapshot, before the first line: a damaged database can end a
// walk of its table early without an error.
var ErrReadInPart = errors.New("the store was read in part")

// allWritten refuses, before the trailer, a store's stream whose items are
// not as many as its header says: the header's counts and the items come
// from one snapshot, so they differ only where the database could not be
// read whole. A stream source's own header is its reader's to check.
func (s *Source) allWritten(sw *record.Writer, h record.Header) error {
	records, events, _ := sw.Stats()
	if s.snap == nil || h.Records < 0 || h.Events < 0 || records == h.Records && events == h.Events {
		return nil
	}
	return hint.With(fmt.Errorf("%s: %w: it yielded %d records and %d events, and counted %d and %d in the same snapshot",
		s.Loc, ErrReadInPart, records, events, h.Records, h.Events),
		"the database may be damaged: check it with its own tools before a dump of it is trusted, restore it from a backup "+
			"where they find damage, and dump it again")
}

// ErrStoreOrder is wrapped when a store yields its items out of dump order
// (or one address twice): its database orders keys another way than byte
// by byte, so a dump of it would not be one.
var ErrStoreOrder = errors.New("the store yields items out of dump order")

// storeOrder checks that a store's items come in dump order. A dump is
// written as the store yields it, and its readers (a diff, a delta's
// merge) rely on the order; the database's ORDER BY follows the key
// columns' collation, which a hand-made schema can change.
type storeOrder struct{ order record.Order }

func (o *storeOrder) check(it *record.Item) error {
	prev, c := o.order.Next(it)
	switch {
	case c == 0:
		table, key := "persist_records", "store, collection, key"
		if !it.IsRecord() {
			table, key = "persist_events", "store, stream, seq"
		}
		return hint.With(fmt.Errorf("%w: %s appears twice (has %s lost its primary key?)", ErrStoreOrder, Describe(it), table),
			"find the duplicates: SELECT %[2]s, count(*) FROM %[1]s GROUP BY %[2]s HAVING count(*) > 1; keep one row of each, "+
				"then put the primary key back (in PostgreSQL: ALTER TABLE %[1]s ADD PRIMARY KEY (%[2]s))", table, key)
	case c > 0:
		return hint.With(fmt.Errorf("%w: %s after %s (is a key column's collation not binary? was the table made outside Persist? "+
			"is the database damaged?)", ErrStoreOrder, Describe(it), Describe(&prev)),
			"make the key columns order bytes: in SQLite, declare them without COLLATE; in PostgreSQL, ALTER them to COLLATE \"C\"; "+
				"where they do, check the database with its own tools (in SQLite: PRAGMA integrity_check)")
	}
	return nil
}

// OpenFile opens a stream file for reading. A named pipe's open waits for a
// writer, which may never come: it is given up when ctx ends (the goroutine
// left behind closes the file if the open ever returns). So is a read that
// waits on a writer that keeps the pipe open and writes nothing: the
// command can then end its work (a load removes the database file it made)
// rather than be left at once when its grace runs out.
func OpenFile(ctx context.Context, path string) (io.ReadCloser, error) {
	if st, err := os.Stat(path); err != nil || st.Mode().IsRegular() {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	f, err := openPipe(ctx, path)
	if err != nil {
		return nil, err
	}
	// A pipe's reads wait in the poller, where a deadline ends them.
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	return &pipeFile{f: f, ctx: ctx, stop: stop}, nil
}

// pipeFile is a named pipe whose reads end when its context does. The file
// is a field, not embedded: io.Copy would take *os.File's WriteTo and read
// past Read.
type pipeFile struct {
	f    *os.File
	ctx  context.Context
	stop func() bool
}

// Read reads from the pipe; a read the context's end cut short says why
// (context.Canceled), not "i/o timeout", the deadline that ended it.
func (p *pipeFile) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && p.ctx.Err() != nil {
		err = fmt.Errorf("read %s: %w", p.f.Name(), context.Cause(p.ctx))
	}
	return n, err
}

// Close closes the pipe and lets go of the hook on its context, which a
// caller's long-lived context would otherwise keep.
func (p *pipeFile) Close() error {
	p.stop()
	return p.f.Close()
}

func openPipe(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Names lists a store's collections and streams with their counts; a stream
// source has none to list without reading it.
func (s *Source) Names(ctx context.Context) (collections, streams []adapters.NameCount, err error) {
	if err := s.open(); err != nil {
		return nil, nil, err
	}
	if s.snap == nil {
		return nil, nil, fmt.Errorf("%s: a stream lists no names: it is read once, from the start", s.Loc)
	}
	collections, streams, err = s.snap.Names(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.Loc, location.ScrubError(err, s.Loc.Raw))
	}
	return collections, streams, nil
}

// Copy copies the store whole into a new database file at target, by the
// adapter's own means (adapters.Copier); an error wrapping
// adapters.ErrNoCopy says it cannot, having written nothing: the source is
// a stream or filtered, or its adapter cannot copy this database.
func (s *Source) Copy(ctx context.Context, target string) error {
	c, ok := s.a.(adapters.Copier)
	switch {
	case s.closed:
		return s.wrap(ErrClosed)
	case s.snap == nil:
		return fmt.Errorf("%w: a stream, not a store", adapters.ErrNoCopy)
	case !isZeroFilter(s.opt.Filter):
		return fmt.Errorf("%w: a part of the store", adapters.ErrNoCopy)
	case !ok:
		return fmt.Errorf("%w: the %s adapter copies by items", adapters.ErrNoCopy, s.Loc.Adapter())
	}
	if err := c.Copy(ctx, s.snap, target); err != nil {
		return fmt.Errorf("%s: %w", s.Loc, location.ScrubError(err, s.Loc.Raw))
	}
	return nil
}

// Identity is the store's: its database's, as the database tells it
// (adapters.Adapter.Identity), and its name; "" for a stream.
func (s *Source) Identity(ctx context.Context) (string, error) {
	if s.a == nil || s.snap == nil {
		return "", nil
	}
	return StoreIdentity(ctx, s.a, s.Store)
}

// StoreIdentity is the identity of store in the database a is open on; ""
// while the database does not exist.
func StoreIdentity(ctx context.Context, a adapters.Adapter, store string) (string, error) {
	id, err := a.Identity(ctx)
	if err != nil || id == "" {
		return "", err
	}
	return id + "\x00" + store, nil
}

// SameFile reports whether s and o are streams read from one regular file,
// through any path or link, or as standard input.
func (s *Source) SameFile(o *Source) bool {
	return s.regular != nil && o.regular != nil && s.regular.Mode().IsRegular() && o.regular.Mode().IsRegular() &&
		os.SameFile(s.regular, o.regular)
}

// errHeld stops Holds' scan at the first record.
var errHeld = errors.New("held")

// Holds reports whether the store holds a record (a tombstone too) in
// collection: a read of the first one, where Names counts the whole store.
func (s *Source) Holds(ctx context.Context, collection string) (bool, error) {
	if err := s.open(); err != nil {
		return false, err
	}
	if s.snap == nil {
		return false, fmt.Errorf("%s: a stream holds no collection it has not read", s.Loc)
	}
	err := s.snap.Scan(ctx, adapters.Filter{Collections: []string{collection}, NoEvents: true}, func(*record.Item) error { return errHeld })
	switch {
	case errors.Is(err, errHeld):
		return true, nil
	case err != nil:
		return false, s.wrap(err)
	}
	return false, nil
}
