package cli

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// ManPage renders a command's man page (roff, section 1) from the same kong
// model --help is printed from, so that the two cannot drift apart: every
// command, argument and flag --help names is in it, with the same words.
func ManPage(app *kong.Application, version string) string {
	var b strings.Builder
	name := app.Name
	first, rest, _ := strings.Cut(strings.TrimSpace(app.Help), "\n")
	fmt.Fprintf(&b, ".TH %s 1 \"\" %q \"Persist manual\"\n", strings.ToUpper(name), version)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffText(name), roffText(strings.TrimSuffix(first, ".")))
	b.WriteString(".SH SYNOPSIS\n")
	leaves := visibleLeaves(app.Node)
	if len(leaves) == 0 {
		fmt.Fprintf(&b, ".B %s\n%s\n", roffText(name), roffText(usage(app.Node)))
	}
	for _, n := range leaves {
		fmt.Fprintf(&b, ".B %s\n%s\n.br\n", roffText(name), roffText(n.Path()+" "+usage(n)))
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeParagraphs(&b, strings.TrimSpace(rest))
	if len(app.Node.Flags) > 0 {
		b.WriteString(".SH OPTIONS\n")
		writeFlags(&b, app.Node.Flags)
	}
	if len(leaves) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, n := range leaves {
			fmt.Fprintf(&b, ".SS \"%s %s\"\n", roffText(name), roffText(n.Path()+" "+usage(n)))
			writeParagraphs(&b, n.Help)
			if n.Detail != "" {
				writeParagraphs(&b, n.Detail)
			}
			writeArgs(&b, n)
			writeFlags(&b, n.Flags)
		}
	}
	fmt.Fprintf(&b, ".SH SEE ALSO\n%s\n", roffText(seeAlso(name)))
	return b.String()
}

func visibleLeaves(n *kong.Node) []*kong.Node {
	var out []*kong.Node
	for _, c := range n.Children {
		if c.Hidden {
			continue
		}
		if len(c.Children) > 0 {
			out = append(out, visibleLeaves(c)...)
			continue
		}
		out = append(out, c)
	}
	return out
}

// usage is a node's arguments as --help spells them: <a> [<b>] [flags].
func usage(n *kong.Node) string {
	var parts []string
	for _, p := range n.Positional {
		s := p.Summary()
		parts = append(parts, s)
	}
	return strings.TrimSpace(strings.Join(parts, " ") + " [flags]")
}

func writeArgs(b *strings.Builder, n *kong.Node) {
	for _, p := range n.Positional {
		fmt.Fprintf(b, ".TP\n\\fI%s\\fR\n%s\n", roffText(p.Summary()), roffText(p.Help))
	}
}

func writeFlags(b *strings.Builder, flags []*kong.Flag) {
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		head := "\\fB\\-\\-" + roffText(f.Name) + "\\fR"
		if f.Short != 0 {
			head = fmt.Sprintf("\\fB\\-%c\\fR, %s", f.Short, head)
		}
		if !f.IsBool() && !f.IsCounter() {
			head += "=\\fI" + roffText(f.FormatPlaceHolder()) + "\\fR"
		}
		help := f.Help
		if f.HasDefault && f.Default != "" && !f.IsBool() {
			help += " (default: " + f.Default + ")"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", head, roffText(help))
	}
}

// writeParagraphs renders text as --help shows it: blank lines part
// paragraphs, and indented lines (examples, formats) are kept as they are.
func writeParagraphs(b *strings.Builder, text string) {
	for _, para := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.Trim(para, "\n"), "\n")
		if len(lines) == 0 || strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString(".PP\n")
		inExample := false
		for _, l := range lines {
			indented := strings.HasPrefix(l, "  ")
			switch {
			case indented && !inExample:
				b.WriteString(".nf\n.RS 4\n")
				inExample = true
			case !indented && inExample:
				b.WriteString(".RE\n.fi\n")
				inExample = false
			}
			if indented {
				l = strings.TrimPrefix(strings.TrimPrefix(l, "  "), "  ")
			}
			b.WriteString(roffText(l) + "\n")
		}
		if inExample {
			b.WriteString(".RE\n.fi\n")
		}
	}
}

// roffText escapes text for roff: backslashes, dashes, and a line that
// would begin with a control character.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	var b strings.Builder
	for _, r := range s {
		if r > 127 {
			fmt.Fprintf(&b, `\[u%04X]`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func seeAlso(name string) string {
	var out []string
	for _, t := range []string{"persist", "persist-dump", "persist-load", "persist-sum", "persist-diff", "persist-tee", "persist-seal"} {
		if t != name {
			out = append(out, t+"(1)")
		}
	}
	return strings.Join(out, ", ")
}
