package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// Sentinels of reading and loading a stream, for errors.Is.
var (
	// ErrNoInput: a load was given no bytes at all. An upstream that died
	// must not look like a successful load of nothing; a stream with a
	// header, no items and a trailer is a valid empty stream.
	ErrNoInput = source.ErrNoInput
	// ErrTrailer: the stream's trailer does not match its lines (it was
	// edited, or damaged).
	ErrTrailer = record.ErrTrailer
	// ErrTruncated: the stream has a header but ends without a trailer.
	ErrTruncated = record.ErrTruncated
	// ErrRead: the stream's bytes could not be read past a line (a
	// compressed stream cut short or damaged, a file that failed).
	ErrRead = record.ErrRead
	// ErrPlacement: a line out of place, such as one after the trailer (an
	// empty line, a second stream joined on).
	ErrPlacement = record.ErrPlacement
	// ErrHeader is wrapped with ErrTrailer when the stream's header counts
	// other items than its trailer, which the items match: the header was
	// spliced on from another stream, or edited.
	ErrHeader = record.ErrHeader
	// ErrRejected: lines were set aside (LoadOptions.Rejects), or, without
	// a rejects writer, the load stopped at one.
	ErrRejected = load.ErrRejected
	// ErrFrame: the stream's header or trailer could not be read (an
	// unknown field, a byte order mark before it); it is never set aside
	// as a bad line, so the load stops there.
	ErrFrame = load.ErrFrame
	// ErrConflict: an item with the store's version or seq but other content.
	ErrConflict = load.ErrConflict
	// ErrPatch: a patch stream given to a reader (Dump, Sum, Diff…); a
	// patch is loaded into the store it repairs.
	ErrPatch = record.ErrPatch
	// ErrPatchTarget: a patch made for another state of the store.
	ErrPatchTarget = load.ErrPatchTarget
	// ErrGaveUp: a batch kept failing for a transient reason (a lost
	// connection, a server down) for all of LoadOptions.RetryFor.
	ErrGaveUp = load.ErrGaveUp
	// ErrRepeated: a stream given to replace a store names one item (a
	// record's collection and key, an event's stream and seq) on more than
	// one line; nothing was written.
	ErrRepeated = load.ErrRepeated
	// ErrLocation: a location that cannot be parsed or opened as asked.
	ErrLocation = location.ErrLocation
	// ErrStoreChoice: the location does not say which of its stores is
	// meant (it holds several), or holds none to read.
	ErrStoreChoice = location.ErrStore
)

// LoadMode says what a load does with what the store already holds.
type LoadMode int

const (
	// Merge merges by version (docs/persist-load.md): newer items are
	// written, older ones skipped as stale, identical ones left alone.
	Merge LoadMode = iota
	// Replace makes the store's content exactly the stream's, atomically.
	Replace
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Store is the store to load into, as the location's #NAME does. With
	// neither, the store is the only one the database holds; in a database
	// holding none yet, the stream header's store, else DefaultStore.
	Store string
	// Mode is Merge (the default) or Replace.
	Mode LoadMode
	// Atomic loads everything in one transaction: all or nothing.
	Atomic bool
	// BatchSize is the number of items per transaction (0: 5000).
	BatchSize int
	// RetryFor is how long a batch is retried after a transient failure (a
	// lost connection, a server restarting or failing over, a busy
	// database), from its first: 0: two minutes; < 0: no retries.
	RetryFor time.Duration
	// Retries caps the retries of one batch (0: no cap but RetryFor's;
	// < 0: no retries).
	Retries int
	// OnRetry, when not nil, hears of each retry before its wait; batches
	// written at once call it concurrently.
	OnRetry func(Retry)
	// Rejects receives one JSON object per line the store cannot take
	// ({"line":…,"reason":…,"raw":…}) and the load goes on; nil stops the
	// load at the first such line.
	Rejects io.Writer
	// IgnoreTrailer accepts a stream edited on purpose whose trailer no
	// longer matches; a stream cut short is still refused.
	IgnoreTrailer bool
	// IgnoreSince loads a delta (a stream whose header has a since) even
	// when it does not follow the last dump of its store loaded into this
	// one (ErrChain).
	IgnoreSince bool
	// NoVerify skips reading back each batch before it commits.
	NoVerify bool
	// OnProgress is called after each committed batch; Total is the
	// header's count of items, or -1.
	OnProgress func(Progress)
	// Claim, when not nil, is given the identity of the store the load
	// writes once it is known, before anything is written: its database's
	// as the database tells it (one however its location is spelt) and
	// the store's name. An error from it stops the load. A database the
	// load makes has an identity no other store shares. (Migrate's copy
	// of a whole store into a new file, which can be no other store, does
	// not call it.)
	Claim func(store string) error
}

