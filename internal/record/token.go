package record

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// tokenizer is the package's one reader of JSON text (RFC 8259, UTF-8, no
// lone surrogates), a token at a time. It validates as it goes and knows
// the limits (MaxDepth, MaxExponent); what is made of the tokens is up to
// its users: the canonicaliser writes them out, the canonical check compares
// them with their canonical form, and the value walkers (EachMember,
// EachElement, EachNumber) hand them on.
//
// Each method reads the token at pos and leaves pos just past it.
type tokenizer struct {
	src   []byte
	pos   int
	depth int
}

func (t *tokenizer) reset(src []byte) {
	t.src, t.pos, t.depth = src, 0, 0
}

func (t *tokenizer) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, fmt.Sprintf(format, args...), t.pos)
}

// unexpected reports the byte at pos (or the end of input).
func (t *tokenizer) unexpected(what string) error {
	if t.pos >= len(t.src) {
		return t.errorf("unexpected end of input, expected %s", what)
	}
	c := t.src[t.pos]
	if c >= 0x20 && c < 0x7f {
		return t.errorf("unexpected %q, expected %s", c, what)
	}
	return t.errorf("unexpected byte 0x%02x, expected %s", c, what)
}

func (t *tokenizer) skipSpace() {
	for t.pos < len(t.src) {
		switch t.src[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

// peek is the byte at pos, or 0 at the end.
func (t *tokenizer) peek() byte {
	if t.pos < len(t.src) {
		return t.src[t.pos]
	}
	return 0
}

// end checks that nothing but space follows a value.
func (t *tokenizer) end(what string) error {
	t.skipSpace()
	if t.pos != len(t.src) {
		return t.unexpected(what)
	}
	return nil
}

// literal reads true, false or null, whichever lit is.
func (t *tokenizer) literal(lit string) error {
	if len(t.src)-t.pos < len(lit) || string(t.src[t.pos:t.pos+len(lit)]) != lit {
		return t.errorf("invalid literal, expected %s", lit)
	}
	t.pos += len(lit)
	return nil
}

// enter, comma, colon and closeNow read punctuation and the space around
// it; they are small enough to be inlined into the loops that read every
// token. enter reads the '[' or '{' at pos, counting the depth, and
// reports false past MaxDepth (deep says so).
func (t *tokenizer) enter() bool {
	t.depth++
	t.pos++
	t.skipSpace()
	return t.depth <= MaxDepth
}

func (t *tokenizer) deep() error {
	return limitf("nesting deeper than %d levels (the limit)", MaxDepth)
}

// closeNow reads close if it is at pos, ending the container.
func (t *tokenizer) closeNow(close byte) bool {
	if t.pos < len(t.src) && t.src[t.pos] == close {
		t.pos++
		t.depth--
		return true
	}
	return false
}

// comma reads a ',' after an element or member, if there is one.
func (t *tokenizer) comma() bool {
	t.skipSpace()
	if t.pos < len(t.src) && t.src[t.pos] == ',' {
		t.pos++
		t.skipSpace()
		return true
	}
	return false
}

// colon reads the ':' after a member name.
func (t *tokenizer) colon() bool {
	t.skipSpace()
	if t.pos < len(t.src) && t.src[t.pos] == ':' {
		t.pos++
		t.skipSpace()
		return true
	}
	return false
}

// closing reads close where an element or member and no comma ended.
func (t *tokenizer) closing(close byte) error {
	if t.closeNow(close) {
		return nil
	}
	if close == ']' {
		return t.unexpected("',' or ']'")
	}
	return t.unexpected("',' or '}'")
}

// open and more are enter and comma for readers that need not be quick:
// open also reads an empty container's close (empty reports it), more a
// close (more is false then).
func (t *tokenizer) open(close byte) (empty bool, err error) {
	if !t.enter() {
		return false, t.deep()
	}
	return t.closeNow(close), nil
}

func (t *tokenizer) more(close byte) (bool, error) {
	if t.comma() {
		return true, nil
	}
	return false, t.closing(close)
}

// nameColon reads the ':' after a member name, or says it is missing.
func (t *tokenizer) nameColon() error {
	if !t.colon() {
		return t.unexpected("':'")
	}
	return nil
}

// nameStart checks that a member name starts at pos.
func (t *tokenizer) nameStart() error {
	if t.pos >= len(t.src) || t.src[t.pos] != '"' {
		return t.unexpected("a member name")
	}
	return nil
}

// plain marks the bytes a string may hold as they are: printable ASCII
// other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain8 reports whether all eight bytes of x are plain, testing them at
// once: long strings are most of what a stream holds.
func plain8(x uint64) bool { return special8(x) == 0 }

// special8 marks the bytes of x that are not plain (a control character,
// the quote, the backslash, a byte of a UTF-8 sequence) in each one's high
// bit. Past the first byte it marks, it may mark others that are plain (a
// borrow carries into them), so only the lowest mark is to be trusted.
func special8(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*lo) &^ x // high bit set where a byte < 0x20 (or ≥ 0x80)
	q, b := x^'"'*lo, x^'\\'*lo
	quote := (q - lo) &^ q  // high bit set where a byte is '"'
	bslash := (b - lo) &^ b // or a backslash
	return (ctl | quote | bslash | x) & hi
}

// str reads the string at pos (its opening quote) and returns the index
// just past its closing quote; escaped reports whether it holds any escape.
// With w, it also appends the string's canonical form to *w as it goes:
// runs of bytes that stay as they are (UTF-8 included) in one go, escapes
// decoded and written anew.
func (t *tokenizer) str(w *[]byte) (end int, escaped bool, err error) {
	src := t.src
	start := t.pos // of what is still to be written
	i := t.pos + 1
	for {
		for i+8 <= len(src) && plain8(binary.LittleEndian.Uint64(src[i:])) {
			i += 8
		}
		for i < len(src) && plain[src[i]] {
			i++
		}
		if i >= len(src) {
			return 0, false, t.errorf("unterminated string")
		}
		switch c := src[i]; {
		case c == '"':
			t.pos = i + 1
			if w != nil {
				*w = append(*w, src[start:i+1]...)
			}
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			r, n, err := escape(src, i)
			if err != nil {
				t.pos = i
				return 0, false, err
			}
			if w != nil {
				*w = appendRune(append(*w, src[start:i]...), r)
				start = i + n
			}
			i += n
		case c < 0x20:
			t.pos = i
			return 0, false, t.errorf("control character 0x%02x in string must be escaped", c)
		case c >= 0xc2 && c < 0xe0 && i+1 < len(src) && src[i+1]&0xc0 == 0x80:
			i += 2 // the usual two-byte sequence, valid by construction
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				t.pos = i
				return 0, false, t.errorf("invalid UTF-8")
			}
			i += size
		}
	}
}

// appendRune appends r as canonical JSON spells it inside a string.
func appendRune(dst []byte, r rune) []byte {
	if r >= utf8.RuneSelf {
		return utf8.AppendRune(dst, r)
	}
	return appendEscaped(dst, byte(r))
}

// escape reads the escape at s[i] (a backslash): the rune it stands for
// and its length, 2, 6 for \uXXXX, or 12 for a surrogate pair.
func escape(s []byte, i int) (rune, int, error) {
	if i+1 >= len(s) {
		return 0, 0, escapeErr(i, "unterminated escape")
	}
	switch c := s[i+1]; c {
	case '"', '\\', '/':
		return rune(c), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
	default:
		return 0, 0, escapeErr(i, "invalid escape")
	}
	r, ok := hex4(s, i+2)
	switch {
	case !ok:
		return 0, 0, escapeErr(i, "invalid \\u escape")
	case r < 0xd800 || r >= 0xe000:
		return r, 6, nil
	case r < 0xdc00 && i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u':
		if lo, ok := hex4(s, i+8); ok && lo >= 0xdc00 && lo < 0xe000 {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
		}
	}
	return 0, 0, escapeErr(i, fmt.Sprintf("lone surrogate \\u%04x", r))
}

func escapeErr(at int, msg string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, msg, at)
}

