package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

type emptyGrammar struct {
	Common
	Output     string   `short:"o" default:"-"`
	Since      string   ``
	Collection []string `sep:","`
	Stream     []string `sep:"," type:"names"`
	Location   string   `arg:"" optional:""`
}

// A flag given an empty value is refused, whatever its spelling: an unset
// shell variable must not pass for a flag left out.
func TestParseRefusesEmptyFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  string
	}{
		{[]string{"-o", ""}, "--output ''"},
		{[]string{"--output", ""}, "--output ''"},
		{[]string{"--output="}, "--output ''"},
		{[]string{"--since", ""}, "--since ''"},
		{[]string{"--collection", ""}, "--collection ''"},
		{[]string{"--summary", ""}, "--summary ''"},
		{[]string{"-o", "x.jsonl", "--since", "c1"}, ""},
		{[]string{"--stream", ""}, `--stream: "" holds an empty name`},
		{[]string{"--stream", "a", "--stream", ""}, `--stream: "" holds an empty name`},
		{[]string{"--stream", "a,"}, `--stream: "a," holds an empty name`},
		{[]string{"--stream", ",a"}, `--stream: ",a" holds an empty name`},
		{[]string{"--stream", "a,b", "--stream=c"}, ""},
		{[]string{"--collection", "users"}, ""},
		{nil, ""},
	} {
		if tc.bad == "" {
			parsesOrRefuses(t, tc.args, "", "")
			continue
		}
		want, hint := "error: "+tc.bad+": the value is empty", "hint: give "+strings.Fields(tc.bad)[0]+" a value, or leave it out"
		if strings.Contains(tc.bad, "empty name") {
			want, hint = "error: "+tc.bad, "hint: give every name the flag lists, or leave the flag out"
		}
		parsesOrRefuses(t, tc.args, want, hint)
	}
}

// parsesOrRefuses parses args with emptyGrammar: accepted where want is
// "", else refused (exit 2) with want and hint on stderr and nothing on
// stdout.
func parsesOrRefuses(t *testing.T, args []string, want, hint string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	_, code, done := Parse("persist-x", "", &emptyGrammar{}, args, &stdout, &stderr)
	if want == "" {
		if done {
			t.Errorf("%q: refused (%d): %s", args, code, stderr.String())
		}
		return
	}
	if !done || code != ExitTrouble || !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), hint) {
		t.Errorf("%q: done %v, code %d, stderr %q", args, done, code, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("%q: stdout %q", args, stdout.String())
	}
}

// An optional LOCATION given as "" is refused, not taken as left out (the
// default's databases would answer for the one meant); left out, it is.
func TestParseRefusesEmptyOptionalLocation(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_, code, done := Parse("persist-x", "", &emptyGrammar{}, []string{""}, &stdout, &stderr)
	if !done || code != ExitTrouble || !strings.Contains(stderr.String(), "error: LOCATION '': the location is empty") ||
		!strings.Contains(stderr.String(), "hint: give the database, or leave LOCATION out for the default") {
		t.Errorf("done %v, code %d, stderr %q", done, code, stderr.String())
	}
	if _, _, done := Parse("persist-x", "", &emptyGrammar{}, nil, &stdout, &stderr); done {
		t.Errorf("LOCATION left out: refused")
	}
}

// A negative number given as a value reads as an unknown flag: the hint
// puts -- before it, and the command it gives parses.
func TestParseHintsNegativeValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"-q", "-5"}, "hint: a value that begins with '-' goes after --, which ends the flags: persist-x -q -- -5"},
		{[]string{"-5", "-q"}, "put the flags before it"},
		{[]string{"-x"}, "hint: see persist-x --help"},
		{[]string{"-q", "-1.5"}, "persist-x -q -- -1.5"},
		{[]string{"--since", "postgres://u:hunter2@h/db", "-5"}, "persist-x --since postgres://u@h/db -- -5 (the password from PGPASSWORD or ~/.pgpass)"},
	} {
		var stdout, stderr bytes.Buffer
		_, code, done := Parse("persist-x", "", &emptyGrammar{}, tc.args, &stdout, &stderr)
		if !done || code != ExitTrouble || !strings.Contains(stderr.String(), tc.hint) || strings.Contains(stderr.String(), "hunter2") {
			t.Errorf("%q: done %v, code %d, stderr %q, want %q", tc.args, done, code, stderr.String(), tc.hint)
		}
	}
	var stdout, stderr bytes.Buffer
	g := &emptyGrammar{}
	if _, _, done := Parse("persist-x", "", g, []string{"-q", "--", "-5"}, &stdout, &stderr); done || g.Location != "-5" {
		t.Fatalf("the hint's command: %s, location %q", stderr.String(), g.Location)
	}
}

