package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Writer writes a persist.v1 stream: header, items, trailer.
type Writer struct {
	bw              *bufio.Writer
	cursor          string
	line            []byte
	records, events int64
	sum             Sum
	err             error
	closed          bool
}

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("stream writer closed")

// NewWriter writes the header line to w at once, so that a reader
// downstream learns the expected counts before the first item.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	wr := &Writer{bw: bufio.NewWriterSize(w, 256<<10)}
	wr.line = AppendHeader(wr.line[:0], &h)
	wr.put(wr.line)
	if wr.err == nil {
		if err := wr.bw.Flush(); err != nil {
			wr.err = fmt.Errorf("write header: %w", err)
		}
	}
	if wr.err != nil {
		return nil, wr.err
	}
	return wr, nil
}

// Write appends an item's canonical line. A line around a big value is
// written in parts, not built whole (see BigValue).
func (w *Writer) Write(it *Item) error {
	if err := w.usable(); err != nil {
		return err
	}
	head, v := appendHead(w.line[:0], it)
	if err := lineFits(it, len(head)+len(v)+1); err != nil {
		return err
	}
	if len(v) < BigValue {
		w.line = append(append(head, v...), '}')
		return w.WriteLine(w.line)
	}
	w.line = head
	w.count(it.Kind)
	w.sum.Add(Sum(digestParts(head, v)))
	w.write(head)
	w.write(v)
	w.write(closeBrace)
	w.put(nil)
	return w.err
}

// WriteLine appends a canonical item line (without its newline) that the
// caller already holds, such as Reader.Canonical. It is not re-checked
// beyond its kind.
func (w *Writer) WriteLine(canonical []byte) error {
	return w.WriteHashed(canonical, Digest(canonical))
}

// WriteHashed is WriteLine of a line whose digest the caller has already,
// such as Reader.Canonical's Reader.Digest: a line is hashed once.
func (w *Writer) WriteHashed(canonical []byte, digest [32]byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(canonical) > MaxLine {
		return fmt.Errorf("%w: a line of %d bytes, more than %d (256 MiB, the limit every reader takes)", ErrTooLong, len(canonical), MaxLine)
	}
	var k Kind
	switch {
	case bytes.HasPrefix(canonical, []byte(`{"kind":"record",`)):
		k = KindRecord
	case bytes.HasPrefix(canonical, []byte(`{"kind":"event",`)):
		k = KindEvent
	case bytes.HasPrefix(canonical, []byte(`{"kind":"remove",`)):
		k = KindRemove
	default:
		return fmt.Errorf("%w: WriteLine takes a canonical record, event or remove line", ErrKind)
	}
	w.count(k)
	w.sum.Add(Sum(digest))
	w.put(canonical)
	return w.err
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

func (w *Writer) count(k Kind) {
	switch k {
	case KindRecord:
		w.records++
	case KindEvent:
		w.events++
	}
}

// put writes a line and its newline.
func (w *Writer) put(line []byte) {
	w.write(line)
	if w.err == nil {
		if err := w.bw.WriteByte('\n'); err != nil {
			w.err = fmt.Errorf("write: %w", err)
		}
	}
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("write: %w", err)
	}
}

// Flush sends what is buffered, for a caller that pauses between items.
func (w *Writer) Flush() error {
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("write: %w", err)
		}
	}
	return w.err
}

// Close writes the trailer and flushes; it does not close the underlying
// writer. A second Close does nothing more.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	t := Trailer{Records: w.records, Events: w.events, Sum: w.sum.String(), Cursor: w.cursor}
	w.line = AppendTrailer(w.line[:0], &t)
	w.put(w.line)
	return w.Flush()
}

// SetCursor gives the trailer a cursor (Trailer.Cursor); call it before
// Close.
func (w *Writer) SetCursor(c string) { w.cursor = c }

// Sum is the sum of the items written so far.
func (w *Writer) Sum() Sum { return w.sum }

// Stats gives the counts and sum of the items written so far.
func (w *Writer) Stats() (records, events int64, sum Sum) { return w.records, w.events, w.sum }

// WriteItemLine writes it's canonical line and a newline to w, the line
// around a big value in parts (see BigValue), and adds its digest to sum
// unless sum is nil; scratch is returned for the next call. It is for
// writers that keep their own counts, such as a patch's body or a sort's
// spilled runs.
func WriteItemLine(w io.Writer, it *Item, scratch []byte, sum *Sum) ([]byte, error) {
	head, v := appendHead(scratch[:0], it)
	if len(v) < BigValue {
		line := append(append(head, v...), '}')
		if sum != nil {
			sum.AddLine(line)
		}
		_, err := w.Write(append(line, '\n'))
		return line, err
	}
	if sum != nil {
		sum.Add(Sum(digestParts(head, v)))
	}
	for _, part := range [][]byte{head, v, closeBrace, newline} {
		if _, err := w.Write(part); err != nil {
			return head, err
		}
	}
	return head, nil
}

var newline = []byte{'\n'}

// CheckLine refuses an item whose line would be longer than MaxLine: no
// reader takes such a line, so a store must not take the item, nor a dump
// write it (a backup that cannot be restored).
func CheckLine(it *Item) error {
	// A string's canonical form is at most six bytes a byte (\u00XX): an
	// item far from the limit is told without writing its head.
	names := len(it.Collection) + len(it.Key) + len(it.Stream) + len(it.Type)
	if len(it.Value)+len(it.Data)+6*names+len(it.UpdatedAt)+len(it.At)+256 <= MaxLine {
		return nil
	}
	head, v := appendHead(nil, it)
	return lineFits(it, len(head)+len(v)+1)
}

func lineFits(it *Item, n int) error {
	if n <= MaxLine {
		return nil
	}
	what := fmt.Sprintf("event %q/%d", it.Stream, it.Seq)
	if it.Kind == KindRecord {
		what = fmt.Sprintf("record %q/%q", it.Collection, it.Key)
	}
	return fmt.Errorf("%w: %s: its line would be %d bytes, more than %d (256 MiB, the limit every reader takes)", ErrTooLong, what, n, MaxLine)
}
