package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ReaderOptions tune a Reader.
type ReaderOptions struct {
	// IgnoreTrailer accepts a stream edited on purpose: a trailer whose
	// counts or sum no longer match is read but not checked. A stream with a
	// header and no trailer is still truncated: nothing tells it from a
	// stream cut short.
	IgnoreTrailer bool
	AllowPatch    bool // accept patch streams (header patch:true, remove lines)
}

// Reader reads a persist.v1 stream, compressed or not.
//
// Next returns items; the header and the trailer are taken in on the way.
// A bad line gives a *LineError and the reader goes on with the next line;
// any other error (reading, decompressing, a wrong format, the end checks)
// is final and returned by every later call.
type Reader struct {
	skipped      int64 // lines returned as *LineError
	firstSkipped int64

	opt  ReaderOptions
	src  io.ReadCloser
	br   *bufio.Reader
	long []byte // a line longer than br's buffer, gathered here

	line      int64
	raw       []byte
	canon     []byte
	parsed    Line
	header    *Header
	trailer   *Trailer
	trailerAt int64

	records, events int64
	sum             Sum

	final error

	// The first item, read by Head before anyone asked for it.
	started bool
	held    bool
	heldIt  *Item
	heldErr error
}

// Head reads up to the first item, so that the stream's header (nil when it
// has none) is known before the first item is asked for: a loader picks its
// store by it, a dump copies it. The item read stays for the next call to
// Next, which returns it with Line, Raw and Canonical still describing it.
func (r *Reader) Head() *Header {
	if !r.started {
		r.heldIt, r.heldErr = r.Next()
		r.held = true
	}
	return r.header
}

// NewReader reads from r, decompressing zstd or gzip input.
func NewReader(r io.Reader, opt ReaderOptions) (*Reader, error) {
	src, err := NewDecompressor(r)
	if err != nil {
		return nil, err
	}
	br, ok := src.(plainReader)
	if ok {
		return &Reader{opt: opt, src: src, br: br.Reader}, nil
	}
	return &Reader{opt: opt, src: src, br: bufio.NewReaderSize(src, 256<<10)}, nil
}

// Close releases the decompressor. It does not close the underlying reader.
func (r *Reader) Close() error { return r.src.Close() }

// Header is the stream's header, nil when it has none.
func (r *Reader) Header() *Header { return r.header }

// Trailer is the stream's trailer once read, else nil.
func (r *Reader) Trailer() *Trailer { return r.trailer }

// Line is the number of the line last read (from 1).
func (r *Reader) Line() int64 { return r.line }

// Raw is the last line read as it was, without its newline; valid until
// the next call to Next.
func (r *Reader) Raw() []byte { return r.raw }

// Canonical is the canonical line of the last item returned; valid until
// the next call to Next.
func (r *Reader) Canonical() []byte { return r.canon }

// Stats gives the counts and sum of the items returned so far. Remove lines
// count in the sum (so that losing one is seen) but in neither count.
func (r *Reader) Stats() (records, events int64, sum Sum) { return r.records, r.events, r.sum }

// Next returns the next record, event or remove item, and io.EOF after the
// last one. The item is reused by the next call: Clone it to keep it.
func (r *Reader) Next() (*Item, error) {
	r.started = true
	if r.held {
		r.held = false
		return r.heldIt, r.heldErr
	}
	for {
		if r.final != nil {
			return nil, r.final
		}
		b, err := r.readLine()
		if err != nil {
			if err == io.EOF {
				r.final = r.endCheck()
			} else if errors.Is(err, ErrTooLong) {
				// Nothing of the line is kept: Raw must not hand out
				// what the buffer held before.
				r.raw = nil
				return nil, r.skip(err)
			} else {
				r.final = fmt.Errorf("after line %d: %w", r.line, err)
			}
			continue
		}
		r.raw = b
		r.canon = r.canon[:0]
		if r.trailer != nil {
			r.final = fmt.Errorf("line %d: %w: the stream ended with the trailer on line %d (two streams joined?)",
				r.line, ErrPlacement, r.trailerAt)
			continue
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, r.skip(fmt.Errorf("%w: empty line", ErrSyntax))
		}
		l := &r.parsed
		if err := ParseLine(b, l); err != nil {
			if errors.Is(err, ErrFormat) && r.line == 1 {
				r.final = &fatalLineError{LineError{Line: r.line, Err: err}}
				continue
			}
			return nil, r.skip(err)
		}
		switch l.Kind {
		case KindHeader:
			if r.line != 1 {
				return nil, r.skip(fmt.Errorf("%w: a header must be the first line", ErrPlacement))
			}
			if l.Header.Patch && !r.opt.AllowPatch {
				r.final = &fatalLineError{LineError{Line: r.line, Err: fmt.Errorf(
					"%w: patch: this is a patch stream (persist-diff --patch); load it with persist-load", ErrField)}}
				continue
			}
			h := l.Header
			r.header = &h
			continue
		case KindTrailer:
			t := l.Trailer
			r.trailer, r.trailerAt = &t, r.line
			continue
		case KindRemove:
			if r.header == nil || !r.header.Patch {
				return nil, &LineError{Line: r.line, Err: fmt.Errorf(
					"%w: a remove line belongs only in a patch stream (header with \"patch\":true)", ErrPlacement)}
			}
		case KindRecord:
			r.records++
		case KindEvent:
			r.events++
		}
		r.canon = AppendItem(r.canon, &l.Item)
		r.sum.AddLine(r.canon)
		return &l.Item, nil
	}
}

