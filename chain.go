package persist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// ErrChain: a delta (a stream whose header has a since) that does not
// follow the last dump of its store loaded into this one: one in between is
// missing, or this one was loaded already, or no full dump came first.
var ErrChain = errors.New("delta out of sequence")

// chainHint is how to go on after ErrChain.
const chainHint = "load the full dump, then each delta in the order they were made; " +
	"to load this one anyway (a merge never overwrites a newer version), add --ignore-since"

// checkChain refuses a delta (a stream whose header has a since) unless
// the last stream of the same source store loaded whole into store ended
// at that very cursor: a delta that is missing, or loaded twice or out of
// order, would leave the store unlike its source without a word (a
// downstream that failed after persist-dump moved its cursor file, a file
// left out of a restore).
//
// others, for a delta that follows its chain (chained), is how many other
// sources store has loaded from: its copy then holds nothing newer than
// the delta, unless one of them brought it (diverged says so).
func checkChain(ctx context.Context, a adapters.Adapter, store string, h *record.Header) (chained bool, others int, err error) {
	if h == nil || h.Since == "" {
		return false, 0, nil
	}
	c, err := adapters.ParseCursor(h.Since)
	if err != nil {
		return false, 0, hint.With(fmt.Errorf("%w: the stream's header: since: %w", ErrChain, err), chainHint)
	}
	tx, err := a.Begin(ctx, store)
	if err != nil {
		return false, 0, err
	}
	defer tx.Rollback()
	last, err := tx.LoadedFrom(ctx, c.Source())
	switch {
	case err != nil:
		return false, 0, err
	case last == h.Since:
		n, err := tx.SourcesLoaded(ctx)
		return true, n - 1, err
	case last == "":
		return false, 0, hint.With(fmt.Errorf("%w: the stream is a delta (since %s), and store %s has loaded no dump of the store it comes from",
			ErrChain, h.Since, store), chainHint)
	}
	if lc, err := adapters.ParseCursor(last); err == nil && sameBase(lc, c) {
		return false, 0, editedChain(store, c, lc)
	}
	return false, 0, hint.With(&chainGap{store: store, since: h.Since, last: last}, chainHint)
}

// chainGap is checkChain's error for a delta that starts elsewhere than
// the last dump of its store loaded ended: a delta in between is missing,
// or this one was loaded already, which its trailer's cursor tells
// (settle).
type chainGap struct{ store, since, last string }

func (g *chainGap) Error() string {
	return fmt.Sprintf("%s: the stream is a delta since %s, but the last dump of its store loaded into store %s ended at %s: "+
		"a delta in between is missing, or this one was loaded already", ErrChain, g.since, g.store, g.last)
}

func (g *chainGap) Unwrap() error { return ErrChain }

// settle reads the rest of the delta, which nothing wrote, to tell the two
// cases by where it ends: at the cursor the store noted, it was loaded
// already (nil: a load is idempotent, and this one has nothing to do);
// elsewhere, deltas are missing between the two, or it is older than the
// last (a cursor does not say which of two comes first). Only a trailer
// the reader checked tells: with checked false (--ignore-trailer), or a
// stream that does not read whole (a bad line, a cut), or one without a
// cursor, g stands as it is. lines is how many item lines it read (a
// patch's removals too).
func (g *chainGap) settle(rd *record.Reader, checked bool) (lines int64, err error) {
	unsettled := hint.With(g, chainHint)
	if !checked {
		return 0, unsettled
	}
	for {
		if _, err := rd.Next(); err == io.EOF {
			break
		} else if err != nil {
			return lines, unsettled
		}
		lines++
	}
	t := rd.Trailer()
	switch {
	case t == nil || t.Cursor == "":
		return lines, unsettled
	case t.Cursor == g.last:
		return lines, nil
	}
	return lines, hint.With(fmt.Errorf("%w: the stream is a delta from %s to %s, but the last dump of its store loaded into store %s ended at %s: "+
		"deltas between the two are missing, or this one is older than the last loaded (and was loaded before it)",
		ErrChain, g.since, t.Cursor, g.store, g.last),
		"if deltas are missing, load them first, in order, from the one whose since is %s (--ignore-since would load this one "+
			"without them, and leave their changes out of this copy for good); if this one was loaded before the last, "+
			"there is nothing to do (a merge never overwrites a newer version: --ignore-since loads it again to no effect)", g.last)
}

// sameBase reports whether two cursors are the same place in their store's
// history, told apart only by what a filter made of the streams (a filter
// tag, a seal).
func sameBase(a, b adapters.Cursor) bool {
	a.Filter, a.Sealed, b.Filter, b.Sealed = "", false, "", false
	return a == b
}

