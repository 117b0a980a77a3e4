package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
)

// SumOptions are persist-sum's flags.
type SumOptions struct {
	cli.Common
	Select
	Inputs        []string
	Store         string
	By            string
	Check         string
	IgnoreTrailer bool
}

// sumLine is a sum as persist-sum prints it, for input name. A name
// holding a backslash, a line break or a carriage return is escaped as
// sha256sum does it, so that --check reads every line back whole.
func sumLine(r persist.SumResult, name string) string {
	esc, escaped := escapeName(name)
	if escaped {
		return `\` + r.String() + "  " + esc
	}
	return r.String() + "  " + name
}

var nameEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`)

// escapeName is name as sha256sum writes it, and whether it needed
// escaping (the line then starts with a backslash).
func escapeName(name string) (string, bool) {
	if !strings.ContainsAny(name, "\\\n\r") {
		return name, false
	}
	return nameEscaper.Replace(name), true
}

// unescapeName undoes escapeName; ok is false for a backslash that
// escapes nothing sha256sum escapes.
func unescapeName(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", false
		}
	}
	return b.String(), true
}

// shownName is name as --check reports it: escaped as in the sum line.
func shownName(name string) string {
	if esc, escaped := escapeName(name); escaped {
		return `\` + esc
	}
	return name
}

// Sum prints one line per input.
func Sum(ctx context.Context, st Stdio, o SumOptions) error {
	return streamHint(sum(ctx, st, o), true)
}

func sum(ctx context.Context, st Stdio, o SumOptions) error {
	const name = "persist-sum"
	if err := o.Select.Check(); err != nil {
		return err
	}
	if err := report(ctx).ToStdout("the sum lines"); err != nil {
		return err
	}
	if o.Check == "" && len(o.Inputs) == 0 {
		o.Inputs = []string{"-"}
	}
	if err := guard(ctx, append([]string{o.Check}, o.Inputs...)); err != nil {
		return err
	}
	if o.By != "" && o.By != "collection" {
		return cli.Hint(fmt.Errorf("--by %q: only --by collection is known", o.By), "use --by collection")
	}
	if o.Check != "" {
		if len(o.Inputs) > 0 {
			return cli.Hint(errors.New("--check takes no inputs: they are named in the file"), "persist-sum --check SUMS")
		}
		return check(ctx, st, o)
	}
	if err := oneStdin(o.Inputs); err != nil {
		return err
	}
	if err := groupLike(o.Inputs); err != nil {
		return err
	}
	out := bufio.NewWriter(st.Stdout)
	start := time.Now()
	var n int64
	for _, in := range o.Inputs {
		t, groups, err := sumInput(ctx, st, o, in)
		if err != nil {
			out.Flush()
			return err
		}
		n += t.Records + t.Events
		report(ctx).Update(func(r *cli.Result) {
			r.Records += t.Records
			r.Events += t.Events
			r.Sources = append(r.Sources, counted(readSide(in, ""), t.Records, t.Events, t.Sum))
			r.Sum = nil
			if len(r.Sources) == 1 {
				r.Sum = cli.Ptr(t.Sum)
			}
		})
		// The line names the store summed, so that --check sums it again.
		label := location.Redact(location.Named(in, o.Store))
		for _, g := range groups {
			fmt.Fprintln(out, sumLine(g.SumResult, label+"  "+g.Kind+"="+g.Name))
		}
		fmt.Fprintln(out, sumLine(t, label))
	}
	if err := out.Flush(); err != nil {
		return err
	}
	d := time.Since(start)
	summary(st, o.Common, name, fmt.Sprintf("summed %d items in %d inputs", n, len(o.Inputs)), d.Round(time.Millisecond).String(), cli.Rate(n, d))
	return nil
}

func oneStdin(inputs []string) error {
	var names []string
	for _, in := range inputs {
		if location.StdinName(in) {
			names = append(names, in)
		}
	}
	switch {
	case len(names) < 2:
		return nil
	case !slices.ContainsFunc(names, func(n string) bool { return n != "-" }):
		return errors.New("standard input (-) can be named only once")
	}
	if len(names) == 2 {
		return fmt.Errorf("standard input can be named only once: %s and %s both name it", names[0], names[1])
	}
	return fmt.Errorf("standard input can be named only once: %s all name it", strings.Join(names, ", "))
}

func sumInput(ctx context.Context, st Stdio, o SumOptions, in string) (persist.SumResult, []persist.SumGroup, error) {
	src, err := persist.OpenSource(ctx, in, persist.ReadOptions{Store: o.Store, StreamStore: true, Filter: o.Filter(), IgnoreTrailer: o.IgnoreTrailer, Stdin: st.Stdin})
	if err != nil {
		return persist.SumResult{}, nil, err
	}
	defer src.Close()
	b := newBar(st, o.Common, "summing "+src.Location())
	t, groups, err := src.Sum(ctx, persist.SumOptions{ByCollection: o.By != "", OnProgress: b.progress})
	b.Finish()
	return t, groups, err
}

var checkLine = regexp.MustCompile(`^(persist1:[0-9a-f]{64})  records=(\d+) events=(\d+)  (.+)$`)

// checkEntry is a line of a saved list: the input it names (as saved, a
// password masked) and, for a line of --by output, its collection or
// stream ("" for the input's own line).
type checkEntry struct {
	want        string
	input       string
	kind, group string
}

// shown is the entry's name as its sum line had it.
func (e checkEntry) shown() string {
	if e.kind == "" {
		return shownName(e.input)
	}
	return shownName(e.input + "  " + e.kind + "=" + e.group)
}

// grouped tells the inputs that a line checks by collection or stream:
// those are summed --by.
func grouped(entries []checkEntry) map[string]bool {
	by := map[string]bool{}
	for _, e := range entries {
		if e.kind != "" {
			by[readOnce(e.input)] = true
		}
	}
	return by
}

// readOnce is the name an input of a list is read under, once: standard
// input's names are one input, read whole by the first line naming it.
func readOnce(input string) string {
	if location.StdinName(input) {
		return "-"
	}
	return input
}

// got is the sum an entry's line is checked against, "" for a group the
// input does not hold.
func (c *checked) got(e checkEntry) string {
	if e.kind == "" {
		return c.total.String()
	}
	if r, found := c.groups[e.kind+"="+e.group]; found {
		return r.String()
	}
	return ""
}

// checked is an input summed for --check, once however many lines name it.
type checked struct {
	total  persist.SumResult
	groups map[string]persist.SumResult // by kind=name
	err    error
}

// check verifies a saved list of sums, like sha256sum -c. Every line
// persist-sum writes checks, --by's per-collection lines included; each
// input is read once.
func check(ctx context.Context, st Stdio, o SumOptions) error {
	const name = "persist-sum"
	entries, err := readCheckFile(st, o.Check)
	if err != nil {
		return err
	}
	if err := guardListed(ctx, entries); err != nil {
		return err
	}
	byGroup := grouped(entries)
	done := map[string]*checked{}
	// Each line is flushed as it is written, so that it comes in turn with
	// what stderr says of it; the first error writing stdout stays, and
	// fails the check (a report lost to a full disk is no report).
	out := bufio.NewWriter(st.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format, args...)
		out.Flush()
	}
	var failed, troubled, ok, unread int
	var filtered []string // flags a failed line looks made with
	for _, e := range entries {
		c := done[readOnce(e.input)]
		if c == nil {
			c = checkInput(ctx, st, o, e.input, byGroup[readOnce(e.input)])
			done[readOnce(e.input)] = c
			if err := context.Cause(ctx); err != nil && c.err != nil {
				// Cut short, not unreadable: no verdict on it, or after it.
				out.Flush()
				return err
			}
			if c.err != nil {
				unread++
				cli.Report(st.Stderr, name, c.err)
			}
		}
		got := c.got(e)
		switch {
		case c.err != nil:
			troubled++
			say("%s: FAILED open or read\n", e.shown())
		case got == e.want:
			ok++
			say("%s: OK\n", e.shown())
		default:
			failed++
			say("%s: FAILED\n", e.shown())
			if got == "" {
				got = "no " + e.kind + " " + strconv.Quote(e.group) + " in it"
			}
			if !o.Quiet {
				fmt.Fprintf(st.Stderr, "%s: %s\n", name, hint.Printable(fmt.Sprintf("%s: expected %s, got %s", e.shown(), e.want, got)))
			}
			if e.kind == "" {
				filtered = append(filtered, filterOf(e.want, c.total))
			}
		}
	}
	if failed > 0 {
		// Said even when some inputs could not be read: a mismatch found
		// must not hide behind them.
		fmt.Fprintf(st.Stderr, "%s: WARNING: %s of %d computed sums did NOT match\n", name, strconv.Itoa(failed), ok+failed)
		if h := filterHint(o, filtered); h != "" {
			fmt.Fprintf(st.Stderr, "%s: hint: %s\n", name, hint.Printable(h))
		}
	}
	return checkVerdict(out, unread, len(done), troubled > 0, failed > 0)
}

// guardListed refuses a standard output opened onto a file the list
// names (1<>app.db): the report would be written into it, then read as
// checked.
func guardListed(ctx context.Context, entries []checkEntry) error {
	inputs := make([]string, len(entries))
	for i, e := range entries {
		inputs[i] = e.input
	}
	return guard(ctx, inputs)
}

// checkVerdict is how a --check ends: its report written whole (or an
// error), then trouble reading an input before a mismatch.
func checkVerdict(out *bufio.Writer, unread, inputs int, troubled, mismatched bool) error {
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write standard output: %w", err)
	}
	if troubled {
		return fmt.Errorf("%d of %d inputs could not be read", unread, inputs)
	}
	if mismatched {
		return cli.ErrDiffer
	}
	return nil
}

// filterOf names the filter flag a saved line looks made with, from its
// counts against the input's whole: no events where the input has some
// (--records), or no records where it has some (--events); "" when the
// counts tell nothing.
func filterOf(want string, got persist.SumResult) string {
	var sum string
	var records, events int64
	if _, err := fmt.Sscanf(want, "%s  records=%d events=%d", &sum, &records, &events); err != nil {
		return ""
	}
	switch {
	case events == 0 && got.Events > 0 && records == got.Records:
		return "--records"
	case records == 0 && got.Records > 0 && events == got.Events:
		return "--events"
	}
	return ""
}

// filterHint says, when the check read everything, that a sum made with a
// filter is checked with the same flags: the saved line does not say
// which (it is sha256sum's format).
func filterHint(o SumOptions, flags []string) string {
	if !o.Select.Filter().IsZero() {
		return ""
	}
	for _, f := range flags {
		if f != "" && !slices.ContainsFunc(flags, func(g string) bool { return g != "" && g != f }) {
			// The counts cannot tell a filter from an input that gained
			// the other kind of item since: both are said.
			gained := map[string]string{"--records": "events", "--events": "records"}[f]
			return fmt.Sprintf("the counts fit sums made with %s, and as well an input that had no %s then and has some now: "+
				"only if the sums were made with %s, check with the same flags (persist-sum -c %s %s); if not, those %s are what changed",
				f, gained, f, location.ShellQuote(o.Check), f, gained)
		}
	}
	return "if the sums were made with a filter (--records, --events, --live, --collection, --stream), check with the same flags"
}

// checkInput sums input as a saved line names it, per collection and
// stream too when byGroup.
func checkInput(ctx context.Context, st Stdio, o SumOptions, input string, byGroup bool) *checked {
	o.By = ""
	if byGroup {
		o.By = "collection"
	}
	// A saved location had its password masked: connect with the one
	// from PGPASSWORD or ~/.pgpass instead.
	loc := location.Unmask(input)
	if location.StdinName(loc) && location.StdinName(o.Check) {
		// Standard input was the list: there is no stream left to check.
		return &checked{groups: map[string]persist.SumResult{}, err: cli.Hint(
			fmt.Errorf("%s: the line names standard input, which was the list of sums itself", loc),
			"give the list as a file (persist-sum --check SUMS), so that standard input is the stream the line names")}
	}
	t, groups, err := sumInput(ctx, st, o, loc)
	side := readSide(loc, "")
	if err == nil {
		side = counted(side, t.Records, t.Events, t.Sum)
	}
	report(ctx).Update(func(r *cli.Result) { r.Sources = append(r.Sources, side) })
	c := &checked{total: t, groups: map[string]persist.SumResult{}, err: err}
	for _, g := range groups {
		c.groups[g.Kind+"="+g.Name] = g.SumResult
	}
	return c
}

// readCheckFile reads the sum lines of file (- for stdin).
func readCheckFile(st Stdio, file string) ([]checkEntry, error) {
	var f io.Reader = st.Stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		f = fh
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var entries []checkEntry
	lineNo := 0
	for sc.Scan() {
		lineNo++
		// A carriage return in a name is escaped: one at the end is a
		// CRLF line ending.
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		escaped := strings.HasPrefix(text, `\`)
		m := checkLine.FindStringSubmatch(strings.TrimPrefix(text, `\`))
		var input string
		good := m != nil
		if good {
			input = m[4]
			if escaped {
				input, good = unescapeName(input)
			}
		}
		if !good {
			return nil, cli.Hint(fmt.Errorf("%s: line %d: not a persist-sum line", file, lineNo),
				`lines look like: persist1:<64 hex>  records=N events=M  INPUT (a line starting with \ has \\, \n and \r escaped in INPUT)`)
		}
		entries = append(entries, checkEntry{want: m[1] + "  records=" + m[2] + " events=" + m[3], input: input})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: no sum lines found", file)
	}
	splitGroups(entries)
	return entries, nil
}

// splitGroups tells --by's lines (INPUT  collection=NAME, INPUT
// stream=NAME) from the inputs' own. Either name may hold the marker
// itself (a collection's always could; an input's only before groupLike):
// a line whose whole name is a file is an input's own; else it splits
// where what comes before is an input with a line of its own, as --by
// writes one after the input's groups; else it is an input's own where
// other lines are its groups; else it splits at its first marker.
func splitGroups(entries []checkEntry) {
	inputs, grouped := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		inputs[e.input] = true
		for _, c := range groupCuts(e.input) {
			grouped[e.input[:c]] = true
		}
	}
	for i, e := range entries {
		cuts := groupCuts(e.input)
		if len(cuts) == 0 {
			continue
		}
		if _, err := os.Stat(e.input); err == nil {
			continue
		}
		cut := -1
		for _, c := range cuts {
			if inputs[e.input[:c]] {
				cut = c
				break
			}
		}
		if cut < 0 && grouped[e.input] {
			continue
		}
		if cut < 0 {
			cut = cuts[0]
		}
		kind, group, _ := strings.Cut(e.input[cut+2:], "=")
		entries[i].input, entries[i].kind, entries[i].group = e.input[:cut], kind, group
	}
}

// groupLike refuses, before a line is written, an input whose name ends
// as a --by line's does (`x.jsonl  collection=users`): its line would be
// that of x.jsonl's collection users too, and --check, once the file is
// gone, would check that instead and could say OK.
func groupLike(inputs []string) error {
	for _, in := range inputs {
		if len(groupCuts(in)) > 0 {
			return cli.Hint(fmt.Errorf("%s: the name holds two spaces and collection= or stream=, as the lines of --by do: "+
				"its line would read back as another input's collection or stream", location.ShellQuote(in)),
				"rename the file, or sum it through standard input: persist-sum - < %s", location.ShellQuote(in))
		}
	}
	return nil
}

// groupCuts are where name could end an input's part of a --by line, in
// order.
func groupCuts(name string) []int {
	var cuts []int
	for _, marker := range []string{"  collection=", "  stream="} {
		for at := 0; ; {
			j := strings.Index(name[at:], marker)
			if j < 0 {
				break
			}
			cuts = append(cuts, at+j)
			at += j + 1
		}
	}
	sort.Ints(cuts)
	return cuts
}
