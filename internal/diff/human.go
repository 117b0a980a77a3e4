package diff

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/cuitty/persist/internal/record"
)

// maxPaths is how many differing JSON paths human output lists per item.
const maxPaths = 20

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

type humanSink struct {
	w            *bufio.Writer
	opt          Options
	headerDone   bool
	buf          []byte
	paths, extra int
}

func newHumanSink(w io.Writer, opt Options) *humanSink {
	if opt.NameA == "" {
		opt.NameA = "A"
	}
	if opt.NameB == "" {
		opt.NameB = "B"
	}
	return &humanSink{w: bufio.NewWriterSize(w, 64<<10), opt: opt}
}

func (h *humanSink) start(color string) {
	h.buf = h.buf[:0]
	if !h.headerDone {
		h.headerDone = true
		h.colored(red, "--- ", h.opt.NameA)
		h.colored(green, "+++ ", h.opt.NameB)
	}
	if h.opt.Color {
		h.buf = append(h.buf, color...)
	}
}

func (h *humanSink) colored(color, prefix, name string) {
	if h.opt.Color {
		h.buf = append(h.buf, color...)
	}
	h.buf = append(h.buf, prefix...)
	h.buf = appendSafe(h.buf, name, false)
	if h.opt.Color {
		h.buf = append(h.buf, reset...)
	}
	h.buf = append(h.buf, '\n')
}

func (h *humanSink) endLine() {
	if h.opt.Color {
		h.buf = append(h.buf, reset...)
	}
	h.buf = append(h.buf, '\n')
}

func (h *humanSink) flush() error {
	if _, err := h.w.Write(h.buf); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

func (h *humanSink) onlyA(a *record.Item) error {
	h.start(red)
	h.buf = append(h.buf, "- "...)
	h.buf = appendBrief(h.buf, a)
	h.endLine()
	return h.flush()
}

func (h *humanSink) onlyB(b *record.Item) error {
	h.start(green)
	h.buf = append(h.buf, "+ "...)
	h.buf = appendBrief(h.buf, b)
	h.endLine()
	return h.flush()
}

// appendBrief describes a whole item on one line: its address, version and
// a shortened value (records), or type and shortened data (events).
func appendBrief(dst []byte, it *record.Item) []byte {
	dst = appendAddress(dst, it)
	if it.IsRecord() {
		if it.Version != 0 {
			dst = append(dst, " version "...)
			dst = strconv.AppendInt(dst, it.Version, 10)
		}
		if it.Deleted {
			return append(dst, " deleted"...)
		}
		dst = append(dst, " value "...)
		return appendShort(dst, orNull(it.Value))
	}
	dst = append(dst, " type "...)
	dst = appendName(dst, it.Type)
	dst = append(dst, " data "...)
	return appendShort(dst, orNull(it.Data))
}

func (h *humanSink) changed(a, b *record.Item) error {
	h.start(yellow)
	h.buf = append(h.buf, "~ "...)
	h.buf = appendAddress(h.buf, a)
	if a.IsRecord() && (a.Version != 0 || b.Version != 0) {
		h.buf = append(h.buf, " version "...)
		h.buf = appendVersion(h.buf, a.Version)
		if a.Version != b.Version {
			h.buf = append(h.buf, " → "...)
			h.buf = appendVersion(h.buf, b.Version)
		}
	}
	h.endLine()
	if a.IsRecord() {
		if a.Deleted != b.Deleted {
			h.buf = fmt.Appendf(h.buf, "    deleted: %t → %t\n", a.Deleted, b.Deleted)
		}
		h.field("updated_at", a.UpdatedAt, b.UpdatedAt)
		h.values(recordValue(a), recordValue(b))
	} else {
		if a.Type != b.Type {
			h.buf = append(h.buf, "    type: "...)
			h.buf = appendShortString(h.buf, a.Type)
			h.buf = append(h.buf, " → "...)
			h.buf = appendShortString(h.buf, b.Type)
			h.buf = append(h.buf, '\n')
		}
		h.field("at", a.At, b.At)
		h.values(orNull(a.Data), orNull(b.Data))
	}
	return h.flush()
}

func appendVersion(dst []byte, v int64) []byte {
	if v == 0 {
		return append(dst, "(none)"...)
	}
	return strconv.AppendInt(dst, v, 10)
}

// field shows a time that differs; "" is a time not given.
func (h *humanSink) field(name, a, b string) {
	if a == b {
		return
	}
	h.buf = append(h.buf, "    "...)
	h.buf = append(h.buf, name...)
	h.buf = append(h.buf, ": "...)
	h.buf = appendTime(h.buf, a)
	h.buf = append(h.buf, " → "...)
	h.buf = appendTime(h.buf, b)
	h.buf = append(h.buf, '\n')
}

func appendTime(dst []byte, t string) []byte {
	if t == "" {
		return append(dst, "(absent)"...)
	}
	return appendSafe(dst, t, false)
}

func (h *humanSink) values(a, b []byte) {
	h.paths, h.extra = 0, 0
	walkValues(a, b, func(path string, va, vb []byte) {
		if h.paths == maxPaths {
			h.extra++
			return
		}
		h.paths++
		h.buf = append(h.buf, "    "...)
		h.buf = append(h.buf, path...)
		h.buf = append(h.buf, ": "...)
		h.buf = appendShort(h.buf, va)
		h.buf = append(h.buf, " → "...)
		h.buf = appendShort(h.buf, vb)
		h.buf = append(h.buf, '\n')
	})
	if h.extra > 0 {
		h.buf = fmt.Appendf(h.buf, "    … and %d more\n", h.extra)
	}
}

func (h *humanSink) finish(Stats, record.Sum, record.Sum) error {
	if err := h.w.Flush(); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

// recordValue is the value compared by path: absent for a tombstone, null
// for a live record without one.
func recordValue(it *record.Item) []byte {
	if it.Deleted {
		return nil
	}
	return orNull(it.Value)
}

var null = []byte("null")

func orNull(v []byte) []byte {
	if v == nil {
		return null
	}
	return v
}
