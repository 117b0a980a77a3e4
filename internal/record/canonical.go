package record

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects, so that hostile input
// cannot exhaust the stack.
const MaxDepth = 10000

// Canonical appends the canonical form (docs/format.md) of the JSON value src to dst.
//
// src is validated strictly (RFC 8259, UTF-8, no lone surrogates). On error,
// dst is returned unchanged in length and the error wraps ErrSyntax.
func Canonical(dst, src []byte) ([]byte, error) {
	// The canonical form is about as long as the input: room made at once
	// spares a huge value the garbage of growing by doubling.
	dst = slices.Grow(dst, len(src))
	p := getParser(src, dst)
	n := len(dst)
	err := p.document()
	out := p.dst
	putParser(p)
	if err != nil {
		return out[:n], err
	}
	return out, nil
}

// member is one object member already written to the output: its key string
// (with quotes) starts at start and ends at colon; its value ends at end.
type member struct {
	start, colon, end int
}

// parser is a single-pass validating parser that writes canonical JSON while
// it reads. Object members are written in input order and then, only when
// they are not already sorted, rearranged through scratch.
type parser struct {
	src     []byte
	pos     int
	dst     []byte
	members []member
	scratch []byte
	name    []byte // a member name being looked up
	depth   int
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

func getParser(src, dst []byte) *parser {
	p := parserPool.Get().(*parser)
	p.src, p.pos, p.dst, p.depth = src, 0, dst, 0
	p.members = p.members[:0]
	return p
}

// putParser keeps small buffers for the next caller but lets a huge one go,
// so that one odd value does not pin its memory for the process's life.
func putParser(p *parser) {
	p.src, p.dst = nil, nil
	if cap(p.scratch) > 1<<20 {
		p.scratch = nil
	}
	if cap(p.members) > 1<<14 {
		p.members = nil
	}
	parserPool.Put(p)
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, fmt.Sprintf(format, args...), p.pos)
}

// unexpected reports the byte at p.pos (or the end of input).
func (p *parser) unexpected(what string) error {
	if p.pos >= len(p.src) {
		return p.errorf("unexpected end of input, expected %s", what)
	}
	c := p.src[p.pos]
	if c >= 0x20 && c < 0x7f {
		return p.errorf("unexpected %q, expected %s", c, what)
	}
	return p.errorf("unexpected byte 0x%02x, expected %s", c, what)
}

func (p *parser) document() error {
	p.skipSpace()
	if err := p.value(); err != nil {
		return err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return p.unexpected("end of input")
	}
	return nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() error {
	if p.pos >= len(p.src) {
		return p.unexpected("a value")
	}
	switch c := p.src[p.pos]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		return p.str(true)
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		return p.unexpected("a value")
	}
}

func (p *parser) literal(lit string) error {
	if len(p.src)-p.pos < len(lit) || string(p.src[p.pos:p.pos+len(lit)]) != lit {
		return p.errorf("invalid literal, expected %s", lit)
	}
	p.pos += len(lit)
	p.dst = append(p.dst, lit...)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (p *parser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // '['
	p.dst = append(p.dst, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.dst = append(p.dst, ']')
		p.depth--
		return nil
	}
	for {
		if err := p.value(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.unexpected("',' or ']'")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.dst = append(p.dst, ',')
			p.skipSpace()
		case ']':
			p.pos++
			p.dst = append(p.dst, ']')
			p.depth--
			return nil
		default:
			return p.unexpected("',' or ']'")
		}
	}
}

func (p *parser) object() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // '{'
	p.dst = append(p.dst, '{')
	body := len(p.dst)
	base := len(p.members)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.dst = append(p.dst, '}')
		p.depth--
		return nil
	}
	for {
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return p.unexpected("a member name")
		}
		if len(p.members) > base {
			p.dst = append(p.dst, ',')
		}
		m := member{start: len(p.dst)}
		if err := p.str(true); err != nil {
			return err
		}
		m.colon = len(p.dst)
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.unexpected("':'")
		}
		p.pos++
		p.dst = append(p.dst, ':')
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		m.end = len(p.dst)
		p.members = append(p.members, m)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.unexpected("',' or '}'")
		}
		c := p.src[p.pos]
		p.pos++
		if c == ',' {
			p.skipSpace()
			continue
		}
		if c != '}' {
			p.pos--
			return p.unexpected("',' or '}'")
		}
		break
	}
	p.sortMembers(body, base)
	p.members = p.members[:base]
	p.dst = append(p.dst, '}')
	p.depth--
	return nil
}

// sortMembers puts the members written since body in key order, keeping
// only the last of equal keys. Input that is already canonical costs one
// comparison per member and no copy.
func (p *parser) sortMembers(body, base int) {
	ms := p.members[base:]
	if len(ms) < 2 {
		return
	}
	dst := p.dst
	key := func(m member) []byte { return dst[m.start+1 : m.colon-1] }
	sorted := true
	for i := 1; i < len(ms); i++ {
		if compareKeys(key(ms[i-1]), key(ms[i])) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	cmp := func(a, b member) int { return compareKeys(key(a), key(b)) }
	if len(ms) <= 16 {
		// Insertion sort: stable, no allocation, quick for the usual few members.
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && cmp(ms[j-1], ms[j]) > 0; j-- {
				ms[j-1], ms[j] = ms[j], ms[j-1]
			}
		}
	} else {
		slices.SortStableFunc(ms, cmp)
	}
	// Mark the members that a later duplicate overrides before dst is
	// overwritten; a zero end marks one.
	for i := 0; i+1 < len(ms); i++ {
		if cmp(ms[i], ms[i+1]) == 0 {
			ms[i].end = 0
		}
	}
	p.scratch = append(p.scratch[:0], dst[body:]...)
	out := dst[:body]
	for _, m := range ms {
		if m.end == 0 {
			continue
		}
		if len(out) > body {
			out = append(out, ',')
		}
		out = append(out, p.scratch[m.start-body:m.end-body]...)
	}
	p.dst = out
}

