package persist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// ErrUnframed: a stream given to Seal had no header, so nothing tells it
// whole from cut short.
var ErrUnframed = errors.New("stream has no header")

// ErrBadHeader: the first line of a stream given to Seal is a header it
// cannot read. The header is there, so ErrUnframed would send the caller
// after the wrong fault.
var ErrBadHeader = errors.New("bad header")

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
// hand-made. A first line that is a header Seal cannot read (ErrBadHeader), a
// patch (ErrPatch) or a bad first item is refused before anything is written
// too, with or without opt.Unframed. Items keep their order; each is written
// as its canonical line.
func Seal(ctx context.Context, r io.Reader, w io.Writer, opt SealOptions) (_ DumpResult, err error) {
	defer ofContext(ctx, &err)
	rd, err := record.NewReader(r, record.ReaderOptions{IgnoreTrailer: true})
	if err != nil {
		return DumpResult{}, err
	}
	defer rd.Close()
	h, out, err := sealHeader(rd, opt)
	if err != nil {
		return DumpResult{}, err
	}
	sw, err := record.NewWriter(w, out)
	if err != nil {
		return DumpResult{}, err
	}
	if err := copyItems(ctx, rd, sw); err != nil {
		return DumpResult{}, err
	}
	cursor, err := sealedCursor(rd, h)
	if err != nil {
		return DumpResult{}, err
	}
	sw.SetCursor(cursor)
	if err := sw.Close(); err != nil {
		return DumpResult{}, err
	}
	records, events, sum := sw.Stats()
	return DumpResult{Store: out.Store, Records: records, Events: events, Sum: sum.String(), Cursor: cursor}, nil
}

// sealHeader reads the input's header (nil for an unframed input) and
// makes the output's, refusing what must be refused before a byte is
// written.
func sealHeader(rd *record.Reader, opt SealOptions) (*record.Header, record.Header, error) {
	h := rd.Head()
	if err := source.Started(rd); err != nil {
		return nil, record.Header{}, err
	}
	// Head has read the first line, and with no header in front of it the
	// first item too: an error there is the input's real fault (a header
	// of another format, a patch, a bad line), and is said before a byte
	// is written rather than taken for a missing header.
	if err := rd.HeadErr(); err != nil {
		return nil, record.Header{}, headErr(rd, err)
	}
	if h == nil && !opt.Unframed {
		// Refused before a byte is written: a header the next reader takes
		// for a whole stream must never come out of an input that is not.
		return nil, record.Header{}, fmt.Errorf("%w: without a header, a stream cut short could not be told from a whole one", ErrUnframed)
	}
	out := record.Header{Format: record.Format, Store: opt.Store, Records: -1, Events: -1}
	if h == nil {
		return nil, out, nil
	}
	if out.Store == "" {
		out.Store = h.Store
	}
	// A delta stays one: where it starts and ends in its store's history
	// is not changed by leaving items out of it. Its since and cursor are
	// marked sealed, so that the loader keeps a chain of edited streams
	// apart from one of whole dumps: a whole delta after an edited dump, or
	// the reverse, would leave the copy without what the edit left out.
	since, err := adapters.SealCursor(h.Since)
	if err != nil {
		return nil, record.Header{}, fmt.Errorf("line 1: the header's since: %w", err)
	}
	out.Since = since
	return h, out, nil
}

// sealedCursor is the input trailer's cursor, marked sealed. The cursor
// says where a whole dump or a delta ends; without the header, nothing
// says which this was (a delta whose header was cut must not pass for a
// whole dump and start a chain), so it is dropped.
func sealedCursor(rd *record.Reader, h *record.Header) (string, error) {
	t := rd.Trailer()
	if t == nil || h == nil {
		return "", nil
	}
	cursor, err := adapters.SealCursor(t.Cursor)
	if err != nil {
		return "", fmt.Errorf("line %d: the trailer's cursor: %w", rd.Line(), err)
	}
	return cursor, nil
}

// headErr tells a bad header from a bad first item: both are "line 1",
// and only the first is what a caller fixes in the header.
func headErr(rd *record.Reader, err error) error {
	switch {
	case errors.Is(err, record.ErrPatch):
		return fmt.Errorf("%w; Seal does not seal a patch: a patch is applied as it is, never edited", err)
	case errors.Is(err, record.ErrFormat):
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	case rd.Line() == 1 && isHeader(rd.Raw()):
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	return err
}

// isHeader reports whether line says it is a header, however wrong it is
// otherwise. A line that is not JSON at all says nothing.
func isHeader(line []byte) bool {
	var l struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(line, &l) == nil && l.Kind == "header"
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
		var le *record.LineError
		if errors.As(err, &le) {
			// Whether the bad line was the last, where the trailer
			// belongs, decides the hint: left out, it leaves the stream
			// without one.
			_, next := rd.Next()
			le.Last = rd.Trailer() == nil && (errors.Is(next, io.EOF) || (errors.Is(next, record.ErrTruncated) && !record.CutShort(next)))
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
