package tools

import (
	"bytes"
	"strings"
	"testing"
)

// heldLine passes every byte but those after the last newline of what has
// come, or, when that ends in a newline, of the line before it: the last
// line, complete or not, waits.
func TestHeldLine(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pieces    []string
		out, held string
	}{
		{"one whole line", []string{"a\n"}, "", "a\n"},
		{"two lines", []string{"a\nb\n"}, "a\n", "b\n"},
		{"a line cut", []string{"a\nb"}, "a\n", "b"},
		{"the last line in pieces", []string{"a\nb", "c", "\n"}, "a\n", "bc\n"},
		{"a newline alone at the end", []string{"a\nb\nc", "\n"}, "a\nb\n", "c\n"},
		{"no newline at all", []string{"abc", "def"}, "", "abcdef"},
		{"lines across pieces", []string{"a\nb", "\nc\nd\n"}, "a\nb\nc\n", "d\n"},
		{"an empty line last", []string{"a\n", "\n"}, "a\n", "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var h heldLine
			for _, p := range tc.pieces {
				if err := h.write(&out, []byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != tc.out || string(h.buf) != tc.held {
				t.Errorf("wrote %q, held %q; want %q, %q", out.String(), h.buf, tc.out, tc.held)
			}
			if got := out.String() + string(h.buf); got != strings.Join(tc.pieces, "") {
				t.Errorf("lost bytes: %q", got)
			}
		})
	}
}
