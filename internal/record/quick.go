package record

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Most values a store or a dump hands on are canonical already, and
// checking them was a third of persist-diff's CPU and over a quarter of
// persist-load's: checkValue reads a value token by token through the tokenizer's general
// methods, each a call that skips space and tells every error apart.
// quickCheck reads canonical JSON in one loop and says no more than whether
// it is; anything it does not read (nesting deeper than quickDepth, a number
// to respell, anything not valid) it leaves to checkValue, which then reads
// the value from its start.

// verdict is what quickCheck tells of a value.
type verdict uint8

const (
	unsure       verdict = iota // read it with checkValue
	isCanonical                 // valid, and its own canonical form
	notCanonical                // valid up to a space, an escape or a member out of order
)

// quickDepth is how deeply quickCheck follows arrays and objects: deeper
// than values written by applications go, and shallow enough for its
// stack to stay small.
const quickDepth = 32

// frame is an array or an object quickCheck is inside.
type frame struct {
	close   byte   // ']' or '}'
	escaped bool   // whether last holds an escape
	last    []byte // the object's last member name, nil before the first
}

// quickCheck reads the value at src[i:]. When it is canonical, end is just
// past it; otherwise end means nothing.
func quickCheck(src []byte, i int) (end int, v verdict) {
	var stack [quickDepth]frame
	depth := 0
	for {
		if opens(src, i) {
			if depth == quickDepth {
				return i, unsure
			}
			stack[depth] = frame{close: src[i] + 2} // '{'+2 is '}', '['+2 is ']'
			depth++
			i++
			if f := &stack[depth-1]; f.close == '}' {
				if i, v = quickName(src, i, f); v != isCanonical {
					return i, v
				}
			}
			continue
		}
		if i, v = quickScalar(src, i); v != isCanonical {
			return i, v
		}
		// A value ends at i: read the closes it ends, then a comma.
		for depth > 0 && i < len(src) && src[i] == stack[depth-1].close {
			i++
			depth--
		}
		if depth == 0 {
			return i, isCanonical
		}
		if i >= len(src) || src[i] != ',' {
			return i, spaceOr(src, i, unsure)
		}
		i++
		if f := &stack[depth-1]; f.close == '}' {
			if i, v = quickName(src, i, f); v != isCanonical {
				return i, v
			}
		}
	}
}

// opens reports an array or an object, not empty, at src[i].
func opens(src []byte, i int) bool {
	return i+1 < len(src) && (src[i] == '{' || src[i] == '[') && src[i+1] != src[i]+2
}

// quickScalar reads a string, a number, a literal, "[]" or "{}" at src[i:].
func quickScalar(src []byte, i int) (end int, v verdict) {
	if i >= len(src) {
		return i, unsure
	}
	switch c := src[i]; c {
	case '"':
		end, v, _ = quickString(src, i)
		return end, v
	case 't':
		return quickLiteral(src, i, "true")
	case 'f':
		return quickLiteral(src, i, "false")
	case 'n':
		return quickLiteral(src, i, "null")
	case '{', '[':
		if i+1 < len(src) && src[i+1] == c+2 {
			return i + 2, isCanonical
		}
		return i, unsure
	}
	if end = plainNumberEnd(src, i); end < 0 {
		return i, spaceOr(src, i, unsure)
	}
	return end, isCanonical
}

// quickString reads the string at src[i:]; escaped reports an escape in it.
func quickString(src []byte, i int) (end int, v verdict, escaped bool) {
	open := i
	for i++; ; {
		if i+8 <= len(src) {
			m := special8(binary.LittleEndian.Uint64(src[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(src) && plain[src[i]] {
				i++
			}
			if i >= len(src) {
				return i, unsure, false
			}
		}
		switch c := src[i]; {
		case c == '"':
			return i + 1, isCanonical, false
		case c >= 0xc2 && c < 0xe0 && i+1 < len(src) && src[i+1]&0xc0 == 0x80:
			i += 2 // the usual two-byte sequence, valid by construction
		case c >= 0x80:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, unsure, false
			}
			i += size
		default: // an escape, or a control character: str tells
			end, escaped, ok := escapedString(src, open)
			if !ok {
				return i, unsure, false
			}
			if escaped && !canonicalEscapes(src[open+1:end-1]) {
				return end, notCanonical, true
			}
			return end, isCanonical, escaped
		}
	}
}

// escapedString reads the string at src[open:] with the tokenizer, for the
// escapes it checks and decodes.
func escapedString(src []byte, open int) (end int, escaped, ok bool) {
	t := tokenizer{src: src, pos: open}
	end, escaped, err := t.str(nil)
	return end, escaped, err == nil
}

func quickLiteral(src []byte, i int, lit string) (int, verdict) {
	if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
		return i, unsure
	}
	return i + len(lit), isCanonical
}

// quickName reads a member's name and its colon, a name after f.last.
func quickName(src []byte, i int, f *frame) (int, verdict) {
	if i >= len(src) || src[i] != '"' {
		return i, spaceOr(src, i, unsure)
	}
	end, v, escaped := quickString(src, i)
	if v != isCanonical {
		return end, v
	}
	name := src[i+1 : end-1]
	switch {
	case f.last == nil:
	case escaped || f.escaped:
		if compareKeys(f.last, name) >= 0 {
			return end, notCanonical
		}
	case len(f.last) > 0 && len(name) > 0 && f.last[0] != name[0]:
		// Most names differ in their first byte: no call to compare them.
		if f.last[0] > name[0] {
			return end, notCanonical
		}
	case bytes.Compare(f.last, name) >= 0:
		return end, notCanonical
	}
	f.last, f.escaped = name, escaped
	if end >= len(src) || src[end] != ':' {
		return end, spaceOr(src, end, unsure)
	}
	return end + 1, isCanonical
}

// spaceOr is notCanonical where space stands at src[i], which JSON allows
// wherever quickCheck calls it and canonical JSON does not; else v.
func spaceOr(src []byte, i int, v verdict) verdict {
	if i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			return notCanonical
		}
	}
	return v
}