// Retry is one retry of a batch after a transient failure.
type Retry struct {
	First, Last int64         // the batch's lines
	Attempt     int           // the attempt the wait leads to: 2 for the first retry
	Wait        time.Duration // before it; 0: once the batch before has committed
	Left        time.Duration // of the batch's RetryFor after the wait
	Err         error         // why, in plain words
}

// LoadResult says what a load did, line by line.
type LoadResult struct {
	Target string // the location loaded into, password masked
	Store  string // the store loaded into
	// StreamStore is the store the stream's header names ("" where it
	// has no header, or names none).
	StreamStore string

	Lines     int64 // item lines read, rejected ones included
	Written   int64 // records written
	Unchanged int64 // records the store already held, identical
	Stale     int64 // records the store holds in a newer version (left alone)
	// FirstStale is the line of the first of them (0: none).
	FirstStale int64
	// Chained: the stream was a delta that followed the last dump of its
	// store loaded here. A stale record in it (Stale) is one the store
	// holds newer than its source had it at the delta's end: loaded ahead
	// from a later dump of the source, or written outside the chain.
	Chained   bool
	Conflicts int64 // same version or seq, other content (also in Rejects)
	Rejects   int64 // lines set aside, or the one the load stopped at

	Events          int64 // events written
	EventsUnchanged int64 // events the store already held, identical
	Removed         int64 // items a patch removed
	Retries         int64 // batch attempts repeated after a transient failure
	Batches         int64 // batches committed

	// Appended counts the events written without a seq of their own, after
	// their stream's last (also in Events): loading the same lines again
	// appends them again. AppendedFirst and AppendedLast are the lines of
	// the first and the last.
	Appended, AppendedFirst, AppendedLast int64

	// PatchApplied: the stream was a patch whose result the store holds
	// already; it was read whole and nothing was written.
	PatchApplied bool

	// Patch: the stream was a patch, applied in one transaction (nothing
	// is written unless all of it is).
	Patch bool

	// LoadedAlready: the stream was the last delta loaded into the store
	// (it ends at the cursor the store noted); it was read whole (Lines
	// counts it) and nothing was written.
	LoadedAlready bool

	// Made: the load made the database, a file that did not exist, under
	// a name of its own beside it, and put it in place once loaded: a load
	// that fails leaves no file, and its counts but Lines and Rejects are 0.
	Made bool

	// Whole: the stream was read to its end, and every line not set aside
	// (Rejects) is committed; the error, if any, is ErrRejected.
	Whole bool

	Elapsed time.Duration
}

func loadResult(target, store string, st load.Stats, streamStore string) LoadResult {
	return LoadResult{
		Target: target, Store: store, StreamStore: streamStore,
		Lines: st.Lines, Written: st.Written, Unchanged: st.Unchanged, Stale: st.Stale, FirstStale: st.FirstStale,
		Conflicts: st.Conflicts, Rejects: st.Rejects, Events: st.Events, EventsUnchanged: st.EventsUnchanged,
		Removed: st.Removed, Retries: st.Retries, Batches: st.Batches, Elapsed: st.Elapsed,
		Appended: st.Appended, AppendedFirst: st.AppendedFirst, AppendedLast: st.AppendedLast,
		PatchApplied: st.Applied, Whole: st.Done,
	}
}

