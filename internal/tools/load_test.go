package tools

import (
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

// A dump of another store merged into the only store there is said, with
// the commands that choose; where the target had a password, the hint says
// where those commands take it from, as it is not shown.
func TestLoadWarnsOfAnotherStore(t *testing.T) {
	for _, tc := range []struct {
		target string
		note   bool
	}{
		{"sqlite:one.db", false},
		{"postgres://app:***@db.example/app", true},
		{"host=db.example password=*** dbname=app", true},
		{"postgres://app@db.example/app", false},
	} {
		var got []string
		res := persist.LoadResult{Target: tc.target, Store: "default", StreamStore: "billing"}
		if err := loadEnd(res, nil, LoadFlags{}, func(s string) { got = append(got, s) }); err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if len(got) != 1 || !strings.Contains(got[0], `dump of store "billing"`) {
			t.Fatalf("%s: warnings %q", tc.target, got)
		}
		if has := strings.Contains(got[0], "PGPASSWORD or ~/.pgpass"); has != tc.note {
			t.Errorf("%s: password note %v, want %v: %s", tc.target, has, tc.note, got[0])
		}
		if strings.Contains(got[0], "***") != strings.Contains(tc.target, "***") {
			t.Errorf("%s: %s", tc.target, got[0])
		}
	}
}
