package record

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// canonicalTimeRef is IsCanonicalTime by way of the time package: s parses
// with the canonical layout, and formats back to itself.
func canonicalTimeRef(s string) bool {
	t, err := time.Parse(timeLayout, s)
	return err == nil && t.Format(timeLayout) == s
}

func TestIsCanonicalTime(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"2026-12-05T14:50:00.123456Z", true},
		{"0000-01-01T00:00:00.000000Z", true},
		{"9999-12-31T23:59:59.999999Z", true},
		{"2024-02-29T00:00:00.000000Z", true},
		{"2000-02-29T00:00:00.000000Z", true},
		{"1900-02-29T00:00:00.000000Z", false},
		{"2023-02-29T00:00:00.000000Z", false},
		{"2026-04-31T00:00:00.000000Z", false},
		{"2026-01-31T00:00:00.000000Z", true},
		{"2026-00-10T00:00:00.000000Z", false},
		{"2026-13-10T00:00:00.000000Z", false},
		{"2026-01-00T00:00:00.000000Z", false},
		{"2026-01-10T24:00:00.000000Z", false},
		{"2026-01-10T23:60:00.000000Z", false},
		{"2026-01-10T23:59:60.000000Z", false},
		// Bytes next to the digits: '/' is '0'-1, ':' is '9'+1, and
		// 0x3a–0x3f share the digits' high nibble.
		{"2026-01-10T23:59:5/.000000Z", false},
		{"2026-01-10T23:59:5:.000000Z", false},
		{"2026-01-10T23:59:59.00000?Z", false},
		{"?026-01-10T23:59:59.000000Z", false},
		{"2026-01-10T23:59:59.000000z", false},
		{"2026-01-10 23:59:59.000000Z", false},
		{"2026-01-10T23:59:59.000000+00:00", false},
		{"2026-01-10T23:59:59.00000Z", false},
		{"2026-01-10T23:59:59Z", false},
		{"", false},
	} {
		if got := IsCanonicalTime(tc.s); got != tc.want {
			t.Errorf("IsCanonicalTime(%q) = %v, want %v", tc.s, got, tc.want)
		}
		if ref := canonicalTimeRef(tc.s); ref != tc.want {
			t.Errorf("the time package says %q is canonical: %v; the table says %v", tc.s, ref, tc.want)
		}
	}
}

// Every byte at every position of a canonical time, against the time
// package: the digits are checked eight at a time, so a byte wrong in any
// lane must be caught.
func TestIsCanonicalTimeEveryByte(t *testing.T) {
	base := []byte("2024-02-29T23:59:59.999999Z")
	for i := range base {
		for c := range 256 {
			s := append([]byte(nil), base...)
			s[i] = byte(c)
			if got, want := IsCanonicalTime(string(s)), canonicalTimeRef(string(s)); got != want {
				t.Fatalf("IsCanonicalTime(%q) = %v, the time package says %v", s, got, want)
			}
		}
	}
}

func FuzzIsCanonicalTime(f *testing.F) {
	f.Add("2026-12-05T14:50:00.123456Z")
	f.Add("2023-02-29T00:00:00.000000Z")
	f.Add("2026-01-10T23:59:5:.000000Z")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsCanonicalTime(s), canonicalTimeRef(s); got != want {
			t.Fatalf("IsCanonicalTime(%q) = %v, the time package says %v", s, got, want)
		}
	})
}

func BenchmarkIsCanonicalTime(b *testing.B) {
	ts := []string{"2026-12-05T14:50:00.123456Z", "2026-01-31T23:59:59.999999Z"}
	for i := 0; b.Loop(); i++ {
		if !IsCanonicalTime(ts[i&1]) {
			b.Fatal("not canonical")
		}
	}
}

// FormatUnixMicro spells every time of the canonical range as FormatTime
// does, and none outside it.
func TestFormatUnixMicro(t *testing.T) {
	edges := []int64{0, -1, 1, minUnixMicro, maxUnixMicro, 951782400e6 - 1, 951782400e6, 951868800e6, // 2000-02-29, 03-01
		-62135596800e6, -62135596800e6 - 1, 253402214400e6, 1e6*86400*365*30 + 123456}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		edges = append(edges, minUnixMicro+rng.Int64N(maxUnixMicro-minUnixMicro+1))
	}
	for _, us := range edges {
		got, ok := FormatUnixMicro(us)
		if want := FormatTime(time.UnixMicro(us)); !ok || got != want {
			t.Fatalf("FormatUnixMicro(%d) = %q, %v; want %q", us, got, ok, want)
		}
		if !IsCanonicalTime(got) {
			t.Fatalf("FormatUnixMicro(%d) = %q: not canonical", us, got)
		}
	}
	for _, us := range []int64{minUnixMicro - 1, maxUnixMicro + 1, math.MinInt64, math.MaxInt64} {
		if got, ok := FormatUnixMicro(us); ok {
			t.Errorf("FormatUnixMicro(%d) = %q, want refused", us, got)
		}
	}
}