// compareKeys compares two canonically escaped key strings (without quotes)
// by the bytes they stand for. Every canonical escape stands for one byte,
// so the comparison can decode as it goes.
func compareKeys(a, b []byte) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if ca != '\\' && cb != '\\' {
			if ca != cb {
				if ca < cb {
					return -1
				}
				return 1
			}
			i++
			j++
			continue
		}
		var na, nb int
		ca, na = unescapeByte(a, i)
		cb, nb = unescapeByte(b, j)
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		i += na
		j += nb
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}

// AppendUnescaped appends the bytes a canonical string's content (without
// its quotes) stands for. Every canonical escape stands for one byte.
func AppendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c, n := unescapeByte(s, i)
		dst = append(dst, c)
		i += n
	}
	return dst
}

// unescapeByte decodes the byte at s[i], which may start a canonical escape.
func unescapeByte(s []byte, i int) (byte, int) {
	if s[i] != '\\' {
		return s[i], 1
	}
	switch s[i+1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u': // \u00xx
		return hexVal(s[i+4])<<4 | hexVal(s[i+5]), 6
	}
	return s[i+1], 2 // \" or \\
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
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*lo) &^ x // high bit set where a byte < 0x20 (or ≥ 0x80)
	q, b := x^'"'*lo, x^'\\'*lo
	quote := (q - lo) &^ q  // high bit set where a byte is '"'
	bslash := (b - lo) &^ b // or a backslash
	return (ctl|quote|bslash|x)&hi == 0
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends the canonical escape of byte c if it needs one.
func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if c < 0x20 {
		return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, c)
}

// AppendString appends s as a canonical JSON string (docs/format.md). s must be
// valid UTF-8; invalid bytes are written as they are.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscaped(dst, c)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// str reads the string at p.pos. With quoted it writes the canonical string
// with its quotes; without, the bytes it stands for (for member names that
// are looked up rather than copied). A run of bytes that stay as they are
// (UTF-8 included) is copied in one go, up to an escape or the closing quote.
func (p *parser) str(quoted bool) error {
	open := p.pos
	src := p.src
	i := open + 1
	start := i
	if quoted {
		start = open
	}
	for {
		for i+8 <= len(src) && plain8(binary.LittleEndian.Uint64(src[i:])) {
			i += 8
		}
		for i < len(src) && plain[src[i]] {
			i++
		}
		if i >= len(src) {
			p.pos = open
			return p.errorf("unterminated string")
		}
		switch c := src[i]; {
		case c == '"':
			if quoted {
				p.dst = append(p.dst, src[start:i+1]...)
			} else {
				p.dst = append(p.dst, src[start:i]...)
			}
			p.pos = i + 1
			return nil
		case c == '\\':
			p.dst = append(p.dst, src[start:i]...)
			p.pos = i
			if err := p.escape(quoted); err != nil {
				return err
			}
			i = p.pos
			start = i
		case c < 0x20:
			p.pos = i
			return p.errorf("control character 0x%02x in string must be escaped", c)
		case c >= 0xc2 && c < 0xe0 && i+1 < len(src) && src[i+1]&0xc0 == 0x80:
			i += 2 // the usual two-byte sequence, valid by construction
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				p.pos = i
				return p.errorf("invalid UTF-8")
			}
			i += size
		}
	}
}

func (p *parser) escape(quoted bool) error {
	src := p.src
	if p.pos+1 >= len(src) {
		return p.errorf("unterminated escape")
	}
	var c byte
	switch src[p.pos+1] {
	case '"':
		c = '"'
	case '\\':
		c = '\\'
	case '/':
		c = '/'
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r, ok := hex4(src, p.pos+2)
		if !ok {
			return p.errorf("invalid \\u escape")
		}
		n := 6
		if r >= 0xd800 && r < 0xdc00 {
			lo, ok := rune(0), false
			if p.pos+12 <= len(src) && src[p.pos+6] == '\\' && src[p.pos+7] == 'u' {
				lo, ok = hex4(src, p.pos+8)
			}
			if !ok || lo < 0xdc00 || lo >= 0xe000 {
				return p.errorf("lone surrogate \\u%04x", r)
			}
			r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
			n = 12
		} else if r >= 0xdc00 && r < 0xe000 {
			return p.errorf("lone surrogate \\u%04x", r)
		}
		p.pos += n
		if r < 0x80 {
			if quoted {
				p.dst = appendEscaped(p.dst, byte(r))
			} else {
				p.dst = append(p.dst, byte(r))
			}
		} else {
			p.dst = utf8.AppendRune(p.dst, r)
		}
		return nil
	default:
		return p.errorf("invalid escape")
	}
	p.pos += 2
	if quoted {
		p.dst = appendEscaped(p.dst, c)
	} else {
		p.dst = append(p.dst, c)
	}
	return nil
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
