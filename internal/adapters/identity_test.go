package adapters

import "testing"

func TestRelate(t *testing.T) {
	unknown := UnknownIdentity("postgres", "5 public", "grant it")
	for _, c := range []struct {
		a, b string
		want Relation
		why  string
	}{
		{"postgres:1 5 public\x00app", "postgres:1 5 public\x00app", Same, ""},
		{"postgres:1 5 public\x00app", "postgres:2 5 public\x00app", Apart, ""},
		{"postgres:1 5 public\x00app", "postgres:1 5 public\x00other", Apart, ""},
		{"", "postgres:1 5 public\x00app", Apart, ""},
		{unknown + "\x00app", "postgres:1 5 public\x00app", Unknown, "grant it"},
		{"postgres:1 5 public\x00app", unknown + "\x00app", Unknown, "grant it"},
		{unknown + "\x00app", unknown + "\x00app", Unknown, "grant it"},
		{unknown + "\x00app", unknown + "\x00other", Apart, ""},
		{unknown + "\x00app", "postgres:1 6 public\x00app", Apart, ""},
		{unknown + "\x00app", "postgres:1 5 \"my s\"\x00app", Apart, ""},
		{unknown + "\x00app", UnknownIdentity("postgres", "6 public", "x") + "\x00app", Apart, ""},
		{unknown + "\x00app", "sqlite:64:7\x00app", Apart, ""},
	} {
		if r, why := Relate(c.a, c.b); r != c.want || why != c.why {
			t.Errorf("Relate(%q, %q) = %v, %q; want %v, %q", c.a, c.b, r, why, c.want, c.why)
		}
	}
}
