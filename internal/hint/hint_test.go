package hint

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestAll(t *testing.T) {
	base := errors.New("base")
	a := With(fmt.Errorf("target a: %w", With(base, "inner a")), "outer a")
	b := With(errors.New("target b"), "only b")
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"nil", nil, nil},
		{"none", base, nil},
		{"wrapped, outermost first", a, []string{"outer a", "inner a"}},
		{"through fmt.Errorf", fmt.Errorf("run: %w", b), []string{"only b"}},
		{"every branch of a join", errors.Join(a, b), []string{"outer a", "inner a", "only b"}},
		{"a join inside a wrap", With(fmt.Errorf("two: %w", errors.Join(b, a)), "top"), []string{"top", "only b", "outer a", "inner a"}},
		{"the same hint once", errors.Join(With(errors.New("x"), "same"), With(errors.New("y"), "same")), []string{"same"}},
		{"two %w", fmt.Errorf("%w and %w", b, a), []string{"only b", "outer a", "inner a"}},
	} {
		if got := All(c.err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: All = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"a.db":           "a.db",
		"":               "''",
		"my file":        "'my file'",
		"it's":           `'it'\''s'`,
		"#comment":       "'#comment'",
		"a#b":            "a#b",
		"x$(rm -rf)":     "'x$(rm -rf)'",
		"esc\x1b[31mred": `$'esc\x1b[31mred'`,
		"two\nlines":     `$'two\x0alines'`,
		"it's\r":         `$'it\'s\x0d'`,
		"back\\\x7f":     `$'back\\\x7f'`,
		"c1\u009b2J":     `$'c1\xc2\x9b2J'`,
		"lone\x9bA":      `$'lone\x9bA'`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain, Zoë \t":  "plain, Zoë \\x09",
		"esc\x1b[2J":     `esc\x1b[2J`,
		"c1\u009b":       `c1\u009b`,
		"nul\x00del\x7f": `nul\x00del\x7f`,
		"bad\xff\x1b":    "bad\xff" + `\x1b`, // a byte not UTF-8 kept as it is
		"lone\x9b":       `lone\x9b`,         // a C1 byte alone, not UTF-8
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
