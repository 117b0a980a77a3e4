package postgres

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/cuitty/persist/internal/record"
)

// jsonbHash computes, for a canonical JSON value, what PostgreSQL's
// jsonb_hash_extended(value, 0) gives for it: a 64-bit hash of the jsonb
// the server made of it.
//
// Reading back a batch asks the server for this hash instead of the value's
// text: printing a million jsonb values as text was the larger part of the
// server's cost of a load's read-back, and parsing them the larger part of
// the client's. The hash is the server's own, computed from what it holds,
// so a row that differs from what was written (lost, stale, mangled in an
// encoding, altered by a trigger) shows in it; the read-back then reads that
// row whole and compares it exactly. It does not see every difference: the
// server's hash ignores a number's sign and where an array or object ends,
// which a row changed by accident does not come down to. The functions
// below follow PostgreSQL's jsonb_hash_extended, hash_numeric_extended and
// hash_bytes_extended (src/common/hashfn.c); tests compare them with the
// server's on every value of the shared vectors.
//
// ok is false for input that is not canonical JSON.
func jsonbHash(v []byte) (h uint64, ok bool) {
	var w jsonbHasher
	return w.sum(v)
}

// jsonbHasher computes jsonbHash reusing its buffers.
//
// The server hashes a value token by token: each scalar turns both halves
// of the hash left by one bit and is XORed in; each array or object start
// is XORed in. That is linear, so a subtree hashed on its own (from zero)
// with s scalars joins the hash before it as rot^s(before) ^ its own. An
// object's members are hashed in the order they come, each on its own, and
// joined shortest key first: one pass over the value.
type jsonbHasher struct {
	src     []byte
	members []hashMember // a stack: each object open on the way down keeps its members here
	buf     []byte
	digits  []byte
	groups  []uint16
}

// hashMember is an object member hashed on its own: key then value.
type hashMember struct {
	h       uint64
	scalars int
	n       int // the key's length unescaped
}

const (
	jbFArray  = 0x40000000 // JB_FARRAY
	jbFObject = 0x20000000 // JB_FOBJECT
)

func (w *jsonbHasher) sum(v []byte) (uint64, bool) {
	w.src, w.members = v, w.members[:0]
	if len(v) == 0 {
		return 0, false
	}
	if len(v) == 2 && (v[0] == '{' && v[1] == '}' || v[0] == '[' && v[1] == ']') {
		return 0, true // an empty container hashes as the seed
	}
	i, h, n, ok := w.value(0)
	if !ok || i != len(v) {
		return 0, false
	}
	if v[0] != '{' && v[0] != '[' {
		// A scalar at the top is held as an array of one element.
		h ^= rotN(jbFArray<<32|jbFArray, n)
	}
	return h, true
}

// rotN turns both 32-bit halves of h left by n bits.
func rotN(h uint64, n int) uint64 {
	n &= 31
	return uint64(bits.RotateLeft32(uint32(h>>32), n))<<32 | uint64(bits.RotateLeft32(uint32(h), n))
}

// value hashes the value at src[i] on its own, returning its end, its hash
// and how many scalars it holds.
func (w *jsonbHasher) value(i int) (end int, h uint64, scalars int, ok bool) {
	if i >= len(w.src) {
		return i, 0, 0, false
	}
	switch c := w.src[i]; {
	case c == '{':
		return w.object(i)
	case c == '[':
		h = jbFArray<<32 | jbFArray
		i++
		for n := 0; ; n++ {
			if i >= len(w.src) {
				return i, 0, 0, false
			}
			if w.src[i] == ']' {
				return i + 1, h, scalars, true
			}
			if n > 0 {
				if w.src[i] != ',' {
					return i, 0, 0, false
				}
				i++
			}
			var eh uint64
			var es int
			if i, eh, es, ok = w.value(i); !ok {
				return i, 0, 0, false
			}
			h = rotN(h, es) ^ eh
			scalars += es
		}
	case c == '"':
		end, _, h, ok = w.str(i)
		return end, h, 1, ok
	case c == '-' || c >= '0' && c <= '9':
		end, h, ok = w.number(i)
		return end, h, 1, ok
	case c == 't' && hasLiteral(w.src, i, "true"):
		return i + 4, 0x02, 1, true
	case c == 'f' && hasLiteral(w.src, i, "false"):
		return i + 5, 0x04, 1, true
	case c == 'n' && hasLiteral(w.src, i, "null"):
		return i + 4, 0x01, 1, true
	}
	return i, 0, 0, false
}

func hasLiteral(src []byte, i int, lit string) bool {
	return len(src)-i >= len(lit) && string(src[i:i+len(lit)]) == lit
}

// object hashes each member on its own and joins them shortest key first,
// the order jsonb keeps them in.
func (w *jsonbHasher) object(i int) (end int, h uint64, scalars int, ok bool) {
	base := len(w.members)
	i++
	for n := 0; ; n++ {
		if i >= len(w.src) {
			return i, 0, 0, false
		}
		if w.src[i] == '}' {
			i++
			break
		}
		if n > 0 {
			if w.src[i] != ',' {
				return i, 0, 0, false
			}
			i++
		}
		if i >= len(w.src) || w.src[i] != '"' {
			return i, 0, 0, false
		}
		kend, klen, kh, ok := w.str(i)
		if !ok || kend >= len(w.src) || w.src[kend] != ':' {
			return i, 0, 0, false
		}
		var vh uint64
		var vs int
		if i, vh, vs, ok = w.value(kend + 1); !ok {
			return i, 0, 0, false
		}
		w.members = append(w.members, hashMember{h: rotN(kh, vs) ^ vh, scalars: 1 + vs, n: klen})
	}
	ms := w.members[base:]
	// Sorted in place, not through a shared generic helper: its indirect
	// calls made the hash slower in BenchmarkReadBackValue.
	if len(ms) <= 16 {
		for j := 1; j < len(ms); j++ {
			for k := j; k > 0 && ms[k].n < ms[k-1].n; k-- {
				ms[k-1], ms[k] = ms[k], ms[k-1]
			}
		}
	} else {
		slices.SortStableFunc(ms, func(a, b hashMember) int { return a.n - b.n })
	}
	h = jbFObject<<32 | jbFObject
	for _, m := range ms {
		h = rotN(h, m.scalars) ^ m.h
		scalars += m.scalars
	}
	w.members = w.members[:base]
	return i, h, scalars, true
}

