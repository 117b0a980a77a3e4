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
// meant to be: merge it, or have persist-seal vouch for it (with flags)
// between the stream and the replace into dst.
func replaceHint(err error, dst, flags string) error {
	err = hint.With(err, "to merge it into the store, leave out --mode replace; if the store is to hold exactly this stream, "+
		"have persist-seal vouch for it on its way: … | persist-seal%s | persist-load --mode replace %s", flags, location.ForShell(location.Redact(dst)))
	if location.HasPassword(dst) {
		err = hint.With(err, "the password is not shown: give it with PGPASSWORD or ~/.pgpass")
	}
	return err
}

// unframed refuses a replace by a stream without a header: nothing tells
// whether it is whole.
func unframed(h *record.Header, dst string) error {
	if h != nil {
		return nil
	}
	return replaceHint(fmt.Errorf("%w: it has no header, so nothing tells whether it is whole (a producer that died midway leaves "+
		"a part that reads as whole, and the store would lose the rest)", ErrPartialStream), dst, " --unframed")
}

// wholeStore is the input of a replace: at its end, the trailer must not
// say that persist-dump filtered the stream. A replace is one transaction,
// so an error here, read before it commits, writes nothing.
type wholeStore struct {
	*record.Reader
	dst string
}

func (w wholeStore) Next() (*record.Item, error) {
	it, err := w.Reader.Next()
	if err == io.EOF {
		if ferr := filtered(w.Trailer(), w.dst); ferr != nil {
			return nil, ferr
		}
	}
	return it, err
}

// filtered refuses the trailer of a dump persist-dump filtered; one sealed
// since (persist-seal) is vouched for as it is.
func filtered(t *record.Trailer, dst string) error {
	if t == nil || t.Cursor == "" {
		return nil
	}
	c, err := adapters.ParseCursor(t.Cursor)
	if err != nil || c.Filter == "" || c.Sealed {
		return nil
	}
	return replaceHint(fmt.Errorf("%w: its trailer says persist-dump filtered it (--collection, --stream, --records, --events or --live): "+
		"the store would lose everything the filter left out; nothing was written", ErrPartialStream), dst, "")
}