// fatalLineError names its line but, unlike *LineError, ends the stream:
// a caller that skips bad lines must not skip past it.
type fatalLineError struct{ e LineError }

func (f *fatalLineError) Error() string { return f.e.Error() }
func (f *fatalLineError) Unwrap() error { return f.e.Err }

// skip counts a line returned as a *LineError: a caller that sets it aside
// and goes on must still get a stream whose trailer can be checked.
func (r *Reader) skip(err error) error {
	if r.skipped == 0 {
		r.firstSkipped = r.line
	}
	r.skipped++
	return &LineError{Line: r.line, Err: err}
}

const (
	editHint = `add --ignore-trailer, or seal the edited stream again: … | persist-seal | …`
	sealHint = `jq -c 'select(.kind == "header" or .kind == "trailer" or …)' | persist-seal`
)

// endCheck is what the end of the input means: io.EOF, or why not.
func (r *Reader) endCheck() error {
	if t := r.trailer; t != nil && !r.opt.IgnoreTrailer {
		got := r.sum.String()
		if t.Records == r.records && t.Events == r.events && t.Sum == got {
			return io.EOF
		}
		if r.skipped > 0 && t.Records >= r.records && t.Events >= r.events &&
			t.Records+t.Events == r.records+r.events+r.skipped {
			// The lines set aside are what the trailer misses: the rest of
			// the stream is whole, but its sum cannot be checked without them.
			return fmt.Errorf("%w: %d lines were set aside (the first on line %d); the trailer on line %d counts them, so nothing else is missing, but its sum cannot be checked",
				ErrSkipped, r.skipped, r.firstSkipped, r.trailerAt)
		}
		return fmt.Errorf("%w: trailer on line %d says records=%d events=%d sum=%s, stream has records=%d events=%d sum=%s; if the stream was edited on purpose, %s",
			ErrTrailer, r.trailerAt, t.Records, t.Events, t.Sum, r.records, r.events, got, editHint)
	}
	if r.header != nil && r.trailer == nil {
		return fmt.Errorf("%w: stream ends without a trailer after line %d: it was cut short, or a filter dropped the trailer (keep it and seal the result: %s)",
			ErrTruncated, r.line, sealHint)
	}
	return io.EOF
}

// readLine returns the next line without its newline. Memory grows with
// the longest line, never with the stream; a line over MaxLine is skipped.
func (r *Reader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err == nil {
		r.line++
		return b[:len(b)-1], nil
	}
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
		r.line++
		return b, nil // a last line without its newline
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	r.long = append(r.long[:0], b...)
	for {
		b, err = r.br.ReadSlice('\n')
		if len(r.long)+len(b) > MaxLine+1 {
			r.line++
			r.long = nil
			for err == bufio.ErrBufferFull {
				_, err = r.br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, fmt.Errorf("%w: longer than %d bytes", ErrTooLong, MaxLine)
		}
		if len(r.long)+len(b) > cap(r.long) {
			// Doubling, not append's quarter steps for large slices: the
			// buffers left behind by a 100 MB line add up to one line's
			// worth instead of four.
			r.long = append(make([]byte, 0, max(2*cap(r.long), len(r.long)+len(b))), r.long...)
		}
		r.long = append(r.long, b...)
		switch err {
		case nil:
			r.line++
			return r.long[:len(r.long)-1], nil
		case io.EOF:
			r.line++
			return r.long, nil
		case bufio.ErrBufferFull:
			continue
		default:
			return nil, err
		}
	}
}
