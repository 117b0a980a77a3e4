package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}
)

// NewDecompressor recognises zstd and gzip by their magic bytes; anything
// else passes through. It only peeks, so it works on pipes and stdin.
// Closing it does not close r.
func NewDecompressor(r io.Reader) (io.ReadCloser, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 256<<10 {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, zstdMagic) || zstdSkippable(magic):
		// One goroutine-free decoder: a stream decodes at disk or pipe speed
		// anyway, and nothing is left running if the caller never closes it.
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<30))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return &zstdReader{d}, nil
	case bytes.HasPrefix(magic, gzipMagic):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, gzipError(err)
		}
		z.Multistream(false)
		return &gzipReader{z: z, br: br}, nil
	}
	return plainReader{br}, nil
}

// Compressed says, from a stream's first bytes, whether NewDecompressor
// takes it for compressed (zstd, a zstd skippable frame, gzip); decided is
// false while b is too short to tell (the start of a magic number).
func Compressed(b []byte) (compressed, decided bool) {
	if bytes.HasPrefix(b, zstdMagic) || bytes.HasPrefix(b, gzipMagic) || (len(b) >= 4 && zstdSkippable(b[:4])) {
		return true, true
	}
	if len(b) >= 4 {
		return false, true
	}
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18}
	start := bytes.HasPrefix(zstdMagic, b) || bytes.HasPrefix(gzipMagic, b) ||
		(len(b) > 0 && b[0]&0xf0 == 0x50 && bytes.HasPrefix(skippable[1:], b[1:]))
	return false, !start
}

// Unpacker is the command that gives the lines of a stream that begins
// with head, as NewDecompressor reads it: "zstd -dc", "gzip -dc", or ""
// for a stream that is not compressed.
func Unpacker(head []byte) string {
	switch c, _ := Compressed(head); {
	case c && bytes.HasPrefix(head, gzipMagic):
		return "gzip -dc"
	case c:
		return "zstd -dc"
	}
	return ""
}

// zstdSkippable reports a zstd skippable frame's magic (0x184D2A50 to
// 0x184D2A5F, little-endian): pzstd begins its files with one, which zstd
// reads past.
func zstdSkippable(magic []byte) bool {
	return len(magic) == 4 && magic[0]&0xf0 == 0x50 && magic[1] == 0x2a && magic[2] == 0x4d && magic[3] == 0x18
}

// plainReader passes input through; the Reader reads lines from its
// buffer directly rather than through a second one.
type plainReader struct{ *bufio.Reader }

func (plainReader) Close() error { return nil }

type zstdReader struct{ d *zstd.Decoder }

func (z *zstdReader) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("zstd: %w", err)
	}
	return n, err
}

func (z *zstdReader) Close() error { z.d.Close(); return nil }

