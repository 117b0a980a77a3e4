package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"
)

// Sum is a persist1 checksum: the sum of item digests modulo 2^256, each
// digest read as a big-endian unsigned integer (docs/format.md). Being a sum, it
// does not depend on order, and the sums of parts add up to the whole's.
type Sum [32]byte

const sumPrefix = "persist1:"

// Digest is the SHA-256 of a canonical line (without its newline).
func Digest(line []byte) [32]byte { return sha256.Sum256(line) }

// AddLine adds the digest of a canonical line (without its newline).
func (s *Sum) AddLine(line []byte) { s.Add(Sum(sha256.Sum256(line))) }

// AddItem adds the digest of it's canonical line, building the line in
// scratch, which it returns for the next call.
func (s *Sum) AddItem(it *Item, scratch []byte) []byte {
	d, scratch := ItemDigest(it, scratch)
	s.Add(Sum(d))
	return scratch
}

// BigValue is the size from which a value is not copied into a whole line
// to be hashed or written: the line is taken in parts around it (its
// head, the value, its closing brace), so that one huge value costs no
// copy of itself more.
const BigValue = 1 << 20

// ItemDigest is the digest of it's canonical line, Digest(AppendItem(nil,
// it)), built in scratch, which it returns for the next call; around a big
// value the line is hashed in parts instead of built.
func ItemDigest(it *Item, scratch []byte) ([32]byte, []byte) {
	head, v := appendHead(scratch[:0], it)
	if len(v) < BigValue {
		line := append(append(head, v...), '}')
		return sha256.Sum256(line), line
	}
	return digestParts(head, v), head
}

// digestParts is the digest of the line head+v+"}".
func digestParts(head, v []byte) (d [32]byte) {
	h := sha256.New()
	h.Write(head)
	h.Write(v)
	h.Write(closeBrace)
	h.Sum(d[:0])
	return d
}

var closeBrace = []byte{'}'}

// Add adds o modulo 2^256.
func (s *Sum) Add(o Sum) {
	var carry uint64
	for i := 24; i >= 0; i -= 8 {
		var v uint64
		v, carry = bits.Add64(binary.BigEndian.Uint64(s[i:]), binary.BigEndian.Uint64(o[i:]), carry)
		binary.BigEndian.PutUint64(s[i:], v)
	}
}

// Sub subtracts o modulo 2^256: what remains of a sum when a part is taken out.
func (s *Sum) Sub(o Sum) {
	var borrow uint64
	for i := 24; i >= 0; i -= 8 {
		var v uint64
		v, borrow = bits.Sub64(binary.BigEndian.Uint64(s[i:]), binary.BigEndian.Uint64(o[i:]), borrow)
		binary.BigEndian.PutUint64(s[i:], v)
	}
}

// IsZero reports whether s is the sum of nothing.
func (s Sum) IsZero() bool { return s == Sum{} }

// String is "persist1:" and 64 lower-case hex digits.
func (s Sum) String() string {
	var b [len(sumPrefix) + 64]byte
	copy(b[:], sumPrefix)
	hex.Encode(b[len(sumPrefix):], s[:])
	return string(b[:])
}

// ParseSum reads the form String writes (hex digits in either case).
func ParseSum(str string) (Sum, error) {
	var s Sum
	h, ok := strings.CutPrefix(str, sumPrefix)
	if !ok || len(h) != 64 {
		return s, fmt.Errorf("invalid sum %q: want %s followed by 64 hex digits", str, sumPrefix)
	}
	if _, err := hex.Decode(s[:], []byte(h)); err != nil {
		return Sum{}, fmt.Errorf("invalid sum %q: want %s followed by 64 hex digits", str, sumPrefix)
	}
	return s, nil
}
