package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// ShowProgress decides whether a progress bar is drawn: on a terminal, or
// when forced with --progress; never with -q.
func ShowProgress(c Common, stderr io.Writer) bool {
	if c.Quiet {
		return false
	}
	if c.Progress {
		return true
	}
	f, ok := stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Progress counts items on stderr, with a rate, and an ETA when the total
// is known (total < 0: unknown).
type Progress struct {
	bar     *progressbar.ProgressBar
	pending int
}

// NewProgress returns a progress display, or a silent one when !show.
func NewProgress(stderr io.Writer, show bool, total int64, what string) *Progress {
	if !show {
		return &Progress{}
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
	if p.bar == nil {
		return
	}
	p.pending += n
	if p.pending >= 1024 {
		_ = p.bar.Add(p.pending)
		p.pending = 0
	}
}

// Set sets the count.
func (p *Progress) Set(n int64) {
	if p.bar != nil {
		_ = p.bar.Set64(n)
	}
}

// Total sets the count and, when known (> 0), the total.
func (p *Progress) Total(done, total int64) {
	if p.bar == nil {
		return
	}
	if total > 0 && p.bar.GetMax64() != total {
		p.bar.ChangeMax64(total)
	}
	_ = p.bar.Set64(done)
}

// Finish clears the bar.
func (p *Progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Add(p.pending)
		p.pending = 0
		_ = p.bar.Finish()
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
