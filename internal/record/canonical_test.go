package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{` {"b" : [ true , null ] , "a":{} } `, `{"a":{},"b":[true,null]}`},
		{`"\u0041\u00e9\/"`, `"Aé/"`},
		{`"\u001F"`, `"\u001f"`},
		{`{"\"":1,"#":2,"!":3}`, `{"!":3,"\"":1,"#":2}`},
		{`{"\\":1,"]":2,"^":3}`, `{"\\":1,"]":2,"^":3}`},
		{`{"\n":1,"\u0001":2," ":3}`, `{"\u0001":2,"\n":1," ":3}`},
		{`{"a":1,"b":2,"a":3,"a":4}`, `{"a":4,"b":2}`},
		{`{"a":{"b":1,"b":2},"a":{"c":1}}`, `{"a":{"c":1}}`},
		{`-0.0`, `0`},
		{`[-1e-7,1E+0,0.5e1]`, `[-1e-7,1,5]`},
		{`100000000000000000000000`, `1e+23`},
		{`"\ud83d\ude00"`, `"😀"`},
	}
	for _, tt := range tests {
		got, err := Canonical(nil, []byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	// Many members out of order, and duplicates, take the long path.
	var in, want strings.Builder
	in.WriteString("{")
	want.WriteString("{")
	for i := 99; i >= 0; i-- {
		if i < 99 {
			in.WriteString(",")
		}
		in.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":0,`)
		in.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":` + string(rune('0'+i%10)))
	}
	for i := range 100 {
		if i > 0 {
			want.WriteString(",")
		}
		want.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":` + string(rune('0'+i%10)))
	}
	in.WriteString("}")
	want.WriteString("}")
	got, err := Canonical(nil, []byte(in.String()))
	if err != nil || string(got) != want.String() {
		t.Errorf("100 members: got %s, %v", got, err)
	}
}

func TestCanonicalErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{``, "unexpected end of input, expected a value at byte 0"},
		{`   `, "unexpected end of input"},
		{`{`, "expected a member name at byte 1"},
		{`{"a"}`, `expected ':' at byte 4`},
		{`{"a":1,}`, "expected a member name at byte 7"},
		{`[1,]`, "expected a value at byte 3"},
		{`[1 2]`, `expected ',' or ']' at byte 3`},
		{`{"a":1 "b":2}`, `expected ',' or '}' at byte 7`},
		{`{a:1}`, "expected a member name at byte 1"},
		{`01`, "leading zero in number at byte 1"},
		{`1.`, "expected a digit after '.'"},
		{`1e`, "expected a digit in the exponent"},
		{`-`, "expected a digit"},
		{`+1`, `unexpected '+'`},
		{`.5`, `unexpected '.'`},
		{`NaN`, "unexpected 'N'"},
		{`tru`, "invalid literal, expected true"},
		{`nul`, "expected null"},
		{`"abc`, "unterminated string at byte 0"},
		{"\"a\tb\"", "control character 0x09 in string must be escaped at byte 2"},
		{"\"a\x00b\"", "control character 0x00"},
		{"\"\xff\"", "invalid UTF-8 at byte 1"},
		{"\"\xed\xa0\x80\"", "invalid UTF-8"}, // a surrogate encoded as UTF-8
		{"\"\xc3\"", "invalid UTF-8"},
		{`"\ud800"`, `lone surrogate \ud800 at byte 1`},
		{`"\udc00"`, `lone surrogate \udc00`},
		{`"\ud800\u0041"`, `lone surrogate \ud800`},
		{`"\ud800\n"`, `lone surrogate`},
		{`"\x"`, "invalid escape at byte 1"},
		{`"\u12"`, `invalid \u escape`},
		{`"\u12g4"`, `invalid \u escape`},
		{`1 2`, "expected end of input at byte 2"},
		{`{} x`, "expected end of input"},
		{"\u00a0" + `1`, "unexpected byte 0xc2"},
	}
	for _, tt := range tests {
		got, err := Canonical([]byte("keep"), []byte(tt.in))
		if err == nil {
			t.Errorf("Canonical(%q) = %s, want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Canonical(%q): %v, want %q", tt.in, err, tt.msg)
		}
		if string(got) != "keep" {
			t.Errorf("Canonical(%q) left %q in dst", tt.in, got)
		}
	}
}

func TestAppendString(t *testing.T) {
	got := AppendString(nil, "a\"b\\c\n\x01é/<")
	if want := `"a\"b\\c\n\u0001é/<"`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// What AppendString writes, Canonical keeps.
	if c, err := Canonical(nil, got); err != nil || !bytes.Equal(c, got) {
		t.Errorf("Canonical(%s) = %s, %v", got, c, err)
	}
}

func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	in := `{"z":[1,2.5,-3,"x\u00e9"],"a":{"y":null,"x":true},"m":"<&>"}`
	got, err := Canonical(nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s != %s", ja, jb)
	}
}

func TestCanonicalAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	src := []byte(`{"name":"Ada","tags":["x","y"],"n":12.50,"nested":{"b":1,"a":2}}`)
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = Canonical(dst[:0], src)
	})
	if allocs > 0 {
		t.Errorf("Canonical allocates %.1f times per call", allocs)
	}
}

func TestPlain8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			want := true
			for _, d := range b {
				want = want && plain[d]
			}
			if plain8(x) != want {
				t.Fatalf("plain8(%q) = %v", b, !want)
			}
		}
	}
}
