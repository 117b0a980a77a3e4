package diff

import (
	"github.com/cuitty/persist/internal/record"
	"strings"
	"testing"
)

func TestWalkValues(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string // "" is absent
		want       string
	}{
		{"equal", `{"a":[1,{"b":2}]}`, `{"a":[1,{"b":2}]}`, ``},
		{"root scalar", `1`, `2`, `.: 1 → 2`},
		{"root absent", ``, `{"a":1}`, `.: (absent) → {"a":1}`},
		{"both absent (two tombstones)", ``, ``, ``},
		{"root array", `[1,2]`, `[1,3,4]`, `.[1]: 2 → 3; .[2]: (absent) → 4`},
		{"member removed", `{"a":1,"b":2}`, `{"b":2}`, `.a: 1 → (absent)`},
		{"nested", `{"a":{"b":{"c":[true]}}}`, `{"a":{"b":{"c":[false]}}}`, `.a.b.c[0]: true → false`},
		{"odd key", `{"a b":1,"é":1,"x\"y":1,"9":1}`, `{"a b":2,"é":2,"x\"y":2,"9":2}`,
			`."9": 1 → 2; ."a b": 1 → 2; ."x\"y": 1 → 2; ."é": 1 → 2`},
		{"escaped key equals plain", `{"\u0061":1}`, `{"a":2}`, `.a: 1 → 2`},
		{"number exact", `{"n":12345678901234567890123}`, `{"n":12345678901234567890124}`, `.n: 12345678901234567890123 → 12345678901234567890124`},
		{"type change", `{"a":[]}`, `{"a":{}}`, `.a: [] → {}`},
		{"null and absent", `{"a":null}`, `{}`, `.a: null → (absent)`},
		{"unsorted input", `{"b":1,"a":1}`, `{"a":2,"b":1}`, `.a: 1 → 2`},
		{"whitespace", `{ "a" : [ 1 , 2 ] }`, `{"a":[1,3]}`, `.a[1]: 2 → 3`},
		{"malformed", `{"a":`, `{"a":1}`, `.: {"a": → {"a":1}`},
		{"strings with brackets", `{"a":"]}","b":1}`, `{"a":"]}","b":2}`, `.b: 1 → 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			walkValues(val(tc.a), val(tc.b), func(path string, a, b []byte) {
				got = append(got, path+": "+string(appendShort(nil, a))+" → "+string(appendShort(nil, b)))
			})
			if s := strings.Join(got, "; "); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
}

func val(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func TestWalkDeep(t *testing.T) {
	// As deep as a stream may nest (record.MaxDepth), far deeper than the walk goes.
	a := strings.Repeat("[", record.MaxDepth) + "1" + strings.Repeat("]", record.MaxDepth)
	b := strings.Repeat("[", record.MaxDepth) + "2" + strings.Repeat("]", record.MaxDepth)
	n := 0
	walkValues([]byte(a), []byte(b), func(path string, _, _ []byte) {
		n++
		if want := "." + strings.Repeat("[0]", maxDepth); path != want {
			t.Errorf("path has %d bytes, want %d", len(path), len(want))
		}
	})
	if n != 1 {
		t.Errorf("%d paths, want 1", n)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"users":      "users",
		"":           `""`,
		"a/b":        `"a/b"`,
		"a b":        `"a b"`,
		"Ünïcödé":    "Ünïcödé",
		"tab\there":  `"tab\there"`,
		"zero\u200b": `"zero\u200b"`,
		"csi\u009b":  `"csi\u009b"`,
		"emoji😀":     "emoji😀",
		`q"uote`:     `"q\"uote"`,
		"\U000e0041": `"\udb40\udc41"`,
		// Composed and decomposed, two keys a terminal shows alike.
		"caf\u00e9":  "caf\u00e9",
		"cafe\u0301": `"cafe\u0301"`,
		"\u20dd":     `"\u20dd"`,
	} {
		if got := string(appendName(nil, in)); got != want {
			t.Errorf("appendName(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCut(t *testing.T) {
	long := `"` + strings.Repeat("é", 100) + `"`
	got := string(appendShort(nil, []byte(long)))
	if n := len([]rune(got)); n != maxShown || !strings.HasSuffix(got, "…") {
		t.Errorf("%d runes: %s", n, got)
	}
	exact := strings.Repeat("x", maxShown)
	if got := string(appendShort(nil, []byte(exact))); got != exact {
		t.Errorf("cut a value of exactly maxShown: %s", got)
	}
}
