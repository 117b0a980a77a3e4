package record

// This file holds the package's API as signatures only; each function moves
// to its own file as it is implemented, and this file is deleted.

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Sentinels a caller can tell apart with errors.Is.
var (
	ErrSyntax    = errors.New("invalid JSON")       // malformed JSON, bad UTF-8, lone surrogate
	ErrField     = errors.New("invalid field")      // unknown, missing, duplicated or ill-typed field
	ErrTime      = errors.New("invalid time")       // not RFC 3339, or sub-microsecond digits
	ErrKind      = errors.New("unknown kind")       // a kind this format does not have
	ErrFormat    = errors.New("unsupported format") // header format other than persist.v1
	ErrPlacement = errors.New("line out of place")  // header not first, line after trailer, remove outside a patch
	ErrTrailer   = errors.New("stream does not match its trailer")
	ErrTruncated = errors.New("stream truncated") // header but no trailer
	ErrTooLong   = errors.New("line too long")
)

// MaxLine is the longest line a reader accepts.
const MaxLine = 256 << 20

// LineError is an error about one input line; Line counts from 1.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Canonical appends the canonical form (SPEC §5) of the JSON value src to dst.
func Canonical(dst, src []byte) ([]byte, error) { panic("unimplemented") }

// ParseTime converts an RFC 3339 time to canonical form (UTC, 6 digits, Z).
func ParseTime(s string) (string, error) { panic("unimplemented") }

// FormatTime formats t canonically; t must have at most microsecond precision.
func FormatTime(t time.Time) string { panic("unimplemented") }

// Line is one parsed stream line.
type Line struct {
	Kind    Kind
	Item    Item
	Header  Header
	Trailer Trailer
}

// ParseLine parses one line (without its newline) strictly, canonicalising
// values and times. l is overwritten.
func ParseLine(b []byte, l *Line) error { panic("unimplemented") }

// AppendItem appends the canonical line for it (no newline) to dst.
func AppendItem(dst []byte, it *Item) []byte { panic("unimplemented") }

// AppendHeader and AppendTrailer append canonical header/trailer lines.
func AppendHeader(dst []byte, h *Header) []byte   { panic("unimplemented") }
func AppendTrailer(dst []byte, t *Trailer) []byte { panic("unimplemented") }

// Compare orders items in dump order: records by (collection, key), then
// events by (stream, seq); strings as bytes.
func Compare(a, b *Item) int { panic("unimplemented") }

// Sum is a persist1 checksum: the sum of item digests modulo 2^256.
type Sum [32]byte

func (s *Sum) AddLine(line []byte)     { panic("unimplemented") }
func (s *Sum) Add(o Sum)               { panic("unimplemented") }
func (s Sum) String() string           { panic("unimplemented") }
func ParseSum(str string) (Sum, error) { panic("unimplemented") }

// ReaderOptions tune a Reader.
type ReaderOptions struct {
	IgnoreTrailer bool // accept a stream edited on purpose
	AllowPatch    bool // accept patch streams (header patch:true, remove lines)
}

// Reader reads a persist.v1 stream.
type Reader struct{}

func NewReader(r io.Reader, opt ReaderOptions) (*Reader, error) { panic("unimplemented") }
func (r *Reader) Next() (*Item, error)                          { panic("unimplemented") }
func (r *Reader) Header() *Header                               { panic("unimplemented") }
func (r *Reader) Trailer() *Trailer                             { panic("unimplemented") }
func (r *Reader) Line() int64                                   { panic("unimplemented") }
func (r *Reader) Raw() []byte                                   { panic("unimplemented") }
func (r *Reader) Canonical() []byte                             { panic("unimplemented") }
func (r *Reader) Stats() (records, events int64, sum Sum)       { panic("unimplemented") }

// Writer writes a persist.v1 stream: header, items, trailer.
type Writer struct{}

func NewWriter(w io.Writer, h Header) (*Writer, error) { panic("unimplemented") }
func (w *Writer) Write(it *Item) error                 { panic("unimplemented") }
func (w *Writer) Close() error                         { panic("unimplemented") }
func (w *Writer) Sum() Sum                             { panic("unimplemented") }

// NewDecompressor recognises zstd and gzip by their magic bytes.
func NewDecompressor(r io.Reader) (io.ReadCloser, error) { panic("unimplemented") }

// NewCompressor compresses by file name extension (.zst, .gz), else passes through.
func NewCompressor(w io.Writer, name string) (io.WriteCloser, error) { panic("unimplemented") }
