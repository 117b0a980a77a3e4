package diff

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/record"
)

// maxShown is how many characters of a value human output shows before
// cutting it with "…".
const maxShown = 60

// address names an item for people: "record users/u1", "event orders/12".
func address(it *record.Item) string {
	return string(appendAddress(nil, it))
}

func appendAddress(dst []byte, it *record.Item) []byte {
	if it.IsRecord() {
		dst = append(dst, "record "...)
		dst = appendName(dst, it.Collection)
		dst = append(dst, '/')
		return appendName(dst, it.Key)
	}
	dst = append(dst, "event "...)
	dst = appendName(dst, it.Stream)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, it.Seq, 10)
}

// appendName writes s bare when that cannot be misread, and as a JSON string
// otherwise: empty, a space, a slash, a quote, or anything a terminal would
// not show as itself, a combining mark included (é and e + U+0301 are
// two keys that a terminal shows alike).
func appendName(dst []byte, s string) []byte {
	if plainName(s) {
		return append(dst, s...)
	}
	return appendQuoted(dst, s)
}

func plainName(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '"' || r == '\\' || r == ' ' || !unicode.IsPrint(r) || combining(r) {
			return false
		}
	}
	return true
}

// appendQuoted writes s as a JSON string that is safe on a terminal: besides
// the escapes JSON requires, every rune that does not print as itself (C1
// controls, bidi overrides, zero-width characters) becomes \uXXXX.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendSafe(dst, s, true)
	return append(dst, '"')
}

// appendSafe copies s with non-printing runes escaped as \uXXXX (surrogate
// pairs beyond the BMP). With inString, '"' and '\' are escaped too; without,
// s is already JSON text whose own escapes stay as they are.
func appendSafe(dst []byte, s string, inString bool) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\ufffd`...)
		case inString && (r == '"' || r == '\\'):
			dst = append(dst, '\\', byte(r))
		case inString && r == '\n':
			dst = append(dst, `\n`...)
		case inString && r == '\t':
			dst = append(dst, `\t`...)
		case inString && r == '\r':
			dst = append(dst, `\r`...)
		case r == ' ' || unicode.IsPrint(r) && !(inString && combining(r)):
			dst = append(dst, s[i:i+n]...)
		default:
			dst = appendU(dst, r)
		}
		i += n
	}
	return dst
}

// combining reports a mark drawn on the character before it.
func combining(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Me) }

func appendU(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	if r > 0xffff {
		r1, r2 := utf16Pair(r)
		return appendU(appendU(dst, r1), r2)
	}
	return append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// appendShort writes JSON text (or nil as "(absent)") for people: escaped for
// the terminal and cut to about maxShown characters.
func appendShort(dst []byte, v []byte) []byte {
	if v == nil {
		return append(dst, "(absent)"...)
	}
	start := len(dst)
	dst = appendSafe(dst, string(v), false)
	return cut(dst, start)
}

// appendShortString is appendShort for a plain string shown quoted.
func appendShortString(dst []byte, s string) []byte {
	start := len(dst)
	dst = appendQuoted(dst, s)
	return cut(dst, start)
}

// cut shortens dst[start:] to maxShown runes, the last one "…".
func cut(dst []byte, start int) []byte {
	n := 0
	for i := start; i < len(dst); {
		_, size := utf8.DecodeRune(dst[i:])
		n++
		if n == maxShown && i+size < len(dst) {
			return append(dst[:i], "…"...)
		}
		i += size
	}
	return dst
}
