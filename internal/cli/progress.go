package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// ShowProgress decides whether a tool draws progress, so that the tools of
// one pipeline on a terminal draw one bar between them, never two fighting
// over a line: with -q never; with --progress always; else only when stderr
// is a terminal and stdout is not a pipe. A tool writing into a pipe is not
// the last of its pipeline: the one after it draws (a loader reading a pipe
// knows the total from the stream's header).
func ShowProgress(c Common, stdout, stderr io.Writer) bool {
	switch {
	case c.Quiet:
		return false
	case c.Progress:
		return true
	}
	return isTerminal(stderr) && !IsPipe(stdout)
}

// ShowSummary decides whether a tool prints its summary on stderr when all
// went well: when stderr is a terminal, or with -v; never with -q. Off a
// terminal a successful command is silent, as sha256sum, pg_dump and zstd
// are, so that cron mails nothing.
func ShowSummary(c Common, stderr io.Writer) bool {
	return !c.Quiet && (c.Verbose || isTerminal(stderr))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && IsTerminal(f)
}

// IsTerminal reports whether f is a terminal, without f.Fd, which would
// make a descriptor in the runtime's poller (Stdin's) blocking again.
func IsTerminal(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	is := false
	rc.Control(func(fd uintptr) { is = term.IsTerminal(int(fd)) })
	return is
}

// IsPipe reports whether w is a pipe or a socket (the next command of a
// pipeline, or ssh), rather than a file, a device or a terminal.
func IsPipe(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0
}

// Progress shows how far a command got, on stderr. On a terminal it is one
// line redrawn in place, as pv and zstd draw it: the count, the rate, and
// when a total is known (in items, or in bytes of an input file) a bar, the
// percentage and the time left; the line is cleared at the end. Elsewhere
// (forced with --progress into a log) it is one plain line every few
// seconds, since cursor codes in a file are noise.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	what  string
	done  int64
	total int64 // items; < 0 when unknown
	// bytes, when set, tells how far through an input of a known size the
	// command is: the fraction done when the items' total is unknown.
	bytes     func() (done, total int64)
	start     time.Time
	last      time.Time
	drawn     bool
	off       bool
	pending   int
	lineEvery time.Duration
}

// How often a terminal line is redrawn, and a plain line written.
const (
	drawEvery  = 150 * time.Millisecond
	plainEvery = 2 * time.Second
)

// NewProgress returns a progress display, or a silent one when !show.
// total < 0 means unknown.
func NewProgress(stderr io.Writer, show bool, total int64, what string) *Progress {
	if !show {
		return &Progress{off: true}
	}
	now := time.Now()
	p := &Progress{w: stderr, tty: isTerminal(stderr), what: what, total: total, start: now, last: now}
	p.lineEvery = plainEvery
	if p.tty {
		p.lineEvery = drawEvery
		p.last = time.Time{}
	}
	return p
}

// Bytes gives the display a fallback for an unknown total: how many bytes
// of an input of a known size have been read.
func (p *Progress) Bytes(f func() (done, total int64)) {
	if p.off {
		return
	}
	p.mu.Lock()
	p.bytes = f
	p.mu.Unlock()
}

// Add counts n more items. The display is looked at once per thousand
// items: the tools count a few hundred thousand items a second.
func (p *Progress) Add(n int) {
	if p.off {
		return
	}
	p.pending += n
	if p.pending < 1024 {
		return
	}
	p.mu.Lock()
	p.done += int64(p.pending)
	p.pending = 0
	p.maybeDraw()
	p.mu.Unlock()
}

// Total sets the count and, when known (≥ 0), the total.
func (p *Progress) Total(done, total int64) {
	if p.off {
		return
	}
	p.mu.Lock()
	p.done = done
	if total >= 0 {
		p.total = total
	}
	p.maybeDraw()
	p.mu.Unlock()
}

func (p *Progress) maybeDraw() {
	if now := time.Now(); now.Sub(p.last) >= p.lineEvery {
		p.last = now
		p.draw(now)
	}
}

// fraction is how much is done, from the items' total or else the bytes'.
func (p *Progress) fraction() (float64, bool) {
	if p.total > 0 {
		return min(float64(p.done)/float64(p.total), 1), true
	}
	if p.bytes != nil {
		if done, total := p.bytes(); total > 0 {
			return min(float64(done)/float64(total), 1), true
		}
	}
	return 0, false
}

func (p *Progress) draw(now time.Time) {
	elapsed := now.Sub(p.start)
	count := fmt.Sprintf("%s items", Count(p.done))
	if p.total > 0 {
		count = fmt.Sprintf("%s/%s items", Count(p.done), Count(p.total))
	}
	line := fmt.Sprintf("%s: %s, %s", p.what, count, Rate(p.done, elapsed))
	frac, known := p.fraction()
	if !p.tty {
		if known {
			line += fmt.Sprintf(", %d%%, eta %s", int(frac*100), eta(frac, elapsed))
		}
		fmt.Fprintln(p.w, line)
		return
	}
	width := terminalWidth(p.w)
	if known {
		tail := fmt.Sprintf(" %3d%% ETA %s", int(frac*100), eta(frac, elapsed))
		if room := width - 1 - len(line) - len(tail) - 4; room >= 10 {
			line += " " + bar(frac, min(room, 40))
		}
		line += tail
	}
	if len(line) > width-1 {
		line = line[:width-1]
	}
	fmt.Fprint(p.w, "\r"+line+"\x1b[K")
	p.drawn = true
}

// bar draws frac of width cells, pv style: [=====>    ].
func bar(frac float64, width int) string {
	n := int(frac * float64(width))
	if n >= width {
		return "[" + strings.Repeat("=", width) + "]"
	}
	return "[" + strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n-1) + "]"
}

// eta is the time left at the rate so far, as h:mm:ss or m:ss.
func eta(frac float64, elapsed time.Duration) string {
	if frac <= 0 {
		return "-:--"
	}
	left := time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second)
	h, m, s := int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 20 {
			return width
		}
	}
	return 80
}

// Finish clears the terminal line, or writes the last plain line.
func (p *Progress) Finish() {
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(p.pending)
	p.pending = 0
	switch {
	case p.tty && p.drawn:
		fmt.Fprint(p.w, "\r\x1b[K")
	case !p.tty:
		p.draw(time.Now())
	}
	p.off = true
}

// Count formats a count briefly: 999, 12.3k, 4.56M.
func Count(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
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