// gzipReader reads gzip members one after another, as gzip -d does (cat
// a.gz b.gz is one stream), and looks at what follows the last: zeros
// (a block device's padding) are passed over, anything else is an error
// that says so, rather than a member header that is not one.
type gzipReader struct {
	z  *gzip.Reader
	br *bufio.Reader
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err == io.EOF {
		err = g.next()
	}
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

// next starts the member that follows the one just ended, or says what
// follows instead: io.EOF at the end of the input or of zero padding.
func (g *gzipReader) next() error {
	head, err := g.br.Peek(len(gzipMagic))
	switch {
	case len(head) == 0 && err == io.EOF:
		return io.EOF
	case bytes.Equal(head, gzipMagic):
		if err := g.z.Reset(g.br); err != nil {
			return err
		}
		g.z.Multistream(false)
		return nil
	}
	return g.trailing()
}

// trailing reads what follows the last member: zeros only, or an error.
func (g *gzipReader) trailing() error {
	var seen int64
	for {
		b, err := g.br.ReadByte()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
		if b != 0 {
			return fmt.Errorf("%w: bytes that are not gzip follow the compressed data (%d zeros, then 0x%02x): "+
				"the file is damaged, or another file was appended to it", ErrTrailingData, seen, b)
		}
		seen++
	}
}

// ErrTrailingData is wrapped when something other than zeros follows the
// end of a compressed stream.
var ErrTrailingData = errors.New("trailing data")

// gzipError says "gzip:" once, whether the decoder's error says it or not.
func gzipError(err error) error {
	if strings.HasPrefix(err.Error(), "gzip: ") {
		return err
	}
	return fmt.Errorf("gzip: %w", err)
}

func (g *gzipReader) Close() error { return g.z.Close() }

// NewCompressor compresses by file name extension (.zst or .zstd, .gz or
// .gzip: a name that says gzip must never hold plain JSON),
// else passes through. Close flushes the compressor; it does not close w.
func NewCompressor(w io.Writer, name string) (io.WriteCloser, error) {
	// Suffixes are told apart whatever their case (BACKUP.JSONL.ZST), as
	// zstd and gzip themselves do not care either.
	name = strings.ToLower(name)
	switch {
	case strings.HasSuffix(name, ".zst"), strings.HasSuffix(name, ".zstd"):
		e, err := zstd.NewWriter(w)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return e, nil
	case strings.HasSuffix(name, ".gz"), strings.HasSuffix(name, ".gzip"):
		return gzip.NewWriter(w), nil
	}
	return nopWriteCloser{w}, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// ErrCompression is wrapped when a file name asks for a compression this
// package cannot write.
var ErrCompression = errors.New("unsupported compression")

// otherCompressions are suffixes (lower case) of compressed formats that
// NewCompressor does not write: a file so named must not silently get plain
// JSON.
var otherCompressions = []string{".xz", ".lzma", ".bz2", ".bz", ".lz4", ".lz", ".lzo", ".br", ".z", ".sz", ".7z", ".zip"}

// archives are suffixes (lower case) of tar archives: a stream is one
// file, never an archive, though .tar.gz and .tgz end as gzip does.
var archives = append([]string{".tar", ".tgz", ".tzst", ".taz", ".tbz", ".tbz2", ".txz", ".tlz", ".tar.gz", ".tar.zst", ".tar.zstd",
	".tar.gzip"}, tarred(otherCompressions)...)

// tarred is each of exts after .tar (.tar.xz for .xz).
func tarred(exts []string) []string {
	var t []string
	for _, e := range exts {
		t = append(t, ".tar"+e)
	}
	return t
}

// ErrArchive is wrapped when a file name asks for a tar archive.
var ErrArchive = errors.New("not a stream's name")

// CompressedName is the suffix of name that NewCompressor or CheckName
// reads as a compression or an archive (".zst", ".xz", ".tar.gz"), in
// name's own case, or "" for a plain name.
func CompressedName(name string) string {
	lower := strings.ToLower(name)
	for _, list := range [][]string{archives, {".zst", ".zstd", ".gz", ".gzip"}, otherCompressions} {
		for _, ext := range list {
			if strings.HasSuffix(lower, ext) {
				return name[len(name)-len(ext):]
			}
		}
	}
	return ""
}

// CheckName refuses a file name whose suffix, in any case, names a
// compression NewCompressor does not write (ErrCompression), or a tar
// archive (ErrArchive).
func CheckName(name string) error {
	lower := strings.ToLower(name)
	for _, ext := range archives {
		if strings.HasSuffix(lower, ext) {
			return fmt.Errorf("%w: %s: a name ending in %s is a tar archive; a stream is written as one file, plain, .zst or .gz", ErrArchive, name, name[len(name)-len(ext):])
		}
	}
	for _, ext := range otherCompressions {
		if strings.HasSuffix(lower, ext) {
			return fmt.Errorf("%w: %s: a name ending in %s asks for a compression this tool does not write (it writes .zst and .gz)", ErrCompression, name, name[len(name)-len(ext):])
		}
	}
	return nil
}
