package postgres

import (
	"slices"
	"testing"
)

// searchPath reads a search_path as the server splits it.
func TestSearchPath(t *testing.T) {
	for _, c := range []struct {
		setting string
		want    []string
	}{
		{``, nil},
		{`"$user", public`, []string{"ada", "public"}},
		{`$user,public`, []string{"ada", "public"}},
		{`pg_catalog, App ,"My ""Schema""", pg_temp`, []string{"app", `My "Schema"`}},
		{"\tone,\ntwo", []string{"one", "two"}},
		{`"unclosed, public`, nil},
		{`a b, c`, []string{"a"}},
		{`pg_temp_3, x`, []string{"x"}},
		{`Ärger, "Ärger"`, []string{"Ärger", "Ärger"}}, // ASCII letters only are lowered
		{`ABC`, []string{"abc"}},
	} {
		if got := searchPath(c.setting, "ada"); !slices.Equal(got, c.want) {
			t.Errorf("searchPath(%q) = %q, want %q", c.setting, got, c.want)
		}
	}
}
