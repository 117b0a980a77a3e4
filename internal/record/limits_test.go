package record

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Each limit at its boundary: the limit itself passes, one past it is
// refused as that limit, named with its value, and never as invalid JSON.
func TestLimits(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	nestObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	const maxExp = "999999999999999999"
	tests := []struct {
		in, want string // want: the canonical form, or the error
		ok       bool
	}{
		{nest(MaxDepth), nest(MaxDepth), true},
		{nestObj(MaxDepth), nestObj(MaxDepth), true},
		{nest(MaxDepth + 1), "nesting deeper than 10000 levels (the limit)", false},
		{nestObj(MaxDepth + 1), "nesting deeper than 10000 levels (the limit)", false},
		{"1e" + maxExp, "1e+" + maxExp, true},
		{"-1.5e-" + maxExp, "-1.5e-" + maxExp, true},
		{"1e1" + strings.Repeat("0", 18), "number 1e1000000000000000000: exponent beyond ±999999999999999999 (the limit)", false},
		{"1e-1" + strings.Repeat("0", 18), "exponent beyond ±999999999999999999 (the limit)", false},
		{"1e9223372036854775807", "number 1e9223372036854775807: exponent beyond ±999999999999999999 (the limit)", false},
		{"1e99999999999999999999999999", "exponent beyond ±999999999999999999 (the limit)", false},
		// The canonical exponent is what counts, not the one written.
		{"10e999999999999999998", "1e+" + maxExp, true},
		{"10e" + maxExp, "exponent beyond", false},
		{"0.001e1000000000000000002", "1e+" + maxExp, true},
		{"123.456e-1000000000000000001", "1.23456e-" + maxExp, true},
		{"0e99999999999999999999999", "0", true},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = fmt.Sprintf("%s…(%d bytes)", name[:20], len(name))
		}
		got, err := Canonical(nil, []byte(tt.in))
		if tt.ok {
			if err != nil || string(got) != tt.want {
				t.Errorf("Canonical(%s) = %.40s, %v; want %.40s", name, got, err, tt.want)
				continue
			}
			if again, err := Canonical(nil, got); err != nil || string(again) != tt.want {
				t.Errorf("Canonical(%s) is not stable: %.40s, %v", name, again, err)
			}
			continue
		}
		if !errors.Is(err, ErrLimit) || errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Canonical(%s): %v; want a limit error containing %q", name, err, tt.want)
		}
	}
}

func TestLineLimits(t *testing.T) {
	rec := func(v string) string { return `{"kind":"record","collection":"c","key":"k","value":` + v + `}` }
	ev := func(d string) string { return `{"kind":"event","stream":"s","type":"t","data":` + d + `}` }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		in, err string
	}{
		{rec(deep(MaxDepth)), ""},
		{rec(deep(MaxDepth + 1)), "value: nesting deeper than 10000 levels (the limit)"},
		{ev(deep(MaxDepth + 1)), "data: nesting deeper than 10000 levels (the limit)"},
		{rec(`{"n":1e999999999999999999}`), ""},
		{rec(`{"n":1e1000000000000000000}`), "value: number 1e1000000000000000000: exponent beyond ±999999999999999999 (the limit)"},
		{`{"kind":"record","collection":"c","key":"k","version":9223372036854775807}`, ""},
		{`{"kind":"record","collection":"c","key":"k","version":9223372036854775808}`, "version: 9223372036854775808 is more than 9223372036854775807 (the limit)"},
		{`{"kind":"event","stream":"s","type":"t","seq":9223372036854775808}`, "seq: 9223372036854775808 is more than 9223372036854775807 (the limit)"},
		{`{"kind":"event","stream":"s","type":"t","seq":1e1000000000000000000}`, "seq: number 1e1000000000000000000: exponent beyond"},
	}
	var l Line
	for _, tt := range tests {
		err := ParseLine([]byte(tt.in), &l)
		if tt.err == "" {
			if err != nil {
				t.Errorf("%.60s: %v", tt.in, err)
			}
			continue
		}
		if !errors.Is(err, ErrLimit) || errors.Is(err, ErrSyntax) || err.Error() != tt.err && !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("%.60s: %v; want a limit error %q", tt.in, err, tt.err)
		}
	}
}

// A line no reader would take is not written: a dump of an item whose line
// passes MaxLine fails, naming the item, before a byte of it goes out, and
// CheckLine says the same of it before a store takes it.
func TestWriteLineOverLimit(t *testing.T) {
	var out strings.Builder
	w, err := NewWriter(&out, Header{Format: Format})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(n int) *Item {
		v := make([]byte, n)
		for i := range v {
			v[i] = 'a'
		}
		v[0], v[n-1] = '"', '"'
		return &Item{Kind: KindRecord, Collection: "c", Key: "k", Version: 1, UpdatedAt: "2026-12-06T00:00:00.000000Z", Value: v}
	}
	head, _ := appendHead(nil, mk(2))
	fits := mk(MaxLine - len(head) - 1)
	over := mk(MaxLine - len(head))
	if err := CheckLine(fits); err != nil {
		t.Fatalf("a line of MaxLine bytes: %v", err)
	}
	before := out.Len()
	err = w.Write(over)
	if !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), `record "c"/"k"`) || !strings.Contains(err.Error(), fmt.Sprint(MaxLine+1)) {
		t.Fatalf("a line of MaxLine+1 bytes: %v", err)
	}
	if err := CheckLine(over); !errors.Is(err, ErrTooLong) {
		t.Fatalf("CheckLine of MaxLine+1 bytes: %v", err)
	}
	if err := w.Flush(); err != nil || out.Len() != before {
		t.Fatalf("wrote %d bytes of a line over the limit (flush: %v)", out.Len()-before, err)
	}
}
