package record

import (
	"bytes"
	"slices"
	"sync"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects, so that hostile input
// cannot exhaust the stack. Reading a level takes about 320 bytes of it, so
// the limit costs 3 MiB at most; and it is as deep as PostgreSQL's jsonb
// goes with its default max_stack_depth (15000 nested objects are refused
// there), so a value within it moves between the two stores.
const MaxDepth = 10000

// Canonical appends the canonical form (docs/format.md) of the JSON value src to dst.
//
// src is validated strictly (RFC 8259, UTF-8, no lone surrogates). On error,
// dst is returned unchanged in length and the error wraps ErrSyntax, or
// ErrLimit for legal JSON beyond one of the limits (MaxDepth, MaxExponent).
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

// IsCanonical reports whether the JSON value src is valid and already in
// canonical form, without writing anything: what Canonical would write is
// then src itself. When it is not canonical the error is nil; when it is not
// valid, the error is the one Canonical would give, though where src is
// both, IsCanonical may report only the first and leave the error to
// Canonical.
func IsCanonical(src []byte) (bool, error) {
	if len(src) > 0 && src[0] <= ' ' {
		return false, nil // space before it, or not JSON at all: Canonical tells
	}
	p := getParser(src, nil)
	ok, err := p.check()
	if ok && err == nil && p.pos != len(src) {
		ok, err = false, nil
	}
	putParser(p)
	return ok, err
}

// member is one object member already written to the output: its key string
// (with quotes) starts at start and ends at colon; its value ends at end.
type member struct {
	start, colon, end int
}

// parser writes canonical JSON as its tokenizer reads: a single pass.
// Object members are written in input order and then, only when they are
// not already sorted, rearranged through scratch.
type parser struct {
	tokenizer
	dst     []byte
	members []member
	scratch []byte
	name    []byte // a member name being looked up
	orders  orders
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

func getParser(src, dst []byte) *parser {
	p := parserPool.Get().(*parser)
	p.reset(src)
	p.dst = dst
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
	if cap(p.name) > 1<<20 {
		p.name = nil
	}
	if cap(p.members) > 1<<14 {
		p.members = nil
	}
	parserPool.Put(p)
}

func (p *parser) document() error {
	p.skipSpace()
	if err := p.value(); err != nil {
		return err
	}
	return p.end("end of input")
}

func (p *parser) value() error {
	switch c := p.peek(); c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		_, _, err := p.str(&p.dst)
		return err
	case 't':
		return p.lit("true")
	case 'f':
		return p.lit("false")
	case 'n':
		return p.lit("null")
	}
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return p.unexpected("a value")
	}
	if start := p.pos; p.plainNumber() {
		p.dst = append(p.dst, p.src[start:p.pos]...)
		return nil
	}
	return p.num()
}

// num writes the number at pos canonically. It is a function of its own so
// that the recursion through value takes little stack.
func (p *parser) num() error {
	var n numberText
	if err := p.number(&n); err != nil {
		return err
	}
	p.dst = n.appendCanonical(p.dst, p.src)
	return nil
}

func (p *parser) lit(lit string) error {
	if err := p.literal(lit); err != nil {
		return err
	}
	p.dst = append(p.dst, lit...)
	return nil
}

// content reads the string at pos and returns the bytes it stands for:
// where it has no escape, the source itself; else decoded into buf.
func (t *tokenizer) content(buf []byte) (s, newBuf []byte, err error) {
	open := t.pos
	end, escaped, err := t.str(nil)
	if err != nil {
		return nil, buf, err
	}
	if !escaped {
		return t.src[open+1 : end-1], buf, nil
	}
	buf = appendDecoded(buf[:0], t.src[open+1:end-1])
	return buf, buf, nil
}

// appendDecoded appends the bytes the string content s (checked by str)
// stands for, its escapes decoded.
func appendDecoded(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		r, n := decodeEscape(s, i)
		dst = utf8.AppendRune(append(dst, s[:i]...), r)
		s = s[i+n:]
	}
}

func (p *parser) array() error {
	if !p.enter() {
		return p.deep()
	}
	if p.closeNow(']') {
		p.dst = append(p.dst, '[', ']')
		return nil
	}
	p.dst = append(p.dst, '[')
	for {
		if err := p.value(); err != nil {
			return err
		}
		if !p.comma() {
			break
		}
		p.dst = append(p.dst, ',')
	}
	if !p.closeNow(']') {
		return p.closing(']')
	}
	p.dst = append(p.dst, ']')
	return nil
}

