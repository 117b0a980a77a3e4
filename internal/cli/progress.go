package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// ShowProgress decides whether progress is shown: on a terminal, or when
// forced with --progress; never with -q.
func ShowProgress(c Common, stderr io.Writer) bool {
	if c.Quiet {
		return false
	}
	return c.Progress || isTerminal(stderr)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Progress counts items on stderr, with a rate, and an ETA when the total
// is known. On a terminal it is a bar redrawn in place; elsewhere (forced
// with --progress into a log) one plain line every few seconds, since
// cursor codes in a file are noise.
type Progress struct {
	bar     *progressbar.ProgressBar
	pending int
	set     int64 // the count Total last passed on

	plain       io.Writer
	what        string
	done, total int64
	start, last time.Time
}

// plainEvery is how often a plain progress line is written.
const plainEvery = 2 * time.Second

// NewProgress returns a progress display, or a silent one when !show.
// total < 0 means unknown.
func NewProgress(stderr io.Writer, show bool, total int64, what string) *Progress {
	if !show {
		return &Progress{}
	}
	if !isTerminal(stderr) {
		now := time.Now()
		return &Progress{plain: stderr, what: what, total: total, start: now, last: now}
	}
	max := total
	if max <= 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
	return &Progress{bar: bar}
}

// Add counts n more items. The bar is touched once per thousand items:
// it takes a lock, and the tools count a few hundred thousand items a second.
func (p *Progress) Add(n int) {
	switch {
	case p.bar != nil:
		p.pending += n
		if p.pending >= 1024 {
			_ = p.bar.Add(p.pending)
			p.pending = 0
		}
	case p.plain != nil:
		p.done += int64(n)
		if p.done&1023 == 0 {
			p.maybeLine()
		}
	}
}

// Total sets the count and, when known (> 0), the total. Like Add, it
// touches the bar only every thousand items or so.
func (p *Progress) Total(done, total int64) {
	if done-p.set < 1024 && done > p.set && done != total {
		return
	}
	p.set = done
	switch {
	case p.bar != nil:
		if total > 0 && p.bar.GetMax64() != total {
			p.bar.ChangeMax64(total)
		}
		_ = p.bar.Set64(done)
	case p.plain != nil:
		p.done = done
		if total > 0 {
			p.total = total
		}
		p.maybeLine()
	}
}

func (p *Progress) maybeLine() {
	if time.Since(p.last) >= plainEvery {
		p.line()
	}
}

func (p *Progress) line() {
	p.last = time.Now()
	d := p.last.Sub(p.start)
	if p.total > 0 {
		eta := "-"
		if p.done > 0 && p.done < p.total {
			eta = (time.Duration(float64(d) / float64(p.done) * float64(p.total-p.done))).Round(time.Second).String()
		}
		fmt.Fprintf(p.plain, "%s: %d/%d items (%d%%), %s, eta %s\n", p.what, p.done, p.total, p.done*100/p.total, Rate(p.done, d), eta)
		return
	}
	fmt.Fprintf(p.plain, "%s: %d items, %s\n", p.what, p.done, Rate(p.done, d))
}

// Finish clears the bar, or writes the last plain line.
func (p *Progress) Finish() {
	switch {
	case p.bar != nil:
		_ = p.bar.Add(p.pending)
		p.pending = 0
		_ = p.bar.Finish()
	case p.plain != nil:
		p.line()
		p.plain = nil
	}
}

// Rate formats a count over a duration as "N/s".
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	r := float64(n) / d.Seconds()
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM/s", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk/s", r/1e3)
	}
	return fmt.Sprintf("%.0f/s", r)
}
