package record

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"unicode/utf8"
)

// ReaderOptions tune a Reader.
type ReaderOptions struct {
	// IgnoreTrailer accepts a stream edited on purpose: a trailer whose
	// counts or sum no longer match is read but not checked. A stream with a
	// header and no trailer is still truncated: nothing tells it from a
	// stream cut short.
	IgnoreTrailer bool
	AllowPatch    bool // accept patch streams (header patch:true, remove lines)
	// Workers, above 1, parses, checks and hashes lines on that many
	// goroutines ahead of Next, a bounded number of chunks of lines in
	// flight. Next still takes the lines in order, so that what it returns
	// and every error, with its line number, are the same as without.
	Workers int
}

// Reader reads a persist.v1 stream, compressed or not.
//
// Next returns items; the header and the trailer are taken in on the way.
// A bad line gives a *LineError and the reader goes on with the next line;
// any other error (reading, decompressing, a wrong format, the end checks)
// is final and returned by every later call.
type Reader struct {
	skipped      int64 // lines returned as *LineError
	notItems     int64 // of those, lines that are no item (skipNotItem)
	firstSkipped int64

	opt ReaderOptions
	src io.ReadCloser
	lr  lineReader // reads the lines, unless par does
	par *pipeline  // parses and hashes lines ahead on workers (Workers > 1)
	// detached: the last item's value lies in memory the reader has let
	// go of (Detached).
	detached bool

	line      int64
	raw       []byte
	canon     []byte   // room to build a line in
	cur       []byte   // the last item's canonical line, once built
	built     bool     // cur holds the last item's line (see Canonical)
	digest    [32]byte // the digest of the last item's line
	parsed    Line
	item      *Item // the last item returned
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

// HeadErr is the error Head met reading the first line, if it met one
// other than the end of the input: with no line read, it tells input that
// could not be read (a compressed stream cut short) from no input at all.
func (r *Reader) HeadErr() error {
	if r.held && r.heldErr != nil && !errors.Is(r.heldErr, io.EOF) {
		return r.heldErr
	}
	return nil
}

// NewReader reads from r, decompressing zstd or gzip input.
func NewReader(r io.Reader, opt ReaderOptions) (*Reader, error) {
	src, err := NewDecompressor(r)
	if err != nil {
		return nil, err
	}
	rd := &Reader{opt: opt, src: src}
	if br, ok := src.(plainReader); ok {
		rd.lr.br = br.Reader
	} else {
		rd.lr.br = bufio.NewReaderSize(src, 256<<10)
	}
	if opt.Workers > 1 {
		rd.par = newPipeline(rd.lr.br, opt.Workers, src)
		rd.lr.br = nil
	}
	return rd, nil
}

// Close releases the decompressor. It does not close the underlying reader.
// With Workers, a read under way ends on its own (the underlying reader's
// Close ends it sooner) and the decompressor is released after it.
func (r *Reader) Close() error {
	if r.par != nil {
		r.par.stop()
		return nil
	}
	return r.src.Close()
}

// Header is the stream's header, nil when it has none.
func (r *Reader) Header() *Header { return r.header }

// Trailer is the stream's trailer once read, else nil.
func (r *Reader) Trailer() *Trailer { return r.trailer }

// Line is the number of the line last read (from 1).
func (r *Reader) Line() int64 { return r.line }

// Raw is the last line read as it was, without its newline; valid until
// the next call to Next. Of a line over MaxLine it is the first bytes only
// (see TooLongError).
func (r *Reader) Raw() []byte { return r.raw }

// Canonical is the canonical line of the last item returned; valid until
// the next call to Next. The line around a big value (see BigValue) is
// built only when asked for: the reader itself takes it in parts.
func (r *Reader) Canonical() []byte {
	if !r.built {
		r.canon = AppendItem(r.canon[:0], r.item)
		r.cur, r.built = r.canon, true
	}
	return r.cur
}

// Digest is the digest of the last item's canonical line, as Digest
// of Canonical would give it.
func (r *Reader) Digest() [32]byte { return r.digest }

// RawIsCanonical reports whether the last line read, as it was, is the
// canonical line of its item: bytes.Equal(Raw(), Canonical()), without
// building the line around a big value to find out.
func (r *Reader) RawIsCanonical() bool {
	if r.built {
		return len(r.cur) > 0 && bytes.Equal(r.raw, r.cur)
	}
	head, v := appendHead(r.canon[:0], r.item)
	r.canon = head[:0]
	raw := r.raw
	return len(raw) == len(head)+len(v)+1 && bytes.HasPrefix(raw, head) &&
		bytes.Equal(raw[len(head):len(head)+len(v)], v) && raw[len(raw)-1] == '}'
}

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
		// Nothing of the last line is needed any more: what points into
		// it must not keep a huge one alive while the next is read.
		r.raw, r.parsed.Item.Value, r.parsed.Item.Data = nil, nil, nil
		r.cur, r.built, r.item, r.detached = nil, true, nil, false
		b, err := r.readLine()
		if err != nil {
			if skipped := r.unread(err); skipped != nil {
				return nil, skipped
			}
			continue
		}
		r.raw = b
		if r.trailer != nil {
			r.final = r.afterTrailer(b)
			continue
		}
		if blank(b) {
			return nil, r.skipNotItem(fmt.Errorf("%w: empty line", ErrSyntax))
		}
		l, err := r.parse(b)
		if err != nil {
			err = r.why(b, err)
			if errors.Is(err, ErrFormat) && r.line == 1 {
				r.final = &fatalLineError{LineError{Line: r.line, Err: err}}
				continue
			}
			return nil, r.skip(err)
		}
		switch l.Kind {
		case KindHeader:
			if r.line != 1 {
				return nil, r.skipNotItem(fmt.Errorf("%w: a header must be the first line", ErrPlacement))
			}
			if l.Header.Patch && !r.opt.AllowPatch {
				r.final = &fatalLineError{LineError{Line: r.line, Err: fmt.Errorf(
					"%w: patch: %w, made to be loaded into the store it repairs, not read as a store's content", ErrField, ErrPatch)}}
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
		r.takeItem(&l.Item)
		r.item = &l.Item
		r.detach()
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

// skipNotItem is skip for a line that is no item (an empty line, a header
// out of place): the trailer counts no such line, so it cannot stand for
// an item the trailer misses.
func (r *Reader) skipNotItem(err error) error {
	r.notItems++
	return r.skip(err)
}

// FrameLine reports whether b, a line that failed to parse, is a header or
// a trailer by its "kind" (a byte order mark before it aside): a line no
// caller may set aside as a bad item.
func FrameLine(b []byte) bool {
	var k struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(bytes.TrimPrefix(b, utf8BOM), &k) != nil {
		return false
	}
	return k.Kind == "header" || k.Kind == "trailer"
}

// endCheck is what the end of the input means: io.EOF, or why not.
func (r *Reader) endCheck() error {
	if t := r.trailer; t != nil && !r.opt.IgnoreTrailer {
		if err := r.headerCheck(t); err != nil {
			return err
		}
		got := r.sum.String()
		if t.Records == r.records && t.Events == r.events && t.Sum == got {
			return io.EOF
		}
		if items := r.skipped - r.notItems; items > 0 && t.Records >= r.records && t.Events >= r.events &&
			t.Records+t.Events == r.records+r.events+items {
			// The lines set aside are what the trailer misses: the rest of
			// the stream is whole, but its sum cannot be checked without them.
			return fmt.Errorf("%w: %d lines were set aside (the first on line %d); the trailer on line %d counts them, so nothing else is missing, but its sum cannot be checked",
				ErrSkipped, r.skipped, r.firstSkipped, r.trailerAt)
		}
		return fmt.Errorf("%w: trailer on line %d says records=%d events=%d sum=%s, stream has records=%d events=%d sum=%s: the stream was damaged, or edited after it was written",
			ErrTrailer, r.trailerAt, t.Records, t.Events, t.Sum, r.records, r.events, got)
	}
	if r.header != nil && r.trailer == nil {
		return fmt.Errorf("%w: stream ends without a trailer after line %d: it was cut short, or a filter dropped the trailer",
			ErrTruncated, r.line)
	}
	return io.EOF
}

// utf8BOM is what some editors put before a file's first line.
var utf8BOM = []byte("\xef\xbb\xbf")

// headerCheck refuses a header whose counts are not the trailer's: the
// header came from another stream (spliced on), or was edited, and a
// progress total or a check made from it would be wrong.
func (r *Reader) headerCheck(t *Trailer) error {
	h := r.header
	if h == nil || (h.Records < 0 || h.Records == t.Records) && (h.Events < 0 || h.Events == t.Events) {
		return nil
	}
	return fmt.Errorf("%w: %w: the header on line 1 says records=%s events=%s, the trailer on line %d records=%d events=%d: the header is another stream's, was edited, or counted items the dump did not read",
		ErrTrailer, ErrHeader, count(h.Records), count(h.Events), r.trailerAt, t.Records, t.Events)
}

// count spells a header's count, which may be unknown (-1).
func count(n int64) string {
	if n < 0 {
		return "(none)"
	}
	return strconv.FormatInt(n, 10)
}

// Detached reports whether the value (or data) of the last item returned
// lies in memory the reader has let go of: it reads nothing more into it,
// so the caller may keep the value past the next call to Next without
// copying it. Only a huge value is detached: a copy of a small one costs
// little, and the reader's buffers are kept for the next lines.
func (r *Reader) Detached() bool { return r.detached }

// detach lets go of the buffers a huge item's value lies in rather than
// read the next line into them: a loader then keeps the value where it lies
// instead of holding it twice, and the raw line the value was made from
// goes with the next call to Next. Lines read by workers are lent and
// handed back instead.
func (r *Reader) detach() {
	if r.par != nil {
		return
	}
	l := &r.parsed
	if r.lr.fromLong && cap(r.lr.long) > keepLong {
		r.lr.long = nil // Raw still points to it until the next call
	}
	if max(len(l.Item.Value), len(l.Item.Data)) < keepLong {
		return
	}
	switch {
	case !l.inPlace:
		l.buf = nil // canonicalised into the parser's buffer
	case !r.lr.fromLong:
		return // in the input's own buffer, which reads on
	}
	r.detached = true
}

// unread handles err, why readLine returned no line: a line too long is
// set aside (its error returned, the reading goes on); anything else ends
// the reading, r.final saying how.
func (r *Reader) unread(err error) error {
	var tl *TooLongError
	switch {
	case errors.As(err, &tl) && tl.Endless:
		if cr := r.crOnly(tl.Prefix, err); cr != nil {
			err = cr // lines ended by \r alone, more than SkipMax of them
		}
		r.final = fmt.Errorf("%w: line %d: %w", ErrRead, r.line, err)
	case errors.As(err, &tl):
		return r.skipTooLong(tl, err)
	case err == io.EOF:
		r.final = r.endCheck()
	case r.line == 0:
		r.final = fmt.Errorf("%w before the first line was whole: %w (was the input cut short?)", ErrRead, err)
	default:
		r.final = fmt.Errorf("%w after line %d: %w", ErrRead, r.line, err)
	}
	return nil
}

// skipTooLong sets aside a line too long, keeping its first bytes, which
// may show what made it so.
func (r *Reader) skipTooLong(tl *TooLongError, err error) error {
	r.raw = tl.Prefix
	if cr := r.crOnly(tl.Prefix, err); cr != nil {
		err = cr
	}
	return r.skip(err)
}

// afterTrailer is the error for line b, read after the trailer: an empty
// line is what an editor or an echo >> leaves, anything else likely a
// second stream. head -n keeps the stream through its trailer.
func (r *Reader) afterTrailer(b []byte) error {
	line := r.line
	for blank(b) {
		// Empty lines to the end are an editor's; empty lines and then
		// more are not, and head -n would drop the more.
		next, err := r.readLine()
		var tl *TooLongError
		switch {
		case err == io.EOF:
			what := "an empty line"
			if r.line > line {
				what = "empty lines"
			}
			return fmt.Errorf("line %d: %w: the stream ended with the trailer on line %d "+
				"(%s: remove the lines after the trailer, e.g. with %shead -n %d)",
				line, ErrPlacement, r.trailerAt, what, r.uncompress(), r.trailerAt)
		case errors.As(err, &tl):
			next = tl.Prefix // a line: more than empty ones
		case err != nil:
			return fmt.Errorf("%w after line %d: %w", ErrRead, r.line, err)
		}
		b = next
	}
	return fmt.Errorf("line %d: %w: the stream ended with the trailer on line %d (two streams joined? %shead -n %d keeps the first)",
		line, ErrPlacement, r.trailerAt, r.uncompress(), r.trailerAt)
}

// uncompress is the start of a pipeline that gives a hint's command the
// stream's lines: the command that uncompresses it, where it is compressed.
func (r *Reader) uncompress() string {
	switch r.src.(type) {
	case *zstdReader:
		return "zstd -dc | "
	case *gzipReader:
		return "gzip -dc | "
	}
	return ""
}

// blank reports whether a line holds nothing but white space. A line of a
// stream starts with '{', which settles it at the first byte.
func blank(b []byte) bool {
	return len(b) == 0 || b[0] <= ' ' && len(bytes.TrimSpace(b)) == 0
}

// readLine returns the next line without its newline, and sets r.line.
func (r *Reader) readLine() ([]byte, error) {
	if r.par != nil {
		return r.par.next(&r.line)
	}
	b, err := r.lr.readLine()
	r.line = r.lr.line
	return b, err
}

// why adds to a line's parse error what likely made the line so: lines
// ended by a carriage return alone, a stream cut short, a byte order mark
// before the first line.
func (r *Reader) why(b []byte, err error) error {
	if cr := r.crOnly(b, err); cr != nil {
		return cr
	}
	n := namedCause{error: err}
	if r.lastOpen() {
		n.error, n.cut = fmt.Errorf("%w (the input's last line, without its newline: was the stream cut short?)", n.error), true
		// After a header, a last line that is no trailer leaves the
		// stream without one: truncated, whatever else the line is.
		n.truncated = r.Header() != nil
	}
	if r.line == 1 && bytes.HasPrefix(b, utf8BOM) {
		n.error, n.bom = fmt.Errorf("%w (the line starts with a UTF-8 byte order mark, which a JSON line has not: remove it, e.g. with %ssed '1s/^\\xEF\\xBB\\xBF//')", n.error, r.uncompress()), true
	}
	if !n.cut && !n.bom {
		return err
	}
	return n
}

// crOnly is err named as what lines ended by a carriage return alone make
// (one line, items run together with a \r between), nil where b holds no
// such end. The hint's sed drops the empty lines tr makes of \r\n ends
// (which read as they are), where some lines have them.
func (r *Reader) crOnly(b []byte, err error) error {
	if !crSeparated(b) {
		return nil
	}
	return namedCause{error: fmt.Errorf("%w (a carriage return alone, \\r, ends lines in it, not a newline: convert them, e.g. with %str '\\r' '\\n' | sed '/^[[:space:]]*$/d')", err, r.uncompress())}
}

// crSeparated reports whether b holds a carriage return between two items:
// a '}' before it and a '{' after it, blanks and more carriage returns
// aside. Inside a string a raw \r is a control character, said as such.
func crSeparated(b []byte) bool {
	for i := 0; i < len(b); i++ {
		n := bytes.IndexByte(b[i:], '\r')
		if n < 0 {
			return false
		}
		i += n
		// What follows is looked at only after a '}': a run of \r is then
		// skipped once, not once for each of its bytes.
		before := bytes.TrimRight(b[:i], " \t")
		if len(before) == 0 || before[len(before)-1] != '}' {
			continue
		}
		if after := bytes.TrimLeft(b[i+1:], " \t\r"); len(after) > 0 && after[0] == '{' {
			return true
		}
	}
	return false
}

// namedCause marks a line's error to which why added what likely made the
// line so; cut and bom say which, where it is one of those.
type namedCause struct {
	error
	cut, bom  bool
	truncated bool // cut after a header: ErrTruncated too
}

func (n namedCause) Unwrap() error { return n.error }

func (n namedCause) Is(target error) bool { return n.truncated && target == ErrTruncated }

// CauseNamed reports whether err already says what likely made its line
// so (a stream cut short, a byte order mark, lines ended by a carriage
// return), which a caller's hint must not contradict.
func CauseNamed(err error) bool {
	var n namedCause
	return errors.As(err, &n)
}

// CutShort reports whether err is a line's error named as the last line of
// a stream cut short.
func CutShort(err error) bool {
	var n namedCause
	return errors.As(err, &n) && n.cut
}

// lastOpen reports whether the line just read ended the input without its
// newline: a line cut there is what a stream cut short looks like.
func (r *Reader) lastOpen() bool {
	if r.par != nil {
		return r.par.open
	}
	return r.lr.open
}

// parse parses the line just read, unless a worker has.
func (r *Reader) parse(b []byte) (*Line, error) {
	if r.par != nil {
		if l, err, ok := r.par.parsed(); ok {
			return l, err
		}
	}
	return &r.parsed, ParseLine(b, &r.parsed)
}

// takeItem adds the item just read to the sum, building its canonical
// line unless its value is big (then Canonical builds it if asked), or
// taking what a worker built.
func (r *Reader) takeItem(it *Item) {
	if r.par == nil || !r.par.hashed(&r.cur, &r.digest, &r.built) {
		var line []byte
		line, r.digest, r.built = lineDigest(r.canon[:0], it)
		r.canon = line
		r.cur = line
	}
	r.sum.Add(Sum(r.digest))
}

// lineDigest builds it's canonical line in buf and hashes it; around a
// big value it hashes the line in parts and builds nothing (built false;
// line is then buf's room, emptied).
func lineDigest(buf []byte, it *Item) (line []byte, digest [32]byte, built bool) {
	head, v := appendHead(buf[:0], it)
	if len(v) < BigValue {
		line = append(append(head, v...), '}')
		return line, sha256.Sum256(line), true
	}
	return head[:0], digestParts(head, v), false
}

// lineReader reads lines, counting them. Memory grows with the longest
// line, never with the stream; a line over MaxLine is skipped, and what is
// kept of it is its length and first bytes (TooLongError).
type lineReader struct {
	br     *bufio.Reader
	long   []byte // a line longer than br's buffer, gathered here
	prefix []byte // the first bytes of a line over MaxLine
	line   int64
	// fromLong: the last line lies in long.
	fromLong bool
	// open: the last line ended the input without its newline.
	open bool
}

// readLine returns the next line without its newline, valid until the
// next call.
func (r *lineReader) readLine() ([]byte, error) {
	r.fromLong, r.open = false, false
	b, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
		r.line++
		if cap(r.long) > keepLong {
			r.long = nil // the last long line was huge: let it go
		}
		return b[:len(b)-1], nil
	case err == io.EOF:
		if len(b) == 0 {
			return nil, io.EOF
		}
		r.line++
		r.open = true
		return b, nil // a last line without its newline
	case err != bufio.ErrBufferFull:
		return nil, err
	}
	r.long = append(r.long[:0], b...)
	for {
		b, err = r.br.ReadSlice('\n')
		n := len(r.long) + len(b)
		if err == nil {
			n-- // the newline
		}
		if n > MaxLine {
			return nil, r.tooLong(b, err)
		}
		if len(r.long)+len(b) > cap(r.long) {
			r.grow(len(b))
		}
		r.long = append(r.long, b...)
		r.fromLong = err == nil || err == io.EOF
		switch err {
		case nil:
			r.line++
			return r.long[:len(r.long)-1], nil
		case io.EOF:
			r.line++
			r.open = true
			return r.long, nil
		case bufio.ErrBufferFull:
			continue
		default:
			return nil, err
		}
	}
}

// keepLong is the most room a reader keeps for long lines between them.
const keepLong = 4 << 20

// huge is the size from which a growing line hands what it grew out of back
// to the system as it goes, rather than leave it for the collector.
const huge = 32 << 20

// grow makes room for n more bytes in r.long by doubling, not append's
// quarter steps for large slices: the buffers left behind add up to one
// line's worth instead of four. Past huge, they are handed back before and
// after each step, so that reading a line costs about itself and half of it
// again at the peak, and the garbage of the steps never adds up on top.
func (r *lineReader) grow(n int) {
	c := max(2*cap(r.long), len(r.long)+n)
	if c <= huge {
		r.long = append(make([]byte, 0, c), r.long...)
		return
	}
	debug.FreeOSMemory()
	r.long = append(make([]byte, 0, c), r.long...)
	debug.FreeOSMemory()
}

// TooLongKeep is how much of a line over MaxLine a reader keeps, for the
// rejects: its first bytes, cut at a UTF-8 boundary.
const TooLongKeep = 4096

// TooLongError is a line over MaxLine, set aside: its length and its first
// bytes are what is kept of it (Reader.Raw returns them too).
type TooLongError struct {
	Length int64  // the line's length in bytes, without its newline
	Prefix []byte // its first bytes, at most TooLongKeep
	// Endless: no newline came within SkipMax bytes, so the line was not
	// read to its end and cannot be set aside: the reading stops there.
	Endless bool
}

// SkipMax is how far a reader looks for the end of a line over MaxLine, to
// set it aside and read on: an input that has no newline in it (a device
// such as /dev/zero, a binary file) must end the reading, not be read
// for ever.
const SkipMax = 2 * MaxLine

func (e *TooLongError) Error() string {
	if e.Endless {
		return fmt.Sprintf("%v: no newline in the line's first %d bytes, more than twice the limit of %d (256 MiB): "+
			"the reading stops there, as the line cannot be set aside (a device such as /dev/zero, or a binary file?)", ErrTooLong, e.Length, MaxLine)
	}
	return fmt.Sprintf("%v: %d bytes, more than %d (256 MiB, the limit)", ErrTooLong, e.Length, MaxLine)
}

func (e *TooLongError) Is(target error) bool { return target == ErrTooLong || target == ErrLimit }

// tooLong reads the rest of a line over MaxLine, of which r.long holds the
// start and b the part read last (err is how that read ended), keeping
// only its length and first bytes.
func (r *lineReader) tooLong(b []byte, err error) error {
	r.line++
	r.prefix = append(r.prefix[:0], utf8Prefix(r.long, TooLongKeep)...)
	n := int64(len(r.long))
	r.long = nil
	for {
		n += int64(len(b))
		if err != bufio.ErrBufferFull {
			break
		}
		if n > SkipMax {
			return &TooLongError{Length: n, Prefix: r.prefix, Endless: true}
		}
		b, err = r.br.ReadSlice('\n')
	}
	switch err {
	case nil:
		n-- // the newline
	case io.EOF:
	default:
		return err
	}
	return &TooLongError{Length: n, Prefix: r.prefix}
}

// utf8Prefix is b's first n bytes, less a character cut in two at the end.
func utf8Prefix(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}
