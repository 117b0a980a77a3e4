package postgres

import (
	"strings"
	"testing"
)

// COPY's text format escapes exactly backslash, tab, newline and carriage
// return, wherever they stand among the bytes skipped eight at a time.
func FuzzCopyText(f *testing.F) {
	for _, s := range []string{"", "plain", `{"a":"b\\"c"}`, "a\tb\nc\rd\\e", strings.Repeat("x", 17) + "\t",
		"\x00\x1f\x7f\x80\xff", "0123456\\", "01234567\\", "é\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				want.WriteString(`\\`)
			case '\t':
				want.WriteString(`\t`)
			case '\n':
				want.WriteString(`\n`)
			case '\r':
				want.WriteString(`\r`)
			default:
				want.WriteByte(c)
			}
		}
		want.WriteByte('\t')
		var w copyWriter
		w.text(s)
		if string(w.buf) != want.String() {
			t.Fatalf("text(%q) = %q, want %q", s, w.buf, want.String())
		}
	})
}