// decodeEscape decodes the escape at s[i], which str has checked.
func decodeEscape(s []byte, i int) (rune, int) {
	r, n, _ := escape(s, i)
	return r, n
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		v := hexVal(c)
		if v == 0xff {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// skipValue reads the value at pos, whatever it is, and returns its kind
// (its first byte).
func (t *tokenizer) skipValue() (byte, error) {
	c := t.peek()
	var err error
	switch c {
	case '{', '[':
		err = t.skipContainer(c)
	case '"':
		_, _, err = t.str(nil)
	case 't':
		err = t.literal("true")
	case 'f':
		err = t.literal("false")
	case 'n':
		err = t.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			var n numberText
			err = t.number(&n)
		} else {
			err = t.unexpected("a value")
		}
	}
	return c, err
}

func (t *tokenizer) skipContainer(c byte) error {
	close := byte(']')
	if c == '{' {
		close = '}'
	}
	empty, err := t.open(close)
	for more := !empty; more && err == nil; {
		if c == '{' {
			err = t.skipName()
		}
		if err == nil {
			_, err = t.skipValue()
		}
		if err == nil {
			more, err = t.more(close)
		}
	}
	return err
}

// skipName reads a member name and the colon after it.
func (t *tokenizer) skipName() error {
	if err := t.nameStart(); err != nil {
		return err
	}
	if _, _, err := t.str(nil); err != nil {
		return err
	}
	return t.nameColon()
}
