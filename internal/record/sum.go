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