// editedChain is ErrChain for a delta that follows the last stream loaded
// but was filtered otherwise: the streams of a chain are all whole, all
// filtered by persist-dump alike, or all edited on their way (persist-seal,
// persist-dump of a stream with a filter), or the copy lacks what a filter
// left out of one of them, with no word.
func editedChain(store string, since, lc adapters.Cursor) error {
	was := editing(lc, "a dump")
	if since.Filter != "" && lc.Filter != "" && since.Filter != lc.Filter {
		was += " with another filter"
	}
	err := fmt.Errorf("%w: the stream is %s, but the last dump of its store loaded into store %s was %s: "+
		"loaded on top of it, the copy would lack what a filter left out", ErrChain, editing(since, "a delta"), store, was)
	switch {
	case since.Sealed && !lc.Sealed:
		// Not "load it unfiltered": the filter may be what keeps data out
		// of this copy.
		return hint.With(err, "if the streams before it went through the same filter and persist-seal (an earlier release did not mark them), "+
			"add --ignore-since to load this one: the chain goes on from it (a delta piped from persist-dump --cursor-file, whose file "+
			"has moved on since, is made again with persist-dump --since %s, through the same filter and persist-seal); otherwise, "+
			"to keep a filtered copy, load a full dump through the same filter and persist-seal first, then each delta the same way", lc)
	case lc.Sealed && since.Filter != "":
		return hint.With(err, "dump the delta without --collection, --stream, --records, --events and --live, and pass it through "+
			"the same filter and persist-seal as the streams before it; or add --ignore-since to load this one anyway")
	case lc.Sealed:
		return hint.With(err, "pass this delta through the same filter and persist-seal as the streams before it; to copy the whole store "+
			"from now on, load a full dump (persist-dump without --since) first; or add --ignore-since to load this one anyway")
	}
	return hint.With(err, "dump each delta with the --collection, --stream, --records, --events and --live of the dump loaded before it, "+
		"from its --cursor-file; to change the filter, load a full dump with the new one first (it starts a new chain); "+
		"or add --ignore-since to load this one anyway")
}

// editing says what a filter made of the stream a cursor ends or starts.
func editing(c adapters.Cursor, what string) string {
	switch {
	case c.Sealed:
		return what + " edited on its way (persist-seal, or persist-dump of a stream with a filter): it may lack items of its dump"
	case c.Filter != "":
		return what + " filtered by persist-dump (--collection, --stream, --records, --events or --live)"
	}
	return what + " not marked as edited or filtered"
}

// ErrDiverged: a delta loaded in its chain met a record its copy holds at
// the same version with other content. The source gives a version one
// content, and the chain brought the copy only the source's: the copy was
// written outside the chain (by hand, or by another load), or the source
// changed a record around its change tracking, and the copy is not its
// source's copy as its chain says. (A record the copy holds newer is
// stale, as in any merge: loaded ahead from a later dump of the source,
// which replays do, or written outside; LoadResult.Chained tells.)
var ErrDiverged = errors.New("the copy and its source have parted")

// diverged is ErrDiverged for a delta loaded in its chain (checkChain) that
// stopped at a conflict (err); err as it is otherwise. others, the other
// sources the store follows, may be what brought the record.
func diverged(others int, err error) error {
	if !errors.Is(err, ErrConflict) {
		return err
	}
	return hint.With(fmt.Errorf("%w: %w (the load stopped at that line, and the delta's cursor is not noted)",
		ErrDiverged, err), "%s%s", rebuildCopy, fannedIn(others))
}

// fannedIn says, for a store that other sources feed too, that one of
// them may hold the record.
func fannedIn(others int) string {
	if others <= 0 {
		return ""
	}
	which := "another source"
	if others > 1 {
		which = fmt.Sprintf("%d other sources", others)
	}
	return "; this store loaded dumps of " + which + " too, which may hold the record: their records and this one's " +
		"should not overlap"
}

// rebuildCopy is how a copy that parted from its source becomes its copy
// again.
const rebuildCopy = "compare the copy with its source (persist-diff SOURCE COPY); to make it the source's copy again, " +
	"load a new full dump of the source with --mode replace (a new chain: with persist-dump --cursor-file, remove the file " +
	"first, and that dump is the full one), then the deltas after it"

// recordChain notes, after a stream was loaded whole and its trailer
// checked, the cursor it ended at, for checkChain; verify looks for code
// of another's first, as the load's batches did.
func recordChain(ctx context.Context, a adapters.Adapter, store string, t *record.Trailer, verify bool) error {
	if t == nil || t.Cursor == "" {
		return nil
	}
	c, err := adapters.ParseCursor(t.Cursor)
	if err != nil {
		return &unnoted{fmt.Errorf("the stream was loaded, but its trailer's cursor is not one this release reads: %w", err)}
	}
	if c.Partial {
		return nil // no position: no delta follows it
	}
	tx, err := a.Begin(ctx, store)
	if err == nil {
		defer tx.Rollback()
		err = tx.SetLoadedFrom(ctx, c.Source(), t.Cursor)
	}
	if err == nil && verify {
		// Code of another's run by this transaction's writes could change
		// the rows the load verified; refused, what it did is rolled back
		// with the note (a load without its checks, --no-verify, skips
		// this one too).
		err = tx.ForeignCode(ctx)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return &unnoted{fmt.Errorf("the stream was loaded, but noting its cursor failed (the next delta of its store will be refused "+
			"until this stream is loaded again, once what failed is mended): %w", err)}
	}
	return nil
}

// unnoted is recordChain's error: the stream is loaded, and stays so, but
// its cursor is not noted.
type unnoted struct{ err error }

func (u *unnoted) Error() string { return u.err.Error() }
func (u *unnoted) Unwrap() error { return u.err }
