package persist

import (
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// ErrPartialStream: a stream that may hold only part of its store was
// given to replace one. Replacing makes the store exactly the stream, so
// what the stream lacks would be deleted: a stream without a header (a
// producer that died midway leaves a part that reads as whole) or a dump
// filtered by persist-dump (--collection, --live, …).
var ErrPartialStream = errors.New("a stream that may hold only part of a store cannot replace one")

// replaceHint says what to do instead, for a stream that is what it is
// meant to be: merge it, or have persist-seal vouch for it (seal, the
// commands before the load) on its way into dst's store.
func replaceHint(err error, dst, store, seal string) error {
	target := location.ForShell(location.Redact(dst))
	if store != "" {
		target = location.NamedForShell(location.Redact(dst), store)
	}
	err = hint.With(err, "to merge it into the store, leave out --mode replace; if the store is to hold exactly this stream, "+
		"vouch for it on its way: … | %s | persist-load --mode replace %s", seal, target)
	if location.HasPassword(dst) {
		err = hint.With(err, "the password is not shown: give it with PGPASSWORD or ~/.pgpass")
	}
	return err
}

// unframed refuses a replace by a stream without a header: nothing tells
// whether it is whole.
func unframed(h *record.Header, dst, store string) error {
	if h != nil {
		return nil
	}
	return replaceHint(fmt.Errorf("%w: it has no header, so nothing tells whether it is whole (a producer that died midway leaves "+
		"a part that reads as whole, and the store would lose the rest)", ErrPartialStream), dst, store, "persist-seal --unframed")
}

// wholeStore is the input of a replace: at its end, the trailer must not
// say that persist-dump filtered the stream. A replace is one transaction,
// so an error here, read before it commits, writes nothing.
type wholeStore struct {
	*record.Reader
	dst, store string
}

func (w wholeStore) Next() (*record.Item, error) {
	it, err := w.Reader.Next()
	if err == io.EOF {
		if ferr := filtered(w.Trailer(), w.dst, w.store); ferr != nil {
			return nil, ferr
		}
	}
	return it, err
}

// filtered refuses the trailer of a dump persist-dump filtered, sealed
// since or not: a dump filtered twice is marked as persist-seal marks, so
// the mark cannot vouch for it. To replace a store with part of it, the
// frame is stripped and made anew (persist-seal --unframed), which is the
// user's word.
func filtered(t *record.Trailer, dst, store string) error {
	if t == nil {
		return nil
	}
	if err := partialCursor(t.Cursor, "the store would lose everything the filter left out"); err != nil {
		return replaceHint(err, dst, store, unframe)
	}
	return nil
}

// partialCursor is ErrPartialStream for a stream whose trailer's cursor c
// says persist-dump filtered it (lost: what a whole store's use of it
// would lose), or does not parse (nothing then tells what the stream is);
// nil for none or a whole dump's. A replace and a patch both refuse it.
func partialCursor(c, lost string) error {
	if c == "" {
		return nil
	}
	parsed, err := adapters.ParseCursor(c)
	switch {
	case err != nil:
		return fmt.Errorf("%w: its trailer's cursor does not read (%w): nothing tells whether it is a whole dump; nothing was written",
			ErrPartialStream, err)
	case parsed.Filter != "":
		return hint.With(fmt.Errorf("%w: its trailer says it was dumped through a filter (of collections, streams, kinds or live records): "+
			"%s; nothing was written", ErrPartialStream, lost),
			"persist-dump's --collection, --stream, --records, --events and --live filter a dump; use a dump made without them")
	}
	return nil
}

// unframe is how a stream's items alone are sealed anew.
const unframe = `jq -c 'select(.kind == "record" or .kind == "event")' | persist-seal --unframed`
