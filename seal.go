package persist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// ErrUnframed: a stream given to Seal had no header, so nothing tells it
// whole from cut short.
var ErrUnframed = errors.New("stream has no header")

// SealOptions tune Seal.
type SealOptions struct {
	// Store names the store in the new header (default: the input
	// header's).
	Store string
	// Unframed accepts a stream without a header (a
	// hand-made one): there is then nothing to tell it whole.
	Unframed bool
}

// Seal reads a stream that was edited on purpose — filtered with jq, say —
// and writes it to w again with a new header and a trailer over what it
// holds now, so that whatever reads it next checks it end to end again.
//
// Seal is what keeps a filtered pipeline fail-closed. The filter keeps the
// original header and trailer lines (and drops items); Seal requires the
// trailer to arrive (an input with a header but no trailer was cut short
// upstream: ErrTruncated), does not hold the edited items to the old
// trailer's counts and sum, and writes the new ones. An input without a
// header is refused (ErrUnframed), before anything is written, unless opt.Unframed says it is
// hand-made. Items keep their order; each is written as its canonical line.
func Seal(ctx context.Context, r io.Reader, w io.Writer, opt SealOptions) (DumpResult, error) {
	rd, err := record.NewReader(r, record.ReaderOptions{IgnoreTrailer: true})
	if err != nil {
		return DumpResult{}, err
	}
	defer rd.Close()
	h := rd.Head()
	if err := source.Started(rd); err != nil {
		return DumpResult{}, err
	}
	if h == nil && !opt.Unframed {
		// Refused before a byte is written: a header the next reader takes
		// for a whole stream must never come out of an input that is not.
		return DumpResult{}, fmt.Errorf("%w: without a header, a stream cut short could not be told from a whole one", ErrUnframed)
	}
	store := opt.Store
	if store == "" && h != nil {
		store = h.Store
	}
	// A delta stays one: where it starts and ends in its store's history
	// is not changed by leaving items out of it.
	since := ""
	if h != nil {
		since = h.Since
	}
	sw, err := record.NewWriter(w, record.Header{Format: record.Format, Store: store, Records: -1, Events: -1, Since: since})
	if err != nil {
		return DumpResult{}, err
	}
	if err := copyItems(ctx, rd, sw); err != nil {
		return DumpResult{}, err
	}
	// The cursor says where a whole dump or a delta ends; without the
	// header, nothing says which this was (a delta whose header was cut
	// must not pass for a whole dump and start a chain), so it is dropped.
	cursor := ""
	if t := rd.Trailer(); t != nil && h != nil {
		cursor = t.Cursor
	}
	sw.SetCursor(cursor)
	if err := sw.Close(); err != nil {
		return DumpResult{}, err
	}
	records, events, sum := sw.Stats()
	return DumpResult{Store: store, Records: records, Events: events, Sum: sum.String(), Cursor: cursor}, nil
}

func copyItems(ctx context.Context, rd *record.Reader, sw *record.Writer) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if it.Kind == record.KindRemove {
			return fmt.Errorf("line %d: %w: a remove line belongs only in a patch stream", rd.Line(), record.ErrPlacement)
		}
		if err := sw.WriteLine(rd.Canonical()); err != nil {
			return err
		}
	}
}