// Load reads a persist.v1 stream (compressed or not; a patch stream too)
// from r and merges it into the store at dst (docs/persist-load.md): in
// batches, each one transaction, read back before it commits, retried after
// transient failures. A merge load that stops keeps the batches committed
// before, and loading the same stream again finishes the job.
//
// The result is returned even with an error: it says how far the load got.
func Load(ctx context.Context, r io.Reader, dst string, opt LoadOptions) (_ LoadResult, err error) {
	defer ofContext(ctx, &err)
	start := time.Now()
	res := LoadResult{Target: location.Redact(dst)}
	rd, err := record.NewReader(r, record.ReaderOptions{IgnoreTrailer: opt.IgnoreTrailer, AllowPatch: true})
	if err != nil {
		return res, err
	}
	var reading <-chan struct{}
	defer func() { closeWhenRead(rd, reading) }()
	h, err := loadHead(rd, dst, opt)
	if err != nil {
		return res, err
	}
	if h != nil {
		res.StreamStore = h.Store
	}
	w, err := openWriter(ctx, dst, true)
	if err != nil {
		return res, err
	}
	store, err := w.loadStore(ctx, h, opt)
	if gap := (*chainGap)(nil); errors.As(err, &gap) {
		var lines int64
		if lines, err = gap.settle(rd, !opt.IgnoreTrailer); err == nil {
			// Loaded already: nothing to write, and the chain stands.
			// Every line was read, and none set aside.
			res.Store, res.LoadedAlready, res.Lines, res.Whole = gap.store, true, lines, true
			res.Elapsed = time.Since(start)
			return res, w.close()
		}
	}
	if err == nil {
		err = w.claim(ctx, store, opt.Claim)
	}
	if err != nil {
		return res, w.fail(err, 0)
	}
	res.Store = store
	var in load.Input = rd
	if opt.Mode == Replace {
		in = wholeStore{rd, dst, opt.Store}
	}
	lo := opt.loadOptions(h)
	lo.Reading = func(done <-chan struct{}) { reading = done }
	st, err := load.Load(ctx, w.a, store, in, lo)
	res = loadResult(res.Target, store, st, res.StreamStore)
	res.Patch = h != nil && h.Patch
	res.Made = w.aside != ""
	res.Chained = w.chained
	if w.chained {
		err = diverged(w.others, err)
	}
	if err == nil {
		err = w.loaded(ctx, store, h, rd.Trailer(), opt, st.Batches)
	}
	return w.finish(res, err, st, dst)
}

// finish ends a load: a load that is whole, or whole but for the lines it
// set aside (ErrRejected) or the noting of its cursor, closes the database
// and keeps what it wrote (a database made aside is put in place); any
// other fails it.
func (w *writer) finish(res LoadResult, err error, st load.Stats, dst string) (LoadResult, error) {
	written := st.Written + st.Events + st.Removed
	var u *unnoted
	whole := err == nil || (st.Done && written > 0 && errors.Is(err, ErrRejected)) || errors.As(err, &u)
	if err != nil {
		err = location.ScrubError(err, dst)
	}
	if !whole {
		return res.lost(), w.fail(err, written)
	}
	if cerr := w.close(); cerr != nil {
		return res.lost(), cerr
	}
	return res, err
}

// closeWhenRead closes rd once nothing reads it (reading closed, or nil):
// a load that stopped early may have left a read under way on a stalled
// pipe, which must not find its reader closed under it.
func closeWhenRead(rd *record.Reader, reading <-chan struct{}) {
	if reading == nil {
		rd.Close()
		return
	}
	select {
	case <-reading:
		rd.Close()
	default:
		go func() {
			<-reading
			rd.Close()
		}()
	}
}

// lost is r after a load that failed: a database it made is gone, and
// with it what was written and what its store was found to hold (the
// lines read and those set aside stay counted).
func (r LoadResult) lost() LoadResult {
	if r.Made {
		r.Written, r.Events, r.Removed, r.Batches, r.Appended = 0, 0, 0, 0, 0
		r.Unchanged, r.Stale, r.Conflicts, r.EventsUnchanged = 0, 0, 0, 0
	}
	return r
}

