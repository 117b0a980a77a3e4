package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"
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

// Every byte value, at every place among the bytes skipped eight at a
// time, is escaped or kept as COPY wants.
func TestCopyTextEveryByte(t *testing.T) {
	const pad = "abcdefghijklmnopqrstu"
	for at := 0; at <= 17; at++ {
		for c := range 256 {
			s := pad[:at] + string([]byte{byte(c)}) + pad[at:]
			want := s + "\t"
			if e := map[byte]string{'\\': `\\`, '\t': `\t`, '\n': `\n`, '\r': `\r`}[byte(c)]; e != "" {
				want = pad[:at] + e + pad[at:] + "\t"
			}
			var w copyWriter
			if w.text(s); string(w.buf) != want {
				t.Fatalf("byte 0x%02x at %d: text = %q, want %q", c, at, w.buf, want)
			}
		}
	}
}

// A buffer a huge row grew is not kept for the next COPY.
func TestCopyBufLetsHugeGo(t *testing.T) {
	putCopyBuf(make([]byte, 0, 64*copyChunk))
	if b := getCopyBuf(); cap(b) > 4*copyChunk {
		t.Errorf("a %d-byte buffer was kept", cap(b))
	}
}

// A huge value's parts are cut before a character, never inside one, and
// together are the value.
func TestPartLen(t *testing.T) {
	v := []byte(strings.Repeat("aé€😀", 3000))
	for _, n := range []int{4, 5, 7, 64, 1000} {
		var got []byte
		for rest := v; len(rest) > 0; {
			k := partLen(rest, n)
			if k == 0 || k > n || !utf8.Valid(rest[:k]) {
				t.Fatalf("n=%d: part of %d bytes: %q", n, k, rest[:min(k, 8)])
			}
			got, rest = append(got, rest[:k]...), rest[k:]
		}
		if string(got) != string(v) {
			t.Fatalf("n=%d: parts joined differ from the value", n)
		}
	}
}
