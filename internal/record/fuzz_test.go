package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

func seedValues(f *testing.F) {
	for _, line := range strings.Split(string(vector(f, "numbers.tsv")), "\n") {
		if in, _, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(in, "#") {
			f.Add([]byte(in))
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(vector(f, "values.jsonl")))
	for sc.Scan() {
		var v struct{ In string }
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			f.Add([]byte(v.In))
		}
	}
	for _, s := range []string{`"\ud800"`, "\"\xff\"", `{"a":1,"a":2}`, `[1,`} {
		f.Add([]byte(s))
	}
}

func FuzzCanonical(f *testing.F) {
	seedValues(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonical(nil, in)
		same, cerr := IsCanonical(in)
		if err != nil {
			if errors.Is(err, ErrSyntax) == errors.Is(err, ErrLimit) {
				t.Fatalf("error wraps neither ErrSyntax nor ErrLimit, or both: %v", err)
			}
			if json.Valid(in) && !errors.Is(err, ErrLimit) && !strings.Contains(err.Error(), "surrogate") &&
				!strings.Contains(err.Error(), "UTF-8") {
				t.Fatalf("encoding/json accepts %q, Canonical says %v", in, err)
			}
			if same {
				t.Fatalf("IsCanonical(%q) = true, Canonical says %v", in, err)
			}
			return
		}
		if cerr != nil || same != bytes.Equal(in, out) {
			t.Fatalf("IsCanonical(%q) = %v, %v; Canonical gives %q", in, same, cerr, out)
		}
		again, err := Canonical(nil, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not stable: %q → %q → %q, %v", in, out, again, err)
		}
		if !json.Valid(in) {
			t.Fatalf("Canonical accepts %q, encoding/json does not", in)
		}
		var a, b any
		if json.Unmarshal(in, &a) != nil {
			return // a number beyond float64
		}
		if !exact(a) || !utf8Clean(in) {
			return
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("canonical %q does not decode: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q decodes to %v, its canonical form %q to %v", in, a, out, b)
		}
	})
}

// exact reports whether float64 held every number of v without loss, so
// that comparing through encoding/json means something: integers below 2^53.
func exact(v any) bool {
	switch v := v.(type) {
	case float64:
		return v == math.Trunc(v) && math.Abs(v) < 1<<53
	case []any:
		for _, e := range v {
			if !exact(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range v {
			if !exact(e) {
				return false
			}
		}
	}
	return true
}

// utf8Clean: encoding/json replaces invalid UTF-8 and lone surrogates
// with U+FFFD where Canonical refuses, so such input is not compared.
func utf8Clean(b []byte) bool {
	return !bytes.Contains(b, []byte(`\u`)) || !bytes.Contains(b, []byte(`\ud`)) && !bytes.Contains(b, []byte(`\uD`))
}

func FuzzReader(f *testing.F) {
	f.Add(vector(f, "stream-small.jsonl")[:4000])
	f.Add([]byte(stream(rec1, rec2, ev1)))
	f.Add([]byte(`{"kind":"header","format":"persist.v1","patch":true}` + "\n" + `{"kind":"remove","stream":"s","seq":1}` + "\n"))
	f.Add([]byte("\n\n{}\n[]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, opt := range []ReaderOptions{{}, {AllowPatch: true, IgnoreTrailer: true}} {
			r, err := NewReader(bytes.NewReader(in), opt)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				it, err := r.Next()
				if err == nil {
					if it == nil || len(r.Canonical()) == 0 {
						t.Fatal("no item")
					}
					// What the reader returns is canonical: parsing it again changes nothing.
					var l Line
					if err := ParseLine(r.Canonical(), &l); err != nil {
						t.Fatalf("canonical line %q does not parse: %v", r.Canonical(), err)
					}
					if c := AppendItem(nil, &l.Item); !bytes.Equal(c, r.Canonical()) {
						t.Fatalf("not stable: %q → %q", r.Canonical(), c)
					}
					if l.Item.Kind != it.Kind || l.Item.IsRecord() != it.IsRecord() || Compare(&l.Item, it) != 0 {
						t.Fatalf("%q reads back as another item", r.Canonical())
					}
					continue
				}
				if err == io.EOF {
					break
				}
				if !strings.Contains(err.Error(), "line ") {
					t.Fatalf("error names no line: %v", err)
				}
				var le *LineError
				if !errors.As(err, &le) {
					break // final
				}
				if le.Line != r.Line() || le.Line < 1 {
					t.Fatalf("line error for line %d, reader at %d", le.Line, r.Line())
				}
				if i > len(in)+2 {
					t.Fatal("reader does not advance")
				}
			}
		}
	})
}
