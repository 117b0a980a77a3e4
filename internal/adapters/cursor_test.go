package adapters

import (
	"errors"
	"strings"
	"testing"
)

func TestCursorFilterTag(t *testing.T) {
	whole := Cursor{Adapter: "postgres", Store: "0123456789abcdef", Pos: "10:12:10,11", Mark: Mark{N: 9, Token: "00112233445566ff"}}
	users := FilterTag(Filter{Collections: []string{"users"}})
	for _, tc := range []struct {
		name string
		f    Filter
		want string
	}{
		{"whole", Filter{}, ""},
		{"since alone", Filter{Since: whole.String()}, ""},
		{"one collection", Filter{Collections: []string{"users"}}, users},
		{"twice, and a since", Filter{Collections: []string{"users", "users"}, Since: "x"}, users},
	} {
		if got := FilterTag(tc.f); got != tc.want {
			t.Errorf("%s: FilterTag = %q, want %q", tc.name, got, tc.want)
		}
	}
	distinct := map[string]Filter{}
	for _, f := range []Filter{
		{Collections: []string{"users"}}, {Collections: []string{"a"}, Streams: []string{}}, {Streams: []string{"users"}},
		{Collections: []string{"users", "cache"}}, {Live: true}, {NoEvents: true}, {NoRecords: true},
		{Keys: []string{"k"}}, {FromSeq: 3}, {Collections: []string{"users"}, Live: true},
	} {
		tag := FilterTag(f)
		if other, ok := distinct[tag]; ok || len(tag) != TokenLen {
			t.Errorf("FilterTag(%+v) = %q, also %+v's (or not %d digits)", f, tag, other, TokenLen)
		}
		distinct[tag] = f
	}
	for _, same := range [][2]Filter{
		{{Collections: []string{"b", "a"}}, {Collections: []string{"a", "b"}}},
		{{NoRecords: true}, {Collections: []string{}}},
		{{NoRecords: true}, {NoRecords: true, Live: true}},
		{{NoRecords: true, Streams: []string{"s"}}, {NoRecords: true, Streams: []string{"s"}, Live: true, Keys: []string{"k"}}},
		{{NoEvents: true}, {NoEvents: true, FromSeq: 3, Streams: []string{"s"}}},
	} {
		if a, b := FilterTag(same[0]), FilterTag(same[1]); a != b {
			t.Errorf("%+v and %+v select the same items, tags %q and %q", same[0], same[1], a, b)
		}
	}

	tagged, err := WithFilter(whole.String(), Filter{Collections: []string{"users"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCursor(tagged)
	if err != nil || c.Filter != users || c.Pos != whole.Pos || c.Mark != whole.Mark || c.String() != tagged {
		t.Fatalf("ParseCursor(%q) = %+v, %v; want the cursor back with its tag", tagged, c, err)
	}
	if got, _ := WithFilter(whole.String(), Filter{}); got != whole.String() {
		t.Errorf("WithFilter of the whole store = %q, want the cursor as it was", got)
	}

	for _, tc := range []struct {
		since string
		f     Filter
		ok    bool
	}{
		{whole.String(), Filter{}, true},
		{whole.String(), Filter{Collections: []string{"users"}}, true},
		{tagged, Filter{Collections: []string{"users"}}, true},
		{tagged, Filter{}, false},
		{tagged, Filter{Collections: []string{"cache"}}, false},
		{tagged, Filter{Collections: []string{"users"}, Live: true}, false},
	} {
		err := SameFilter(tc.since, tc.f)
		if tc.ok != (err == nil) || err != nil && (!errors.Is(err, ErrCursor) || !errors.Is(err, ErrCursorFilter)) {
			t.Errorf("SameFilter(%q, %+v) = %v, want ok %v", tc.since, tc.f, err, tc.ok)
		}
	}
}

func TestCursorSealed(t *testing.T) {
	base := Cursor{Adapter: "sqlite", Store: "0123456789abcdef", Pos: "42:7", Mark: Mark{N: 3, Token: "00112233445566ff"}}
	tagged := base
	tagged.Filter = FilterTag(Filter{Collections: []string{"users"}})
	for _, c := range []Cursor{base, tagged} {
		plain := c.String()
		sealed, err := SealCursor(plain)
		if err != nil {
			t.Fatalf("SealCursor(%q): %v", plain, err)
		}
		if sealed != plain+",s" {
			t.Errorf("SealCursor(%q) = %q, want the mark last", plain, sealed)
		}
		if again, _ := SealCursor(sealed); again != sealed {
			t.Errorf("sealing %q twice gave %q", sealed, again)
		}
		got, err := ParseCursor(sealed)
		if want := c; err != nil || !got.Sealed || got.Filter != want.Filter || got.Pos != want.Pos || got.Mark != want.Mark {
			t.Errorf("ParseCursor(%q) = %+v, %v; want %+v sealed", sealed, got, err, want)
		}
		if got.Source() != c.Source() {
			t.Errorf("a sealed cursor names another source: %q, not %q", got.Source(), c.Source())
		}
		if Unsealed(sealed) != plain || Unsealed(plain) != plain {
			t.Errorf("Unsealed(%q) = %q, Unsealed(%q) = %q; want %q", sealed, Unsealed(sealed), plain, Unsealed(plain), plain)
		}
		if err := SameFilter(Unsealed(sealed), Filter{}); (err == nil) != (c.Filter == "") {
			t.Errorf("SameFilter of the unsealed %q with no filter: %v", sealed, err)
		}
	}
	if s, err := SealCursor(""); s != "" || err != nil {
		t.Errorf(`SealCursor("") = %q, %v; want "" (a stream without a cursor stays without)`, s, err)
	}
	for _, bad := range []string{"c9.nope", base.String() + ",s,s", "x,s"} {
		if _, err := SealCursor(bad); !errors.Is(err, ErrCursor) {
			t.Errorf("SealCursor(%q) = %v, want ErrCursor", bad, err)
		}
	}
}

// A stream written without its cursor keeps only the mark that it holds
// part of its store: the same whatever the store, read back as partial,
// never a position a delta starts from; a whole stream keeps nothing.
func TestPartialCursor(t *testing.T) {
	whole := Cursor{Adapter: "sqlite", Store: "0123456789abcdef", Pos: "7"}.String()
	filtered := Cursor{Adapter: "sqlite", Store: "0123456789abcdef", Pos: "7", Filter: "00112233445566ff"}.String()
	sealedFiltered := Cursor{Adapter: "sqlite", Store: "0123456789abcdef", Pos: "7", Filter: "00112233445566ff", Sealed: true}.String()
	for _, tc := range []struct {
		c, tag, want string
	}{
		{"", "", ""},
		{whole, "", ""},
		{Cursor{Adapter: "sqlite", Store: "0123456789abcdef", Pos: "7", Sealed: true}.String(), "", ""},
		{"", "aabbccddeeff0011", "c1.partial,faabbccddeeff0011"},
		{whole, "aabbccddeeff0011", "c1.partial,faabbccddeeff0011"},
		{filtered, "", "c1.partial,f00112233445566ff"},
		{sealedFiltered, "", "c1.partial,f00112233445566ff,s"},
		{"c1.partial,f00112233445566ff", "", "c1.partial,f00112233445566ff"},
		{"not a cursor", "", "not a cursor"},
	} {
		got := PartialCursor(tc.c, tc.tag)
		if got != tc.want {
			t.Errorf("PartialCursor(%q, %q) = %q, want %q", tc.c, tc.tag, got, tc.want)
			continue
		}
		if !strings.HasPrefix(got, "c1.partial") {
			continue
		}
		c, err := ParseCursor(got)
		if err != nil || !c.Partial || c.Filter == "" || c.String() != got {
			t.Errorf("ParseCursor(%q) = %+v, %v", got, c, err)
		}
		if _, err := CheckCursor(got, "sqlite", "0123456789abcdef"); !errors.Is(err, ErrCursor) || !strings.Contains(err.Error(), "no position") {
			t.Errorf("CheckCursor(%q): %v, want ErrCursor saying it holds no position", got, err)
		}
	}
	if _, err := ParseCursor("c1.partial"); !errors.Is(err, ErrCursor) {
		t.Errorf("a partial cursor without a filter mark: %v, want ErrCursor", err)
	}
}
