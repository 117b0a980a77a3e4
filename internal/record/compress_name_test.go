package record

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestCheckNameAnyCase(t *testing.T) {
	for name, want := range map[string]error{
		"a.jsonl": nil, "a.ZST": nil, "a.jsonl.GZ": nil, "a.Zstd": nil, "a.gz": nil, "a.GZIP": nil, "tarot.jsonl": nil,
		"a.XZ": ErrCompression, "a.Bz2": ErrCompression, "a.Z": ErrCompression, "a.zip": ErrCompression,
		"a.tgz": ErrArchive, "a.TGZ": ErrArchive, "a.tzst": ErrArchive, "a.tar.gz": ErrArchive,
		"a.TAR.ZST": ErrArchive, "a.tar": ErrArchive,
	} {
		if err := CheckName(name); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("CheckName(%s) = %v, want %v", name, err, want)
		}
	}
	for name, magic := range map[string][]byte{"a.ZST": {0x28, 0xb5, 0x2f, 0xfd}, "a.Gz": {0x1f, 0x8b}, "a.jsonl.gzip": {0x1f, 0x8b}, "a.zstd": {0x28, 0xb5, 0x2f, 0xfd}} {
		var b bytes.Buffer
		c, err := NewCompressor(&b, name)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("{}\n"))
		c.Close()
		if !bytes.HasPrefix(b.Bytes(), magic) {
			t.Errorf("%s is not compressed: % x", name, b.Bytes()[:4])
		}
	}
}

// A zstd file that begins with a skippable frame (as pzstd writes them) is
// zstd: it was read as text and refused as "invalid JSON".
func TestZstdSkippableFrameFirst(t *testing.T) {
	const text = "{\"kind\":\"record\",\"collection\":\"c\",\"key\":\"k\",\"value\":1}\n"
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := enc.EncodeAll([]byte(text), nil)
	skip := []byte{0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	for _, in := range [][]byte{append(slices.Clone(skip), frame...), frame} {
		r, err := NewDecompressor(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != text {
			t.Errorf("read %x…: %q, %v; want the text", in[:4], got, err)
		}
	}
}

// A gzip input is read member after member, as gzip -d reads it; zeros
// after the last (padding) are passed over, and anything else is an error
// that says what it is, once prefixed.
func TestGzipMembersAndTrailingData(t *testing.T) {
	member := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	two := append(member("first half, "), member("second half")...)
	for _, c := range []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"one member", member("whole"), "whole", nil},
		{"two members", two, "first half, second half", nil},
		{"zero padding", append(member("whole"), make([]byte, 600)...), "whole", nil},
		{"junk after", append(member("whole"), "junk"...), "", ErrTrailingData},
		{"zeros then junk", append(append(member("whole"), 0, 0), 'x'), "", ErrTrailingData},
		{"cut short", member("whole")[:15], "", io.ErrUnexpectedEOF},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewDecompressor(bytes.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if c.err == nil && (err != nil || string(got) != c.want) {
				t.Fatalf("%q, %v; want %q", got, err, c.want)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("%v, want %v", err, c.err)
			}
			if err != nil && strings.Count(err.Error(), "gzip:") != 1 {
				t.Errorf("%q says gzip: other than once", err)
			}
		})
	}
}
