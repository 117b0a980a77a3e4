package record

import (
	"bytes"
	"testing"
)

// Compressed tells a compressed stream from its first bytes as
// NewDecompressor does, and waits while they could still begin a magic
// number.
func TestCompressedPrefix(t *testing.T) {
	for _, tc := range []struct {
		b                   []byte
		compressed, decided bool
	}{
		{[]byte{0x28, 0xb5, 0x2f, 0xfd, 0}, true, true},
		{[]byte{0x28, 0xb5}, false, false},
		{[]byte{0x1f, 0x8b}, true, true},
		{[]byte{0x1f}, false, false},
		{[]byte{0x5e, 0x2a, 0x4d, 0x18}, true, true}, // a skippable frame, as pzstd begins
		{[]byte{0x53, 0x2a}, false, false},
		{[]byte(`{"kind":"header"}`), false, true},
		{[]byte(`{`), false, true},
		{nil, false, false},
	} {
		c, d := Compressed(tc.b)
		if c != tc.compressed || d != tc.decided {
			t.Errorf("Compressed(% x) = %v, %v; want %v, %v", tc.b, c, d, tc.compressed, tc.decided)
		}
		if len(tc.b) >= 4 && d {
			r, err := NewDecompressor(bytes.NewReader(tc.b))
			if err == nil {
				_, plain := r.(plainReader)
				if plain == c {
					t.Errorf("% x: Compressed says %v, NewDecompressor reads it plain = %v", tc.b, c, plain)
				}
				r.Close()
			}
		}
	}
}