// An argument that is not UTF-8 is refused before the parser turns its
// bytes into U+FFFD, where two keys differing only there became one.
func TestParseRefusesInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  bool
	}{
		{[]string{"\xff"}, true},
		{[]string{"-o", "a\xfe.jsonl"}, true},
		{[]string{"--collection", "us\xc3ers"}, true},
		{[]string{"postgres://u:s3cret\xff@h/db"}, true},
		{[]string{"Zürich", "--collection", "ключ"}, false},
	} {
		var stdout, stderr bytes.Buffer
		_, code, done := Parse("persist-x", "", &emptyGrammar{}, tc.args, &stdout, &stderr)
		if !tc.bad {
			if done {
				t.Errorf("%q: refused (%d): %s", tc.args, code, stderr.String())
			}
			continue
		}
		if !done || code != ExitTrouble || !strings.Contains(stderr.String(), "is not valid UTF-8") ||
			!strings.Contains(stderr.String(), "hint: ") {
			t.Errorf("%q: done %v, code %d, stderr %q; want exit 2 saying it is not UTF-8, with a hint", tc.args, done, code, stderr.String())
		}
		if strings.Contains(stderr.String(), "s3cret") {
			t.Errorf("%q: the message shows the password: %q", tc.args, stderr.String())
		}
	}
}

// Numbers are decimal: 010 is ten, not eight, and 0x8 is no number.
func TestParseNumbersDecimal(t *testing.T) {
	type grammar struct {
		IfVersion *int64 `name:"if-version"`
		Batch     int    `name:"batch"`
	}
	for _, tc := range []struct {
		args    []string
		version int64
		batch   int
		bad     bool
	}{
		{[]string{"--if-version", "010"}, 10, 0, false},
		{[]string{"--if-version=-3", "--batch", "007"}, -3, 7, false},
		{[]string{"--if-version", "0x8"}, 0, 0, true},
		{[]string{"--batch", "0o7"}, 0, 0, true},
		{[]string{"--batch", "1_000"}, 0, 1000, false},
		{[]string{"--batch", "1__0"}, 0, 0, true},
		{[]string{"--batch", "_1"}, 0, 0, true},
	} {
		var g grammar
		var stdout, stderr bytes.Buffer
		_, code, done := Parse("persist-x", "", &g, tc.args, &stdout, &stderr)
		if tc.bad {
			if !done || code != ExitTrouble || !strings.Contains(stderr.String(), "decimal") {
				t.Errorf("%q: done %v, code %d, stderr %q; want refused as not decimal", tc.args, done, code, stderr.String())
			}
			continue
		}
		if done {
			t.Errorf("%q: refused: %s", tc.args, stderr.String())
			continue
		}
		if (g.IfVersion == nil && tc.version != 0) || (g.IfVersion != nil && *g.IfVersion != tc.version) || g.Batch != tc.batch {
			t.Errorf("%q: if-version %v, batch %d; want %d, %d", tc.args, g.IfVersion, g.Batch, tc.version, tc.batch)
		}
	}
}

// A list of names splits at each comma but one written \, which a name
// holding a comma needs (a collection "a,b" beside collections a and b);
// any other backslash is the name's own.
func TestParseSplitsNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--stream", "a,b"}, []string{"a", "b"}},
		{[]string{"--stream", `a\,b`}, []string{"a,b"}},
		{[]string{"--stream", `a\,b,c`, "--stream", "d"}, []string{"a,b", "c", "d"}},
		{[]string{"--stream", `a\b`}, []string{`a\b`}},
		{[]string{"--stream", `a\\,b`}, []string{`a\,b`}},
		{[]string{"--stream", `a\`}, []string{`a\`}},
		{[]string{"--stream", `\,`}, []string{","}},
	} {
		var stdout, stderr bytes.Buffer
		g := &emptyGrammar{}
		if _, _, done := Parse("persist-x", "", g, tc.args, &stdout, &stderr); done {
			t.Errorf("%q: refused: %s", tc.args, stderr.String())
			continue
		}
		if !slices.Equal(g.Stream, tc.want) {
			t.Errorf("%q: streams %q, want %q", tc.args, g.Stream, tc.want)
		}
	}
}

// A flag of one value given twice is refused, whatever its spelling: the
// parser would keep the last, and the first would never be acted on. A
// list flag takes each, and a switch given twice is still on.
func TestParseRefusesRepeatedFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  string
	}{
		{[]string{"-o", "a", "-o", "b"}, "--output"},
		{[]string{"--output", "a", "--output=b"}, "--output"},
		{[]string{"-o", "a", "--output", "a"}, "--output"},
		{[]string{"--since", "c1", "-o", "x", "--since", "c2"}, "--since"},
		{[]string{"--summary", "s", "--summary", "s"}, "--summary"},
		{[]string{"--collection", "a", "--collection", "b"}, ""},
		{[]string{"--stream", "a", "--stream=b"}, ""},
		{[]string{"-q", "-q"}, ""},
		{[]string{"-o", "a", "--since", "c1"}, ""},
	} {
		if tc.bad == "" {
			parsesOrRefuses(t, tc.args, "", "")
			continue
		}
		parsesOrRefuses(t, tc.args, "error: "+tc.bad+" is given more than once", "hint: give "+tc.bad+" once")
	}
}
