package record

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestQuickCheck(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }
	for _, c := range []struct {
		in   string
		want verdict
	}{
		{`{"a":[1,2.5,"x"],"b":{"c":true,"d":null},"e":false}`, isCanonical},
		{`{"address":{"city":"Москва","zip":80710},"holder":"Søren","memo":"café 😀"}`, isCanonical},
		{`{}`, isCanonical},
		{`[[],{},[{}]]`, isCanonical},
		{`"a\"b\\c\n\u001f"`, isCanonical},
		{`{"a\nb":1,"a\u001fb":2,"ab":3}`, isCanonical},
		{`{"":1,"a":2}`, isCanonical},
		{`-0.001`, isCanonical},
		{nested(quickDepth), isCanonical},
		{`{"b":1,"a":2}`, notCanonical},
		{`{"a":1,"a":1}`, notCanonical},
		{`{"ab":1,"a":2}`, notCanonical},
		{`{"a\u001fb":1,"a\nb":2}`, notCanonical},
		{`[1, 2]`, notCanonical},
		{`[1 ,2]`, notCanonical},
		{`{ "a":1}`, notCanonical},
		{`{"a" :1}`, notCanonical},
		{`{"a": 1}`, notCanonical},
		{`"\u00e9"`, notCanonical},
		{`"\/"`, notCanonical},
		{`[1e-7,-2.5e-10,1e+21,1.5e+300,1e+999999999999999999]`, isCanonical},
		{`1.50`, unsure},
		{`1e5`, unsure},
		{`1e+20`, unsure},
		{`1e-6`, unsure},
		{`1E+21`, unsure},
		{`1e+021`, unsure},
		{`10e+21`, unsure},
		{`0e+21`, unsure},
		{`1.0e+21`, unsure},
		{`1e+1000000000000000000`, unsure},
		{`1e+`, unsure},
		{`-0`, unsure},
		{nested(quickDepth + 1), unsure},
		{"\"a\nb\"", unsure},
		{"\"\xff\"", unsure},
		{`"\ud800"`, unsure},
		{`[1,]`, unsure},
		{`{"a":1,}`, unsure},
		{`{"a"}`, unsure},
		{`tru`, unsure},
		{`[1`, unsure},
		{`"abc`, unsure},
		{``, unsure},
	} {
		end, v := quickCheck([]byte(c.in), 0)
		if v != c.want || v == isCanonical && end != len(c.in) {
			t.Errorf("quickCheck(%q) = %d, %d; want %d", c.in, end, v, c.want)
		}
	}
}

// A value in a line is checked where it lies: the check ends with it.
func TestQuickCheckInALine(t *testing.T) {
	line := []byte(`{"value":{"a":[1,"x"]},"version":2}`)
	at := bytes.IndexByte(line, ':') + 1
	end, v := quickCheck(line, at)
	if v != isCanonical || string(line[at:end]) != `{"a":[1,"x"]}` {
		t.Fatalf("quickCheck = %d, %d", end, v)
	}
}

// quickCheck says nothing checkValue would not, wherever the value lies, and
// punts on no canonical value nested within quickDepth.
func FuzzQuickCheck(f *testing.F) {
	seedValues(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, src := range [][]byte{in, append(append([]byte(`{"v":`), in...), `,"w":1}`...)} {
			at := 0
			if len(src) > len(in) {
				at = len(`{"v":`)
			}
			end, v := quickCheck(src, at)
			p := getParser(src, nil)
			p.pos = at
			ok, err := p.checkValue()
			switch {
			case v == isCanonical && (!ok || err != nil || p.pos != end):
				t.Fatalf("quickCheck(%q) ends canonical at %d; checkValue: %v, %v at %d", src[at:], end, ok, err, p.pos)
			case v == notCanonical && ok && err == nil:
				t.Fatalf("quickCheck(%q) says not canonical; checkValue says it is", src[at:])
			}
			putParser(p)
		}
		out, err := Canonical(nil, in)
		if err != nil || nesting(out) > quickDepth {
			return
		}
		if end, v := quickCheck(out, 0); v != isCanonical || end != len(out) {
			t.Fatalf("quickCheck(%q), canonical, = %d, %d", out, end, v)
		}
	})
}

// nesting is how deep the arrays and objects of the valid value v go.
func nesting(v []byte) int {
	deepest := 0
	var t tokenizer
	t.reset(v)
	for t.pos < len(v) {
		switch v[t.pos] {
		case '"':
			if _, _, err := t.str(nil); err != nil {
				return deepest
			}
			continue
		case '[', '{':
			t.depth++
			deepest = max(deepest, t.depth)
		case ']', '}':
			t.depth--
		}
		t.pos++
	}
	return deepest
}

// A number is read as plain, and copied as it is by the writer, exactly when
// it is its own canonical form. The reference is the number spelt anew
// (appendCanonical), not Canonical, which copies what plainNumberEnd reads.
func TestPlainNumberIsCanonical(t *testing.T) {
	in := []string{"0", "-0", "1", "-1", "10", "01", "1.0", "1.5", "0.5", "0.000001", "0.0000001",
		"1e-7", "1E-7", "1e-07", "1e+21", "1e21", "1e+20", "1.5e+21", "15e+20", "0.1e+22", "1e+0",
		"-2.5e-10", "1e+999999999999999999", "1e-999999999999999999", "1e+1000000000000000000",
		"123456789012345678901", "1234567890123456789012", "1.2345678901234567890123e+23", "1e", "1e+", "-", "1."}
	for _, m := range []string{"1", "-1", "1.5", "-9.99", "2.50", "10"} {
		for x := -30; x <= 30; x++ {
			in = append(in, fmt.Sprintf("%se%+d", m, x), fmt.Sprintf("%se%d", m, x))
		}
	}
	for _, s := range in {
		if msg := plainAgrees([]byte(s)); msg != "" {
			t.Error(msg)
		}
	}
}

func FuzzPlainNumber(f *testing.F) {
	seedValues(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		if msg := plainAgrees(in); msg != "" {
			t.Fatal(msg)
		}
	})
}

// plainAgrees says how plainNumberEnd is wrong about src, if it is.
func plainAgrees(src []byte) string {
	if len(src) == 0 || src[0] != '-' && !isDigit(src[0]) {
		if plainNumberEnd(src, 0) >= 0 {
			return fmt.Sprintf("plainNumberEnd(%q) reads a number", src)
		}
		return ""
	}
	var tk tokenizer
	tk.reset(src)
	var n numberText
	var out []byte
	err := tk.number(&n)
	if err == nil && tk.pos == len(src) {
		out = n.appendCanonical(nil, src)
	}
	want := out != nil && string(out) == string(src)
	if got := plainNumberEnd(src, 0) == len(src); got != want {
		return fmt.Sprintf("plainNumberEnd(%q) reads it whole: %v; spelt anew it is %q (%v)", src, got, out, err)
	}
	return ""
}
