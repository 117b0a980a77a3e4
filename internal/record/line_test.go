package record

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		in  string
		err error
		msg string
	}{
		{``, ErrSyntax, "empty line"},
		{`[1]`, ErrField, "a line must be a JSON object"},
		{`{"kind":"record","collection":"c","key":"k"`, ErrSyntax, "expected ',' or '}'"},
		{`{"kind":"record","collection":"c","key":"k"} x`, ErrSyntax, "expected end of line"},
		{`{"collection":"c","key":"k"}`, ErrField, "kind: missing field"},
		{`{"kind":"thing"}`, ErrKind, `"thing"`},
		{`{"kind":1}`, ErrField, "kind: must be a string, not a number"},
		{`{"kind":"record","collection":"c","key":"k","colour":"red"}`, ErrField, `"colour": unknown field`},
		{`{"kind":"record","collection":"c","key":"k","kind":"record"}`, ErrField, "kind: duplicated field"},
		{`{"kind":"record","key":"k"}`, ErrField, "collection: missing field in a record line"},
		{`{"kind":"record","collection":"c"}`, ErrField, "key: missing field in a record line"},
		{`{"kind":"record","collection":1,"key":"k"}`, ErrField, "collection: must be a string, not a number"},
		{`{"kind":"record","collection":"c","key":null}`, ErrField, "key: must be a string, not null"},
		{`{"kind":"record","collection":"c","key":"k","version":0}`, ErrField, "version: 0 is less than 1"},
		{`{"kind":"record","collection":"c","key":"k","version":-3}`, ErrField, "version: -3 is less than 1"},
		{`{"kind":"record","collection":"c","key":"k","version":1.5}`, ErrField, "version: 1.5 is not an integer"},
		{`{"kind":"record","collection":"c","key":"k","version":"1"}`, ErrField, "version: must be an integer ≥ 1, not a string"},
		{`{"kind":"record","collection":"c","key":"k","version":99999999999999999999}`, ErrLimit, "version: 99999999999999999999 is more than 9223372036854775807 (the limit)"},
		{`{"kind":"record","collection":"c","key":"k","version":-99999999999999999999}`, ErrField, "version: -99999999999999999999 is less than 1"},
		{`{"kind":"record","collection":"c","key":"k","version":1e30}`, ErrLimit, "version: 1e+30 is more than 9223372036854775807 (the limit)"},
		{`{"kind":"record","collection":"c","key":"k","deleted":"yes"}`, ErrField, "deleted: must be a boolean, not a string"},
		{`{"kind":"record","collection":"c","key":"k","deleted":true,"value":1}`, ErrField, `value: a record with "deleted":true has no value`},
		{`{"kind":"record","collection":"c","key":"k","deleted":true,"value":null}`, ErrField, `has no value`},
		{`{"kind":"record","collection":"c","key":"k","value":{"a":}}`, ErrSyntax, "expected a value at byte"},
		{`{"kind":"record","collection":"c","key":"k","value":"\ud800"}`, ErrSyntax, "lone surrogate"},
		{`{"kind":"record","collection":"c","key":"k","updated_at":"yesterday"}`, ErrTime, "updated_at: invalid time"},
		{`{"kind":"record","collection":"c","key":"k","updated_at":"2026-01-01T00:00:00.1234567Z"}`, ErrTime, "more than microsecond precision"},
		{`{"kind":"record","collection":"c","key":"k","seq":1}`, ErrField, "seq: not a field of a record line"},
		{`{"kind":"record","collection":"c","key":"k","data":1}`, ErrField, "data: not a field of a record line"},
		{`{"kind":"event","type":"t"}`, ErrField, "stream: missing field in a event line"},
		{`{"kind":"event","stream":"s"}`, ErrField, "type: missing field in a event line"},
		{`{"kind":"event","stream":"s","type":"t","seq":0}`, ErrField, "seq: 0 is less than 1"},
		{`{"kind":"event","stream":"s","type":"t","at":"2026-13-01T00:00:00Z"}`, ErrTime, "at: invalid time"},
		{`{"kind":"event","stream":"s","type":"t","value":1}`, ErrField, "value: not a field of a event line"},
		{`{"kind":"event","stream":"s","type":"t","deleted":false}`, ErrField, "deleted: not a field of a event line"},
		{`{"kind":"remove","collection":"c"}`, ErrField, "key: missing field in a remove line"},
		{`{"kind":"remove","stream":"s"}`, ErrField, "seq: missing field in a remove line"},
		{`{"kind":"remove"}`, ErrField, "collection: missing field in a remove line"},
		{`{"kind":"remove","collection":"c","key":"k","stream":"s","seq":1}`, ErrField, "stream: a remove line names either"},
		{`{"kind":"remove","collection":"c","key":"k","version":1}`, ErrField, "version: not a field of a remove line"},
		{`{"kind":"header"}`, ErrField, "format: missing field in a header line"},
		{`{"kind":"header","format":"persist.v2"}`, ErrFormat, `"persist.v2"`},
		{`{"kind":"header","format":"persist.v1","records":-1}`, ErrField, "records: -1 is less than 0"},
		{`{"kind":"header","format":"persist.v1","patch":1}`, ErrField, "patch: must be a boolean"},
		{`{"kind":"header","format":"persist.v1","target_sum":"abc"}`, ErrField, "target_sum: invalid sum"},
		{`{"kind":"header","format":"persist.v1","key":"k"}`, ErrField, "key: not a field of a header line"},
		{`{"kind":"trailer","records":1,"events":0}`, ErrField, "sum: missing field in a trailer line"},
		{`{"kind":"trailer","events":0,"sum":"x"}`, ErrField, "records: missing field"},
		{`{"kind":"trailer","records":1,"events":0,"sum":"persist1:00"}`, ErrField, "sum: invalid sum"},
		{`{"kind":"trailer","records":1,"events":0,"sum":"persist1:` + strings.Repeat("0", 64) + `","store":"x"}`, ErrField, "store: not a field of a trailer line"},
		{`{"kind":"header","format":"persist.v1","since":""}`, ErrField, "since: empty"},
		{`{"kind":"header","format":"persist.v1","since":5}`, ErrField, "since: must be a string"},
		{`{"kind":"header","format":"persist.v1","cursor":"c1.x"}`, ErrField, "cursor: not a field of a header line"},
		{`{"kind":"trailer","records":0,"events":0,"sum":"persist1:` + strings.Repeat("0", 64) + `","cursor":""}`, ErrField, "cursor: empty"},
		{`{"kind":"trailer","records":0,"events":0,"sum":"persist1:` + strings.Repeat("0", 64) + `","since":"c1.x"}`, ErrField, "since: not a field of a trailer line"},
		{`{"kind":"record","collection":"c","key":"k","cursor":"c1.x"}`, ErrField, "cursor: not a field of a record line"},
	}
	var l Line
	for _, tt := range tests {
		err := ParseLine([]byte(tt.in), &l)
		if err == nil {
			t.Errorf("ParseLine(%s): no error", tt.in)
			continue
		}
		if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseLine(%s):\n got %v\nwant %v containing %q", tt.in, err, tt.err, tt.msg)
		}
	}
}

