package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
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

// sumLine is a sum as persist-sum prints it, for input name.
func sumLine(r persist.SumResult, name string) string {
	return r.String() + "  " + name
}

// Sum prints one line per input.
func Sum(ctx context.Context, st Stdio, o SumOptions) error {
	return streamHint(sum(ctx, st, o))
}

func sum(ctx context.Context, st Stdio, o SumOptions) error {
	const name = "persist-sum"
	if err := report(ctx).ToStdout("the sum lines"); err != nil {
		return err
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
	if len(o.Inputs) == 0 {
		o.Inputs = []string{"-"}
	}
	if err := oneStdin(o.Inputs); err != nil {
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
		for _, g := range groups {
			fmt.Fprintln(out, sumLine(g.SumResult, location.Redact(in)+"  "+g.Kind+"="+g.Name))
		}
		fmt.Fprintln(out, sumLine(t, location.Redact(in)))
	}
	if err := out.Flush(); err != nil {
		return err
	}
	d := time.Since(start)
	summary(st, o.Common, name, fmt.Sprintf("summed %d items in %d inputs", n, len(o.Inputs)), d.Round(time.Millisecond).String(), cli.Rate(n, d))
	return nil
}

func oneStdin(inputs []string) error {
	n := 0
	for _, in := range inputs {
		if in == "-" {
			n++
		}
	}
	if n > 1 {
		return errors.New("standard input (-) can be named only once")
	}
	return nil
}

func sumInput(ctx context.Context, st Stdio, o SumOptions, in string) (persist.SumResult, []persist.SumGroup, error) {
	src, err := persist.OpenSource(ctx, in, persist.ReadOptions{Store: o.Store, Filter: o.Filter(), IgnoreTrailer: o.IgnoreTrailer, Stdin: st.Stdin})
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

// check verifies a saved list of sums, like sha256sum -c.
func check(ctx context.Context, st Stdio, o SumOptions) error {
	const name = "persist-sum"
	var f io.Reader = st.Stdin
	if o.Check != "-" {
		file, err := os.Open(o.Check)
		if err != nil {
			return err
		}
		defer file.Close()
		f = file
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var failed, troubled, ok, lineNo int
	for sc.Scan() {
		lineNo++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		m := checkLine.FindStringSubmatch(text)
		if m == nil || strings.Contains(m[4], "  collection=") || strings.Contains(m[4], "  stream=") {
			return cli.Hint(fmt.Errorf("%s: line %d: not a persist-sum line", o.Check, lineNo), "lines look like: persist1:<64 hex>  records=N events=M  INPUT (without --by)")
		}
		want := m[1] + "  records=" + m[2] + " events=" + m[3]
		// A saved location had its password masked: connect with the one
		// from PGPASSWORD or ~/.pgpass instead.
		t, _, err := sumInput(ctx, st, o, location.Unmask(m[4]))
		side := readSide(location.Unmask(m[4]), "")
		if err == nil {
			side = counted(side, t.Records, t.Events, t.Sum)
		}
		report(ctx).Update(func(r *cli.Result) { r.Sources = append(r.Sources, side) })
		switch {
		case err != nil:
			troubled++
			fmt.Fprintf(st.Stdout, "%s: FAILED open or read\n", m[4])
			cli.Report(st.Stderr, name, err)
		case t.String() == want:
			ok++
			fmt.Fprintf(st.Stdout, "%s: OK\n", m[4])
		default:
			failed++
			fmt.Fprintf(st.Stdout, "%s: FAILED\n", m[4])
			if !o.Quiet {
				fmt.Fprintf(st.Stderr, "%s: %s: expected %s, got %s\n", name, m[4], want, t)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", o.Check, err)
	}
	if ok+failed+troubled == 0 {
		return fmt.Errorf("%s: no sum lines found", o.Check)
	}
	if troubled > 0 {
		return fmt.Errorf("%d of %d inputs could not be read", troubled, ok+failed+troubled)
	}
	if failed > 0 {
		fmt.Fprintf(st.Stderr, "%s: WARNING: %s of %d computed sums did NOT match\n", name, strconv.Itoa(failed), ok+failed)
		return cli.ErrDiffer
	}
	return nil
}
