// Package tools holds what each persist command does once its flags are
// parsed; cmd/persist-*/main.go only wires flags to these functions.
package tools

import (
	"io"
	"os"
	"strings"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
)

// Stdio is a command's standard streams.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Select is the flags that narrow what a reader yields.
type Select struct {
	Collection []string `help:"Only records of this collection (repeatable, or comma-separated; a comma of a name is written \\,)." sep:"," type:"names"`
	Stream     []string `help:"Only events of this stream (repeatable, or comma-separated; a comma of a name is written \\,)." sep:"," type:"names"`
	Records    bool     `help:"Only records (no events)."`
	Events     bool     `help:"Only events (no records)."`
	Live       bool     `help:"Leave tombstones (deleted records) out."`
}

// Filter turns the flags into the API's filter.
func (s Select) Filter() persist.Filter {
	return persist.Filter{Collections: s.Collection, Streams: s.Stream, Records: s.Records, Events: s.Events, Live: s.Live}
}

// Check refuses flags that cancel each other, with what to leave out.
func (s Select) Check() error {
	err := s.Filter().Check()
	switch {
	case err == nil:
		return nil
	case s.Records && s.Events:
		return cli.Hint(err, "leave out --records and --events to read both")
	case s.Events:
		return cli.Hint(err, "leave out --events: --collection alone reads the collection's records, and --stream S adds the events of S")
	}
	return cli.Hint(err, "leave out --records: --stream alone reads the stream's events, and --collection C adds the records of C")
}

// summary prints the one-line summary on stderr: when stderr is a
// terminal or with -v, never with -q (cli.ShowSummary).
func summary(st Stdio, c cli.Common, name string, parts ...string) {
	if !cli.ShowSummary(c, st.Stderr) {
		return
	}
	io.WriteString(st.Stderr, name+": "+hint.Printable(strings.Join(parts, ", "))+"\n")
}

// OS is the process's own standard streams.
func OS() Stdio { return Stdio{Stdin: cli.Stdin(), Stdout: os.Stdout, Stderr: os.Stderr} }