func TestParseLineRoundTrip(t *testing.T) {
	zero := "persist1:" + strings.Repeat("0", 64)
	tests := []struct{ in, want string }{
		// hand-made lines keep their absent fields absent
		{`{"kind":"record","collection":"users","key":"u1"}`, `{"kind":"record","collection":"users","key":"u1","value":null}`},
		{`{"value":{"b":1,"a":[1.0]},"key":"u1","kind":"record","collection":"users"}`, `{"kind":"record","collection":"users","key":"u1","value":{"a":[1],"b":1}}`},
		{`{"kind":"record","collection":"c","key":"k","version":2.0,"deleted":false,"value":1}`, `{"kind":"record","collection":"c","key":"k","version":2,"value":1}`},
		{`{"kind":"record","collection":"c","key":"k","version":3,"updated_at":"2026-11-25T13:00:00+01:00","deleted":true}`,
			`{"kind":"record","collection":"c","key":"k","version":3,"updated_at":"2026-11-25T12:00:00.000000Z","deleted":true}`},
		{`{"kind":"record","collection":"\u00e7a","key":"a\"b\u0001"}`, `{"kind":"record","collection":"ça","key":"a\"b\u0001","value":null}`},
		{`{"kind":"event","stream":"s","type":"t"}`, `{"kind":"event","stream":"s","type":"t","data":null}`},
		{`{"kind":"event","data":[1e2],"at":"2026-01-01T00:00:00.5Z","type":"t","seq":7,"stream":"s"}`,
			`{"kind":"event","stream":"s","seq":7,"type":"t","at":"2026-01-01T00:00:00.500000Z","data":[100]}`},
		{`{"kind":"remove","key":"k","collection":"c"}`, `{"kind":"remove","collection":"c","key":"k"}`},
		{`{"kind":"remove","seq":3,"stream":"s"}`, `{"kind":"remove","stream":"s","seq":3}`},
		{`{"store":"app","kind":"header","format":"persist.v1","events":1,"records":2}`, `{"kind":"header","format":"persist.v1","store":"app","records":2,"events":1}`},
		{`{"kind":"header","format":"persist.v1"}`, `{"kind":"header","format":"persist.v1"}`},
		{`{"kind":"header","format":"persist.v1","patch":true,"target_sum":"` + strings.ToUpper(zero[9:]) + `"}`, ""}, // invalid: prefix
		{`{"kind":"header","format":"persist.v1","patch":true,"target_sum":"persist1:` + strings.Repeat("AB", 32) + `"}`,
			`{"kind":"header","format":"persist.v1","patch":true,"target_sum":"persist1:` + strings.Repeat("ab", 32) + `"}`},
		{`{"kind":"trailer","sum":"` + zero + `","events":0,"records":0}`, `{"kind":"trailer","records":0,"events":0,"sum":"` + zero + `"}`},
		{`{"since":"c1.sqlite.0123456789abcdef.7","kind":"header","format":"persist.v1","store":"app","records":0,"events":1}`,
			`{"kind":"header","format":"persist.v1","store":"app","records":0,"events":1,"since":"c1.sqlite.0123456789abcdef.7"}`},
		{`{"cursor":"c1.postgres.0123456789abcdef.5:9:6","kind":"trailer","sum":"` + zero + `","events":0,"records":0}`,
			`{"kind":"trailer","records":0,"events":0,"sum":"` + zero + `","cursor":"c1.postgres.0123456789abcdef.5:9:6"}`},
		{" \t{ \"kind\" : \"record\" , \"collection\":\"c\",\"key\":\"k\" }\r", `{"kind":"record","collection":"c","key":"k","value":null}`},
	}
	var l Line
	for _, tt := range tests {
		err := ParseLine([]byte(tt.in), &l)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseLine(%s): no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLine(%s): %v", tt.in, err)
			continue
		}
		var got []byte
		switch l.Kind {
		case KindHeader:
			got = AppendHeader(nil, &l.Header)
		case KindTrailer:
			got = AppendTrailer(nil, &l.Trailer)
		default:
			if l.Item.Kind != l.Kind {
				t.Errorf("Item.Kind %v, Kind %v", l.Item.Kind, l.Kind)
			}
			got = AppendItem(nil, &l.Item)
		}
		if string(got) != tt.want {
			t.Errorf("ParseLine(%s):\n got %s\nwant %s", tt.in, got, tt.want)
		}
		// A canonical line parses back to itself.
		if err := ParseLine(got, &l); err != nil {
			t.Errorf("ParseLine(%s): %v", got, err)
		}
	}
	// Header counts absent are -1, so AppendHeader leaves them out again.
	if err := ParseLine([]byte(`{"kind":"header","format":"persist.v1"}`), &l); err != nil || l.Header.Records != -1 || l.Header.Events != -1 {
		t.Errorf("header without counts: %+v, %v", l.Header, err)
	}
}

func TestParseLineAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	line := []byte(`{"kind":"record","collection":"users","key":"u1","version":3,"updated_at":"2026-11-25T12:00:00.000000Z","value":{"name":"Ada","n":[1,2]}}`)
	var l Line
	if err := ParseLine(line, &l); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { _ = ParseLine(line, &l) })
	if allocs > 2 { // the key and time strings
		t.Errorf("ParseLine allocates %.1f times per line", allocs)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-11-25T12:00:00.000000Z", "2026-11-25T12:00:00.000000Z"},
		{"2026-11-25T12:00:00Z", "2026-11-25T12:00:00.000000Z"},
		{"2026-11-25t12:00:00z", "2026-11-25T12:00:00.000000Z"},
		{"2026-11-25 12:00:00Z", "2026-11-25T12:00:00.000000Z"},
		{"2026-11-25T12:00:00.1Z", "2026-11-25T12:00:00.100000Z"},
		{"2026-11-25T12:00:00.123456000Z", "2026-11-25T12:00:00.123456Z"},
		{"2026-11-25T12:00:00.123456000000+00:00", "2026-11-25T12:00:00.123456Z"},
		{"2026-11-25T12:00:00+01:00", "2026-11-25T11:00:00.000000Z"},
		{"2026-11-25T01:30:00.5+05:30", "2026-11-24T20:00:00.500000Z"},
		{"2026-12-31T23:00:00-01:00", "2027-01-01T00:00:00.000000Z"},
		{"2024-02-29T00:00:00-00:00", "2024-02-29T00:00:00.000000Z"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseTime(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "not an RFC 3339"},
		{"2026-11-25", "not an RFC 3339"},
		{"2026-11-25T12:00:00", "not an RFC 3339"},
		{"2026-11-25T12:00:00.", "no digits after"},
		{"2026-11-25T12:00:00.000000", "missing time zone"},
		{"2026-11-25T12:00:00.1234567Z", "more than microsecond precision"},
		{"2026-11-25T12:00:00.0000001Z", "more than microsecond precision"},
		{"2026-11-25T12:00:00.123456001+02:00", "more than microsecond precision"},
		{"2026-02-29T00:00:00Z", "day 29 out of range"},
		{"2026-00-01T00:00:00Z", "month 0 out of range"},
		{"2026-01-01T24:00:00Z", "hour 24"},
		{"2026-01-01T00:60:00Z", "minute 60"},
		{"2026-12-31T23:59:60Z", "leap seconds"},
		{"2026-01-01T00:00:00+0100", "invalid time zone offset"},
		{"2026-01-01T00:00:00+24:00", "offset out of range"},
		{"2026-01-01T00:00:00 UTC", "invalid time zone offset"},
		{"2026-01-01T00:00:00Zx", "unexpected text"},
		{"0000-01-01T00:00:00+01:00", "year -1"},
		{"9999-12-31T23:00:00-01:00", "year 10000"},
		{"2026-11-25T12:00:00.000000z", ""}, // not canonical, but fine
	}
	for _, tt := range bad {
		got, err := ParseTime(tt.in)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("ParseTime(%q): %v", tt.in, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrTime) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseTime(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.msg)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2026, 11, 25, 13, 0, 0, 1500, time.FixedZone("x", 3600))
	if got := FormatTime(tm); got != "2026-11-25T12:00:00.000001Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

func TestCompare(t *testing.T) {
	order := []Item{
		{Kind: KindRecord, Collection: "A", Key: "z"},
		{Kind: KindRecord, Collection: "a", Key: "B"},
		{Kind: KindRemove, Collection: "a", Key: "b"},
		{Kind: KindRecord, Collection: "a", Key: "é"},
		{Kind: KindRecord, Collection: "b", Key: ""},
		{Kind: KindEvent, Stream: "s", Seq: 2},
		{Kind: KindRemove, Stream: "s", Seq: 10},
		{Kind: KindEvent, Stream: "s-1", Seq: 1},
	}
	for i := range order {
		for j := range order {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(&order[i], &order[j]); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a := Item{Kind: KindRecord, Collection: "c", Key: "k"}
	b := Item{Kind: KindRemove, Collection: "c", Key: "k"}
	if Compare(&a, &b) != 0 {
		t.Error("a remove line must compare equal to the record it names")
	}
}

func TestSum(t *testing.T) {
	var s Sum
	if s.String() != "persist1:"+strings.Repeat("0", 64) || !s.IsZero() {
		t.Fatal(s)
	}
	lines := []string{"a", "b", "c"}
	var fwd, rev Sum
	for i := range lines {
		fwd.AddLine([]byte(lines[i]))
		rev.AddLine([]byte(lines[len(lines)-1-i]))
	}
	if fwd != rev {
		t.Error("sum depends on order")
	}
	var part Sum
	part.AddLine([]byte("b"))
	whole := fwd
	whole.Sub(part)
	var ac Sum
	ac.AddLine([]byte("a"))
	ac.AddLine([]byte("c"))
	if whole != ac {
		t.Error("Sub does not undo Add")
	}
	// Carry across all 256 bits, and wrap around.
	var max Sum
	for i := range max {
		max[i] = 0xff
	}
	one := Sum{31: 1}
	max.Add(one)
	if !max.IsZero() {
		t.Errorf("2^256-1 + 1 = %s", max)
	}
	max.Sub(one)
	if max.String() != "persist1:"+strings.Repeat("f", 64) {
		t.Errorf("0 - 1 = %s", max)
	}
	p, err := ParseSum(fwd.String())
	if err != nil || p != fwd {
		t.Errorf("ParseSum(%s) = %s, %v", fwd, p, err)
	}
	for _, bad := range []string{"", "persist1:", "persist2:" + strings.Repeat("0", 64), "persist1:" + strings.Repeat("g", 64), "persist1:" + strings.Repeat("0", 63)} {
		if _, err := ParseSum(bad); err == nil {
			t.Errorf("ParseSum(%q): no error", bad)
		}
	}
	if d := Digest([]byte("a")); Sum(d) != func() Sum { var s Sum; s.AddLine([]byte("a")); return s }() {
		t.Error("Digest and AddLine disagree")
	}
}

func TestRemoveWithEmptyNames(t *testing.T) {
	for _, in := range []string{`{"kind":"remove","stream":"","seq":1}`, `{"kind":"remove","collection":"","key":""}`} {
		var l Line
		if err := ParseLine([]byte(in), &l); err != nil {
			t.Fatal(err)
		}
		if got := AppendItem(nil, &l.Item); string(got) != in {
			t.Errorf("%s → %s", in, got)
		}
	}
}

// A value already canonical is left where it lies in the line, of any
// size; one spelt otherwise is written out canonical, and one that is not
// JSON gives the error the writing gives, wherever the check stopped.
func TestValueInPlace(t *testing.T) {
	for _, tt := range []struct {
		value, want string
		inPlace     bool
	}{
		{`{"a":1,"b":[true,null,"é"]}`, `{"a":1,"b":[true,null,"é"]}`, true},
		{`"x"`, `"x"`, true},
		{`1.5`, `1.5`, true},
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`, false},
		{`{"a":1.50}`, `{"a":1.5}`, false},
		{`{ "a":1}`, `{"a":1}`, false},
		{`{"a":"\u0041"}`, `{"a":"A"}`, false},
		{`{"a":[1,2,` + strings.Repeat(`"x",`, 20000) + `3]}`, `{"a":[1,2,` + strings.Repeat(`"x",`, 20000) + `3]}`, true},
	} {
		line := []byte(`{"kind":"record","collection":"c","key":"k","value":` + tt.value + `}`)
		var l Line
		if err := ParseLine(line, &l); err != nil {
			t.Fatalf("%.40s: %v", tt.value, err)
		}
		if string(l.Item.Value) != tt.want {
			t.Errorf("%.40s: value %.40s, want %.40s", tt.value, l.Item.Value, tt.want)
		}
		start := bytes.Index(line, []byte(`"value":`)) + len(`"value":`)
		if in := &l.Item.Value[0] == &line[start]; in != tt.inPlace {
			t.Errorf("%.40s: in the line %v, want %v", tt.value, in, tt.inPlace)
		}
	}
	const head = `{"kind":"record","collection":"c","key":"k","value":`
	for _, bad := range []string{`{"b":1,"a":}`, `{"a":[1,2,]}`, `{"a":"\x01"}`, `{"a":01}`, `{"a":1,"b":tru}`} {
		var l Line
		err := ParseLine([]byte(head+bad+`}`), &l)
		// The writer's error on the value alone, its place moved to the line.
		p := getParser([]byte(bad), nil)
		want := p.value()
		putParser(p)
		if want == nil {
			t.Fatalf("%s: the writer takes it", bad)
		}
		msg, at, _ := strings.Cut(want.Error(), " at byte ")
		n, _ := strconv.Atoi(at)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s at byte %d", msg, n+len(head))) {
			t.Errorf("%s: %v, want the writer's error %v (at byte %d of the line)", bad, err, want, n+len(head))
		}
	}
}
