package cli

import (
	"strings"
	"testing"
)

func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		`--mode`:         `\-\-mode`,
		`.hidden`:        `\&.hidden`,
		`'quoted'`:       `\&'quoted'`,
		`a\b`:            `a\eb`,
		"Zoë …":          `Zo\[u00EB] \[u2026]`,
		"plain words ok": "plain words ok",
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
}

type manGrammar struct {
	Common
	Location string `arg:"" help:"The store."`
	Mode     string `default:"merge" enum:"merge,replace" help:"How to load."`
}

func TestManPage(t *testing.T) {
	p := mustParser("persist-x", "Do a thing.\n\nExamples:\n  persist-x sqlite:a.db\n\nExit status: 0.", &manGrammar{}, nil, nil, func(int) {})
	man := ManPage(p.Model, "persist-x v1")
	for _, want := range []string{
		".TH PERSIST-X 1", `persist\-x \- Do a thing`, ".SH OPTIONS", `\fB\-\-mode\fR=\fI"merge"\fR`, "(default: merge)",
		`\fB\-q\fR, \fB\-\-quiet\fR`, ".nf\n.RS 4\npersist\\-x sqlite:a.db\n.RE\n.fi", "Exit status: 0.",
	} {
		if !strings.Contains(man, want) {
			t.Errorf("man page lacks %q:\n%s", want, man)
		}
	}
}