// loadHead reads the stream's header, the first line: it may name the
// store, and says whether the stream is a delta.
func loadHead(rd *record.Reader, dst string, opt LoadOptions) (*record.Header, error) {
	h := rd.Head()
	if err := source.Started(rd); err != nil {
		return nil, err
	}
	if h != nil && h.Patch && opt.IgnoreTrailer {
		// A patch is made to turn one state of a store into another: an
		// edited one would leave the store in neither, its versions A's.
		return nil, hint.With(fmt.Errorf("%w: a patch is applied exactly as persist-diff made it: a trailer that no longer matches is never excused for one, which would leave the store in neither state", ErrPatchTarget),
			"make the patch again, from the store as it should be: persist-diff --patch GOOD STORE | persist-load STORE")
	}
	if opt.Mode == Replace {
		var le *record.LineError
		if err := rd.HeadErr(); h == nil && errors.As(err, &le) && record.CauseNamed(le.Err) {
			// The first line is there, and its error says what keeps it
			// from being read (a byte order mark, lines ended by \r):
			// "no header" would send the stream to persist-seal, which
			// refuses the same line.
			return nil, err
		}
		return h, replaceable(h, dst, opt.Store)
	}
	return h, nil
}

// replaceable refuses, by its header, a stream that cannot replace a store:
// one without a header (unframed), and a delta, which holds what changed,
// not the store: replacing the store with it would drop everything else,
// and say nothing.
func replaceable(h *record.Header, dst, store string) error {
	if err := unframed(h, dst, store); err != nil {
		return err
	}
	if h.Since != "" {
		return hint.With(fmt.Errorf("%w: a delta (its header has since) cannot replace a store: it holds only what changed", ErrChain),
			"replace the store with the full dump, then merge each delta after it")
	}
	return nil
}

// loadStore picks the store a load writes, and checks that a delta
// follows the last dump of its store loaded there.
func (w *writer) loadStore(ctx context.Context, h *record.Header, opt LoadOptions) (string, error) {
	headerStore := ""
	if h != nil {
		headerStore = h.Store
	}
	store, err := w.store(ctx, opt.Store, headerStore)
	if err != nil {
		return "", err
	}
	if otherStore(h, store, opt.Store, w.loc) {
		// A dump of one store written into another, picked only as the one
		// store there, would mix two stores' data (or, replacing, wipe one)
		// without a word: which is meant is the user's to say.
		verb, to := "go into", "merge it into"
		if opt.Mode == Replace {
			verb, to = "replace", "replace"
		}
		err := hint.With(fmt.Errorf("%w: the stream is a dump of store %q, and would %s store %q, the only store in %s",
			ErrStoreChoice, h.Store, verb, store, w.loc), "name the store to %s: %s, or load into %s to make store %q beside it",
			to, location.NamedForShell(w.loc.Raw, store), location.NamedForShell(w.loc.Raw, h.Store), h.Store)
		if location.HasPassword(w.loc.Raw) {
			err = hint.With(err, "the password is not shown: give it with PGPASSWORD or ~/.pgpass")
		}
		return "", err
	}
	if !opt.IgnoreSince {
		if w.chained, w.others, err = checkChain(ctx, w.a, store, h); err != nil {
			return "", err
		}
	}
	return store, nil
}

// loaded finishes a load that read its stream whole: the store is made
// even for a stream without items (a valid empty stream loads as an empty
// store, listed and dumped like any other), not before, so that a load
// that fails makes no store (a batch that commits makes it, in the same
// transaction); and the stream's cursor is noted for the next delta.
func (w *writer) loaded(ctx context.Context, store string, h *record.Header, t *record.Trailer, opt LoadOptions, batches int64) error {
	if batches == 0 {
		// A committed batch made the store already.
		if err := w.again(ctx, func() error { return createStore(ctx, w.a, w.loc, store) }); err != nil {
			return err
		}
	}
	if opt.IgnoreTrailer || h == nil {
		// Only a stream with its header says whether it is a whole dump
		// or a delta: a delta whose header was cut must not pass for a
		// whole dump, and let the deltas after it in.
		return nil
	}
	return w.again(ctx, func() error { return recordChain(ctx, w.a, store, t, !opt.NoVerify) })
}

// again runs fn, and again after a failure the database says is passing
// (a connection the server ended while the batches were written), a few
// times: the stream is loaded, and must not be reported as failed for a
// connection lost before this last small write.
func (w *writer) again(ctx context.Context, fn func() error) error {
	var err error
	for n := range 5 {
		if err = fn(); err == nil || !w.a.Retryable(err) {
			return err
		}
		if backoff.Sleep(ctx, backoff.Delay(100*time.Millisecond, time.Second, n)) != nil {
			return err
		}
	}
	return err
}

