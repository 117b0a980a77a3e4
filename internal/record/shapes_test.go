package record

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestCanonicalShapes holds the orders remembered by shape to the order
// found afresh: objects of a few shapes, their members shuffled, each made
// canonical and compared with the same object written in key order (which
// takes no sorting, so no remembered order).
func TestCanonicalShapes(t *testing.T) {
	pools := [][]string{
		{"id", "name", "email", "address", "zip", "city"},
		{"a", "ab", "abc", "b", "ba", "\u0001", "\u001f", "é", "z"},
		{"shipping_address", "shipping_method", "shipping", "ship"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		keys := slices.Clone(pools[round%len(pools)])
		keys = keys[:1+rng.IntN(len(keys))]
		slices.Sort(keys)
		sorted := object(keys, round)
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		shuffled := object(keys, round)
		want, err := Canonical(nil, []byte(sorted))
		if err != nil {
			t.Fatalf("%s: %v", sorted, err)
		}
		got, err := Canonical(nil, []byte(shuffled))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Canonical(%s) = %s, %v; want %s", shuffled, got, err, want)
		}
	}
}

// object writes an object of keys in the order given; a key's value tells
// it and the round apart, and holds an object of two keys out of order.
func object(keys []string, round int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s:{"y":%d,"x":%s}`, AppendString(nil, k), round, AppendString(nil, k))
	}
	b.WriteByte('}')
	return b.String()
}

// TestCanonicalShapesRepeated checks objects whose keys repeat: the last
// of equal keys wins, however often their shape comes back.
func TestCanonicalShapesRepeated(t *testing.T) {
	for range 3 {
		for in, want := range map[string]string{
			`{"b":1,"a":2,"b":3}`:           `{"a":2,"b":3}`,
			`{"b":1,"a":2}`:                 `{"a":2,"b":1}`,
			`{"b":1,"\u0062":4,"a":2}`:      `{"a":2,"b":4}`,
			`{"\u0001":1,"a":2,"\n":3}`:     `{"\u0001":1,"\n":3,"a":2}`,
			`{"\u0001":1,"a":2,"\n":3} `:    `{"\u0001":1,"\n":3,"a":2}`,
			`[{"y":1,"x":2},{"y":3,"x":4}]`: `[{"x":2,"y":1},{"x":4,"y":3}]`,
			// Objects of the size whose orders are remembered.
			`{"d":0,"b":1,"a":2,"c":3}`:       `{"a":2,"b":1,"c":3,"d":0}`,
			`{"d":0,"b":1,"a":2,"\u0062":3}`:  `{"a":2,"b":3,"d":0}`,
			`{"d":0,"b":1,"a":2,"b":4}`:       `{"a":2,"b":4,"d":0}`,
			`{"d":0,"\n":1,"a":2,"\u000a":5}`: `{"\n":5,"a":2,"d":0}`,
			`{"e":1,"d":0,"b":1,"a":2,"c":3}`: `{"a":2,"b":1,"c":3,"d":0,"e":1}`,
		} {
			if got, err := Canonical(nil, []byte(in)); err != nil || string(got) != want {
				t.Errorf("Canonical(%s) = %s, %v; want %s", in, got, err, want)
			}
		}
	}
}

// TestShapesBounded feeds one parser more shapes, and larger ones, than it
// may keep: what it keeps stays within its bounds, and every value still
// comes out right.
func TestShapesBounded(t *testing.T) {
	p := new(parser)
	long := strings.Repeat("k", 3000)
	for i := range 3 * maxShapes {
		in := fmt.Sprintf(`{"z%d":1,"y":0,"x":0,"a%d":2}`, i, i)
		if i%7 == 0 {
			in = fmt.Sprintf(`{"z%s%d":1,"y":0,"x":0,"a%s":2}`, long, i, long)
		}
		p.reset([]byte(in))
		p.dst, p.members = nil, p.members[:0]
		if err := p.document(); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(p.dst, []byte(`{"a`)) {
			t.Fatalf("%.40s came out as %.40s", in, p.dst)
		}
		if len(p.orders.known) > maxShapes || p.orders.bytes > maxShapesBytes {
			t.Fatalf("after %d values: %d orders of %d bytes kept", i+1, len(p.orders.known), p.orders.bytes)
		}
	}
	if len(p.orders.known) == 0 {
		t.Fatal("no order kept")
	}
	for k := range p.orders.known {
		if len(k) > maxShapeBytes {
			t.Fatalf("an order kept for %d bytes of keys", len(k))
		}
	}
}

// jsonbValues are values of the benchmark store as PostgreSQL prints them
// from jsonb: keys shortest first, spaces after , and :.
func jsonbValues(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/jsonb-values.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	for sc := bufio.NewScanner(f); sc.Scan(); {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if len(out) < 100 {
		t.Fatalf("only %d values in testdata/jsonb-values.txt", len(out))
	}
	return out
}

func BenchmarkCanonicalJSONB(b *testing.B) {
	vals := jsonbValues(b)
	var n int64
	for _, v := range vals {
		n += int64(len(v))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		for _, v := range vals {
			var err error
			if dst, err = Canonical(dst[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
