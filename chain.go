package persist

import (
	"context"
	"errors"
	"fmt"

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
func checkChain(ctx context.Context, a adapters.Adapter, store string, h *record.Header) error {
	if h == nil || h.Since == "" {
		return nil
	}
	c, err := adapters.ParseCursor(h.Since)
	if err != nil {
		return hint.With(fmt.Errorf("%w: the stream's header: since: %w", ErrChain, err), chainHint)
	}
	tx, err := a.Begin(ctx, store)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last, err := tx.LoadedFrom(ctx, c.Source())
	switch {
	case err != nil:
		return err
	case last == h.Since:
		return nil
	case last == "":
		return hint.With(fmt.Errorf("%w: the stream is a delta (since %s), and store %s has loaded no dump of the store it comes from",
			ErrChain, h.Since, store), chainHint)
	case adapters.Unsealed(last) == adapters.Unsealed(h.Since):
		return sealedChain(store, c.Sealed)
	}
	return hint.With(fmt.Errorf("%w: the stream is a delta since %s, but the last dump of its store loaded into store %s ended at %s: "+
		"a delta in between is missing, or this one was loaded already", ErrChain, h.Since, store, last), chainHint)
}

// sealedChain is ErrChain for a delta that follows the last stream loaded
// but is sealed where that one was not, or the reverse: the streams of a
// chain are either all whole or all edited by persist-seal's pipeline, or
// the copy lacks what the edit left out of one of them, with no word.
func sealedChain(store string, sealed bool) error {
	if sealed {
		return hint.With(fmt.Errorf("%w: the stream is a delta that went through persist-seal (edited: a filter may have left items out), "+
			"but the last dump of its store loaded into store %s was whole: loaded on top of it, the copy would lack what the filter left out",
			ErrChain, store),
			"load the delta as persist-dump wrote it, unfiltered; to keep a filtered copy instead, load a full dump through the same filter and persist-seal, "+
				"then each delta the same way; or add --ignore-since to load this one anyway")
	}
	return hint.With(fmt.Errorf("%w: the stream is a whole delta, but the last dump of its store loaded into store %s went through persist-seal "+
		"(edited: a filter may have left items out), so the copy may lack items this delta does not carry", ErrChain, store),
		"pass this delta through the same filter and persist-seal as the streams before it; to copy the whole store from now on, "+
			"load a full dump (persist-dump without --since) first; or add --ignore-since to load this one anyway")
}

// recordChain notes, after a stream was loaded whole and its trailer
// checked, the cursor it ended at, for checkChain.
func recordChain(ctx context.Context, a adapters.Adapter, store string, t *record.Trailer) error {
	if t == nil || t.Cursor == "" {
		return nil
	}
	c, err := adapters.ParseCursor(t.Cursor)
	if err != nil {
		return fmt.Errorf("the stream was loaded, but its trailer's cursor is not one this release reads: %w", err)
	}
	tx, err := a.Begin(ctx, store)
	if err == nil {
		defer tx.Rollback()
		err = tx.SetLoadedFrom(ctx, c.Source(), t.Cursor)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("the stream was loaded, but noting its cursor failed (the next delta of its store will be refused until this stream is loaded again): %w", err)
	}
	return nil
}