func (p *parser) object() error {
	if !p.enter() {
		return p.deep()
	}
	if p.closeNow('}') {
		p.dst = append(p.dst, '{', '}')
		return nil
	}
	p.dst = append(p.dst, '{')
	body := len(p.dst)
	base := len(p.members)
	for {
		if err := p.nameStart(); err != nil {
			return err
		}
		m := member{start: len(p.dst)}
		if _, _, err := p.str(&p.dst); err != nil {
			return err
		}
		m.colon = len(p.dst)
		if !p.colon() {
			return p.unexpected("':'")
		}
		p.dst = append(p.dst, ':')
		if err := p.value(); err != nil {
			return err
		}
		m.end = len(p.dst)
		p.members = append(p.members, m)
		if !p.comma() {
			break
		}
		p.dst = append(p.dst, ',')
	}
	if !p.closeNow('}') {
		return p.closing('}')
	}
	p.sortMembers(body, base)
	p.members = p.members[:base]
	p.dst = append(p.dst, '}')
	return nil
}

// sortMembers puts the members written since body in key order, keeping
// only the last of equal keys. Input that is already canonical costs one
// comparison per member and no copy.
func (p *parser) sortMembers(body, base int) {
	ms := p.members[base:]
	if len(ms) < 2 || inOrder(p.dst, ms) {
		return
	}
	order := p.orders.of(p.dst, ms)
	if order == nil {
		p.sortAll(body, ms)
		return
	}
	p.scratch = append(p.scratch[:0], p.dst[body:]...)
	out := p.dst[:body]
	for i, k := range order {
		if i > 0 {
			out = append(out, ',')
		}
		m := ms[k]
		out = append(out, p.scratch[m.start-body:m.end-body]...)
	}
	p.dst = out
}

func memberKey(dst []byte, m member) []byte { return dst[m.start+1 : m.colon-1] }

func inOrder(dst []byte, ms []member) bool {
	for i := 1; i < len(ms); i++ {
		if compareKeys(memberKey(dst, ms[i-1]), memberKey(dst, ms[i])) >= 0 {
			return false
		}
	}
	return true
}

// orders finds the order of an object's members, and remembers it for the
// next object with the same keys in the same order: values an application
// writes come in a few shapes, again and again, and PostgreSQL's jsonb
// prints every object's keys shortest first, out of canonical order.
type orders struct {
	known map[string][]int32 // by the keys as written, quotes and all
	bytes int                // of the keys in known
	shape []byte
}

// Orders are remembered for objects of minShapeKeys to maxShapeKeys members whose
// keys take up to maxShapeBytes, and are all forgotten at once when more
// than maxShapes of them or maxShapesBytes of keys would be kept: the
// memory stays small whatever the values, which need not be an
// application's.
const (
	maxShapes      = 512
	minShapeKeys   = 4
	maxShapeKeys   = 64
	maxShapeBytes  = 2 << 10
	maxShapesBytes = 64 << 10
)

// of returns the index of each member in key order, or nil when two keys
// are equal or the object is not one to remember (then sorting it is as
// quick as finding its order).
func (o *orders) of(dst []byte, ms []member) []int32 {
	if len(ms) < minShapeKeys || len(ms) > maxShapeKeys {
		return nil
	}
	o.shape = o.shape[:0]
	for _, m := range ms {
		if len(o.shape)+m.colon-m.start > maxShapeBytes {
			return nil
		}
		o.shape = append(o.shape, dst[m.start:m.colon]...)
	}
	if order, ok := o.known[string(o.shape)]; ok {
		return order
	}
	order := sortedIndices(dst, ms)
	if order == nil {
		return nil
	}
	if o.known == nil || len(o.known) >= maxShapes || o.bytes+len(o.shape) > maxShapesBytes {
		o.known, o.bytes = make(map[string][]int32), 0
	}
	o.known[string(o.shape)] = order
	o.bytes += len(o.shape)
	return order
}

// sortedIndices returns the index of each member in key order, or nil
// when two keys are equal.
func sortedIndices(dst []byte, ms []member) []int32 {
	order := make([]int32, len(ms))
	for i := range order {
		order[i] = int32(i)
	}
	equal := false
	slices.SortFunc(order, func(a, b int32) int {
		c := compareKeys(memberKey(dst, ms[a]), memberKey(dst, ms[b]))
		equal = equal || c == 0
		return c
	})
	if equal {
		return nil
	}
	return order
}

// sortAll sorts the members in place, keeping only the last of equal
// keys.
func (p *parser) sortAll(body int, ms []member) {
	dst := p.dst
	cmp := func(a, b member) int { return compareKeys(memberKey(dst, a), memberKey(dst, b)) }
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

// compareKeys compares two canonically escaped key strings (without
// quotes) by the bytes they stand for: the order of an object's members.
// Every canonical escape stands for one byte, so the comparison can decode
// as it goes.
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
