package tools

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
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

// Tally is the sum and counts of some items.
type Tally struct {
	Sum             record.Sum
	Records, Events int64
}

func (t *Tally) add(it *record.Item, digest [32]byte) {
	t.Sum.Add(record.Sum(digest))
	if it.IsRecord() {
		t.Records++
	} else {
		t.Events++
	}
}

// Line is the tally as persist-sum prints it, for input name.
func (t Tally) Line(name string) string {
	return fmt.Sprintf("%s  records=%d events=%d  %s", t.Sum, t.Records, t.Events, name)
}

// SumSource computes the tally of one input (and, when by is "collection",
// one tally per collection and per stream, keyed "collection=NAME" or
// "stream=NAME").
func SumSource(ctx context.Context, src *source.Source, by string, bar *cli.Progress) (Tally, map[string]*Tally, error) {
	var total Tally
	var groups map[string]*Tally
	if by != "" {
		groups = map[string]*Tally{}
	}
	var lastGroup string
	var g *Tally
	err := src.Each(ctx, func(it *record.Item, digest [32]byte) error {
		total.add(it, digest)
		bar.Add(1)
		if groups != nil {
			key := "stream=" + it.Stream
			if it.IsRecord() {
				key = "collection=" + it.Collection
			}
			if g == nil || key != lastGroup {
				if g = groups[key]; g == nil {
					g = &Tally{}
					groups[key] = g
				}
				lastGroup = key
			}
			g.add(it, digest)
		}
		return nil
	})
	return total, groups, err
}

// Sum prints one line per input.
func Sum(ctx context.Context, st Stdio, o SumOptions) error {
	const name = "persist-sum"
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
		if groups != nil {
			keys := make([]string, 0, len(groups))
			for k := range groups {
				keys = append(keys, k)
			}
			// Collections first, then streams, each bytewise: dump order.
			sort.Slice(keys, func(i, j int) bool {
				ci, cj := strings.HasPrefix(keys[i], "c"), strings.HasPrefix(keys[j], "c")
				if ci != cj {
					return ci
				}
				return keys[i] < keys[j]
			})
			for _, k := range keys {
				fmt.Fprintln(out, groups[k].Line(location.Redact(in)+"  "+k))
			}
		}
		fmt.Fprintln(out, t.Line(location.Redact(in)))
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

func sumInput(ctx context.Context, st Stdio, o SumOptions, in string) (Tally, map[string]*Tally, error) {
	src, err := source.Open(ctx, in, source.Options{Store: o.Store, Filter: o.Filter(), IgnoreTrailer: o.IgnoreTrailer, Stdin: st.Stdin})
	if err != nil {
		return Tally{}, nil, err
	}
	defer src.Close()
	total := int64(-1)
	if r, e, ok, err := src.Counts(ctx); err != nil {
		return Tally{}, nil, err
	} else if ok {
		total = r + e
	}
	bar := cli.NewProgress(st.Stderr, cli.ShowProgress(o.Common, st.Stderr), total, "summing "+src.Loc.String())
	t, g, err := SumSource(ctx, src, o.By, bar)
	bar.Finish()
	if err != nil {
		return t, nil, err
	}
	return t, g, nil
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
		switch {
		case err != nil:
			troubled++
			fmt.Fprintf(st.Stdout, "%s: FAILED open or read\n", m[4])
			cli.Report(st.Stderr, name, err)
		case t.Line("") == want+"  ":
			ok++
			fmt.Fprintf(st.Stdout, "%s: OK\n", m[4])
		default:
			failed++
			fmt.Fprintf(st.Stdout, "%s: FAILED\n", m[4])
			if !o.Quiet {
				fmt.Fprintf(st.Stderr, "%s: %s: expected %s, got %s\n", name, m[4], want, strings.TrimSpace(t.Line("")))
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