// otherStore reports whether the load goes to another store than the one
// its stream's header names, only because no store was asked for and the
// database holds that one alone. A patch is made for its target, whatever
// the name of the store it was made from.
func otherStore(h *record.Header, store, asked string, l location.Location) bool {
	return h != nil && !h.Patch && h.Store != "" && h.Store != store && asked == "" && l.Store == ""
}

func (o LoadOptions) loadOptions(h *record.Header) load.Options {
	lo := load.Options{
		BatchSize: o.BatchSize,
		Atomic:    o.Atomic,
		RetryFor:  o.RetryFor,
		Retries:   o.Retries,
		Rejects:   o.Rejects,
		NoVerify:  o.NoVerify,
	}
	if o.OnRetry != nil {
		lo.OnRetry = func(r load.Retry) { o.OnRetry(Retry(r)) }
	}
	if o.Mode == Replace {
		lo.Mode = load.Replace
	}
	total := int64(-1)
	if h != nil && h.Records >= 0 && h.Events >= 0 {
		total = h.Records + h.Events
	}
	if o.OnProgress != nil {
		lo.OnProgress = func(st load.Stats) { o.OnProgress(Progress{Completed: st.Lines, Total: total}) }
	}
	return lo
}

// writer is a database opened for writing by a command that must leave no
// empty database file behind when it fails.
type writer struct {
	loc     location.Location
	a       adapters.Adapter
	created string // the database file this open made, if any
	// aside is the scratch database a load makes instead of loc's
	// (openAside), put in place by close.
	aside string
	// chained: the stream is a delta that follows its chain into the
	// store, which has loaded from others of them besides (checkChain).
	chained bool
	others  int
}

// openWriter parses a location that must name a database and opens it for
// writing. Where aside is asked for and the database is one of files yet
// to be made, it is made aside and appears, whole, only at close.
func openWriter(ctx context.Context, loc string, aside bool) (*writer, error) {
	l, err := parseTarget(loc)
	if err != nil {
		return nil, err
	}
	w := &writer{loc: l}
	if aside && newFiles(l) {
		ok, err := w.openAside(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			return w, nil
		}
	}
	if l.Driver.Sniff != nil && !exists(l.Target) {
		w.created = l.Target
	}
	if w.a, err = location.Open(ctx, l, false); err != nil {
		w.removeCreated()
		return nil, err
	}
	return w, nil
}

// parseTarget parses a location that must name a database to write.
func parseTarget(loc string) (location.Location, error) {
	l, err := location.Parse(loc, true)
	if err == nil && !l.IsStore() {
		err = fmt.Errorf("%w: %s is a stream, not a store (use %s)", location.ErrLocation, l, storeForms())
	}
	return l, err
}

// store decides the store to write: the location's #NAME or flag, else the
// only store the database holds, else the stream header's store, else (in
// a database of none) DefaultStore. The same rule serves Open, Load,
// Migrate and the tools.
func (w *writer) store(ctx context.Context, flag, header string) (string, error) {
	return location.Store(ctx, w.a, w.loc, flag, header, DefaultStore)
}

// fail closes the database after err, removing a database file this
// command created when nothing was written into it.
func (w *writer) fail(err error, written int64) error {
	w.a.Close()
	if w.aside != "" {
		err = w.dropAside(err, false)
	}
	if written == 0 {
		w.removeCreated()
	}
	return err
}

func (w *writer) close() error {
	if w.aside != "" {
		return w.publishAside()
	}
	if err := w.a.Close(); err != nil {
		return fmt.Errorf("%s: %w", w.loc, err)
	}
	return nil
}

func (w *writer) removeCreated() {
	if w.created == "" {
		return
	}
	removeFiles(w.loc.Driver, w.created)
}

// storeForms lists the location forms of a store.
func storeForms() string {
	var forms []string
	for _, s := range adapters.Schemes() {
		forms = append(forms, s+":…")
	}
	return strings.Join(forms, " or ")
}

// exists reports whether there is anything at path: a link too, even one
// to nothing, which is the user's and no file a load made.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func removeIfExists(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return // nothing more to do: the error that brought us here is what the caller reports
	}
}