// str hashes the string at src[i] as the bytes it stands for, returning
// its end, its length unescaped and its hash.
func (w *jsonbHasher) str(i int) (end, n int, h uint64, ok bool) {
	end, n, ok = scanString(w.src, i)
	if !ok {
		return end, n, 0, false
	}
	s := w.src[i+1 : end-1]
	if n != len(s) {
		w.buf = record.AppendUnescaped(w.buf[:0], s)
		s = w.buf
	}
	return end, n, hashBytes(s), true
}

// number hashes a number as hash_numeric_extended does: the base-10000
// digits from the first to the last that is not zero, as little-endian
// int16s, then the weight of the first (the sign plays no part).
func (w *jsonbHasher) number(i int) (end int, h uint64, ok bool) {
	start, e := i, -1
	for ; i < len(w.src) && numberByte(w.src[i]); i++ {
		if w.src[i] == 'e' || w.src[i] == 'E' {
			e = i - start
		}
	}
	num := w.src[start:i]
	if len(num) > 0 && num[0] == '-' {
		num = num[1:]
	}
	// The value is the decimal digits ds times 10^q.
	exp := 0
	if e >= 0 {
		e -= len(w.src[start:i]) - len(num)
		x, ok := exponent(num[e+1:])
		if !ok {
			return i, 0, false
		}
		exp, num = x, num[:e]
	}
	ds := w.digits[:0]
	frac := 0
	for j, c := range num {
		switch {
		case c == '.':
			frac = len(num) - j - 1
		case c >= '0' && c <= '9':
			ds = append(ds, c-'0')
		default:
			return i, 0, false
		}
	}
	w.digits = ds
	q := exp - frac
	// Leading and trailing zeros play no part.
	for len(ds) > 0 && ds[0] == 0 {
		ds = ds[1:]
	}
	for len(ds) > 0 && ds[len(ds)-1] == 0 {
		ds = ds[:len(ds)-1]
		q++
	}
	if len(ds) == 0 {
		return i, ^uint64(0), true // zero: the seed minus one
	}
	// The last decimal digit stands for 10^q; digit p falls in base-10000
	// digit floor(p/4), whose weight the hash takes from the first.
	g := floorDiv(q, 4)
	mul := [4]int{1, 10, 100, 1000}[q-4*g]
	groups := w.groups[:0] // lowest first
	d := 0
	for j := len(ds) - 1; j >= 0; j-- {
		d += int(ds[j]) * mul
		if mul *= 10; mul == 10000 {
			groups, d, mul = append(groups, uint16(d)), 0, 1
		}
	}
	if mul != 1 {
		groups = append(groups, uint16(d))
	}
	w.groups = groups
	top := g + len(groups) - 1
	b := w.buf[:0]
	for j := len(groups) - 1; j >= 0; j-- {
		b = binary.LittleEndian.AppendUint16(b, groups[j])
	}
	w.buf = b
	return i, hashBytes(b) ^ uint64(int64(top)), true
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// hashBytes is PostgreSQL's hash_bytes_extended(k, len(k), 0): Bob
// Jenkins' lookup3, twelve bytes at a time, read little-endian. Its mix and
// final steps are written out in place, as the compiler would not inline
// them, and this runs for every string and number of every value read back.
func hashBytes(k []byte) uint64 {
	a := uint32(0x9e3779b9) + uint32(len(k)) + 3923095
	b, c := a, a
	for len(k) >= 12 {
		a += binary.LittleEndian.Uint32(k)
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		// mix(a, b, c)
		a -= c
		a ^= bits.RotateLeft32(c, 4)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 6)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 8)
		b += a
		a -= c
		a ^= bits.RotateLeft32(c, 16)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 19)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 4)
		b += a
		k = k[12:]
	}
	// The last bytes; the lowest byte of c is left for the length.
	switch len(k) {
	case 11:
		c += uint32(k[10]) << 24
		fallthrough
	case 10:
		c += uint32(k[9]) << 16
		fallthrough
	case 9:
		c += uint32(k[8]) << 8
		fallthrough
	case 8:
		b += uint32(k[7]) << 24
		fallthrough
	case 7:
		b += uint32(k[6]) << 16
		fallthrough
	case 6:
		b += uint32(k[5]) << 8
		fallthrough
	case 5:
		b += uint32(k[4])
		fallthrough
	case 4:
		a += uint32(k[3]) << 24
		fallthrough
	case 3:
		a += uint32(k[2]) << 16
		fallthrough
	case 2:
		a += uint32(k[1]) << 8
		fallthrough
	case 1:
		a += uint32(k[0])
	}
	// final(a, b, c)
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return uint64(b)<<32 | uint64(c)
}
