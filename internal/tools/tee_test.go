package tools

import (
	"bytes"
	"strings"
	"testing"
)

// heldLine passes every byte of a framed (or compressed) input but those
// after the last newline of what has come, or, when that ends in a
// newline, of the line before it: the last line, complete or not, waits.
// An input whose first line is no header passes whole, at once.
func TestHeldLine(t *testing.T) {
	const h = `{"kind":"header","format":"persist.v1"}` + "\n"
	zstd, gzip := "\x28\xb5\x2f\xfd", "\x1f\x8b"
	for _, tc := range []struct {
		name      string
		pieces    []string
		out, held string
	}{
		{"a header alone", []string{h}, "", h},
		{"two lines", []string{h + "b\n"}, h, "b\n"},
		{"a line cut", []string{h + "b"}, h, "b"},
		{"the last line in pieces", []string{h + "b", "c", "\n"}, h, "bc\n"},
		{"a newline alone at the end", []string{h + "b\nc", "\n"}, h + "b\n", "c\n"},
		{"lines across pieces", []string{h + "a\nb", "\nc\nd\n"}, h + "a\nb\nc\n", "d\n"},
		{"an empty line last", []string{h + "a\n", "\n"}, h + "a\n", "\n"},
		{"the header in pieces", []string{h[:5], h[5:] + "x\n"}, h, "x\n"},
		{"zstd", []string{zstd + "ab\ncd\nef"}, zstd + "ab\ncd\n", "ef"},
		{"zstd's magic in pieces", []string{zstd[:2], zstd[2:] + "a\nb"}, zstd + "a\n", "b"},
		{"gzip", []string{gzip + "\x00\n\x01"}, gzip + "\x00\n", "\x01"},
		{"no header: passed", []string{`{"kind":"record"}` + "\n", "x\ny"}, `{"kind":"record"}` + "\nx\ny", ""},
		{"not JSON: passed", []string{"abc\n"}, "abc\n", ""},
		{"no newline yet: waits", []string{"abc", "def"}, "", "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var hl heldLine
			for _, p := range tc.pieces {
				if err := hl.write(&out, []byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != tc.out || string(hl.buf) != tc.held {
				t.Errorf("wrote %q, held %q; want %q, %q", out.String(), hl.buf, tc.out, tc.held)
			}
			if err := hl.release(&out); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != strings.Join(tc.pieces, "") {
				t.Errorf("lost bytes: %q", got)
			}
		})
	}
}
