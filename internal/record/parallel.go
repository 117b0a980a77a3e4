package record

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
)

// A pipeline reads a stream's lines on a goroutine of its own into chunks
// of whole lines, which workers parse, check and hash; the Reader takes the
// chunks in the order they were read and does, line by line, everything
// that depends on order (placement, counts, the sum, the end checks), so
// that the first error it reports is the first in the stream.
//
// What is in flight is bounded: the chunks go round between the reader of
// lines, the workers and the Reader, and a line from BigValue up is not
// copied into a chunk but lent to the Reader, the reading waiting until it
// is handed back, so that a huge line costs no more copies than without.
type pipeline struct {
	work  chan *lineChunk // to the workers
	order chan *lineChunk // to the Reader, in stream order
	free  chan *lineChunk
	quit  chan struct{}
	once  sync.Once

	cur  *lineChunk
	pos  int  // entries of cur taken
	open bool // the line last given ended the input without its newline
}

// Sizes of a chunk: it is handed on when it holds chunkBytes of lines or
// chunkLines lines, whichever comes first.
const (
	chunkBytes = 128 << 10
	chunkLines = 512
)

// lineChunk is a run of lines read back to back, with what workers made of
// them; or a line lent (back is then not nil).
type lineChunk struct {
	buf   []byte
	ents  []lineEnt
	lines []Line // parsed, one per entry
	canon []byte // the canonical lines of items, back to back
	ready chan struct{}
	back  chan struct{}
	// end is how the input ended after the entries (io.EOF or a read
	// error), at line endLine; nil while more follows.
	end     error
	endLine int64
}

// lineEnt is one line of a chunk.
type lineEnt struct {
	line       int64
	start, end int   // the line in buf
	err        error // a *TooLongError in place of a line
	open       bool  // the input's last line, without its newline
	parsed     bool  // parseErr and the chunk's Line are the line's
	parseErr   error
	hashed     bool // digest is the item's; canon[cStart:cEnd] its line if built
	built      bool
	cStart     int
	cEnd       int
	digest     [32]byte
}

func newPipeline(br *bufio.Reader, workers int, src io.Closer) *pipeline {
	n := 2*workers + 2
	p := &pipeline{
		work:  make(chan *lineChunk, n),
		order: make(chan *lineChunk, n),
		free:  make(chan *lineChunk, n),
		quit:  make(chan struct{}),
	}
	for range n {
		p.free <- &lineChunk{ready: make(chan struct{}, 1)}
	}
	for range workers {
		go func() {
			for c := range p.work {
				c.process()
				c.ready <- struct{}{}
			}
		}()
	}
	go func() {
		defer src.Close()
		defer close(p.work)
		p.read(&lineReader{br: br})
	}()
	return p
}

// stop ends the reading of lines; a read under way ends on its own.
func (p *pipeline) stop() { p.once.Do(func() { close(p.quit) }) }

// read reads lines into chunks until the input ends or stop is called.
func (p *pipeline) read(lr *lineReader) {
	lent := &lineChunk{ready: make(chan struct{}, 1), back: make(chan struct{}, 1),
		ents: make([]lineEnt, 1)}
	var c *lineChunk
	for {
		if c == nil {
			select {
			case c = <-p.free:
				c.reset()
			case <-p.quit:
				return
			}
		}
		b, err := lr.readLine()
		var tl *TooLongError
		switch {
		case errors.As(err, &tl) && !tl.Endless:
			cp := *tl
			cp.Prefix = bytes.Clone(tl.Prefix)
			c.ents = append(c.ents, lineEnt{line: lr.line, err: &cp})
		case err != nil:
			c.end, c.endLine = err, lr.line
			p.send(c, true)
			return
		case len(b) >= BigValue:
			if len(c.ents) > 0 {
				if !p.send(c, true) {
					return
				}
				c = nil
			}
			lent.buf, lent.ents[0] = b, lineEnt{line: lr.line, end: len(b), open: lr.open}
			lent.ready <- struct{}{}
			if !p.send(lent, false) {
				return
			}
			select {
			case <-lent.back:
				lent.buf = nil
			case <-p.quit:
				return
			}
			continue
		default:
			start := len(c.buf)
			c.buf = append(c.buf, b...)
			c.ents = append(c.ents, lineEnt{line: lr.line, start: start, end: len(c.buf), open: lr.open})
		}
		if len(c.buf) >= chunkBytes || len(c.ents) >= chunkLines {
			if !p.send(c, true) {
				return
			}
			c = nil
		}
	}
}

// send hands c to the Reader, and first to the workers when toWork; false
// when stop was called.
func (p *pipeline) send(c *lineChunk, toWork bool) bool {
	if toWork {
		select {
		case p.work <- c:
		case <-p.quit:
			return false
		}
	}
	select {
	case p.order <- c:
		return true
	case <-p.quit:
		return false
	}
}

// slotKeep is the most room a chunk's line slot keeps for its value
// between lines.
const slotKeep = 4 << 10

func (c *lineChunk) reset() {
	c.buf, c.ents, c.canon, c.end, c.endLine = c.buf[:0], c.ents[:0], c.canon[:0], nil, 0
}

// process parses, checks and hashes the chunk's lines, each as the Reader
// would, for it to take in order.
func (c *lineChunk) process() {
	if n := len(c.ents); len(c.lines) < n {
		c.lines = append(c.lines, make([]Line, n-len(c.lines))...)
	}
	var prev *Line
	for i := range c.ents {
		e := &c.ents[i]
		b := c.buf[e.start:e.end]
		if e.err != nil || blank(b) {
			continue
		}
		l := &c.lines[i]
		if cap(l.buf) > slotKeep {
			// A slot keeps no more room than a usual value's: otherwise
			// each of the many slots would keep the largest value it ever
			// held, and memory grow with slots times the largest value.
			l.buf = nil
		}
		if prev != nil {
			// The names repeat from line to line: reuse the last strings.
			l.lastCollection, l.lastStream, l.lastType = prev.lastCollection, prev.lastStream, prev.lastType
		}
		prev = l
		e.parseErr, e.parsed = ParseLine(b, l), true
		if e.parseErr != nil {
			continue
		}
		switch l.Kind {
		case KindRecord, KindEvent, KindRemove:
			e.cStart = len(c.canon)
			head, v := appendHead(c.canon, &l.Item)
			if len(v) < BigValue {
				c.canon = append(append(head, v...), '}')
				e.digest, e.built = sha256.Sum256(c.canon[e.cStart:]), true
			} else {
				e.digest = digestParts(head[e.cStart:], v)
				c.canon = head[:e.cStart]
			}
			e.cEnd, e.hashed = len(c.canon), true
		}
	}
}

// next returns the next line and sets *line to its number, as
// lineReader.readLine does.
func (p *pipeline) next(line *int64) ([]byte, error) {
	for {
		if c := p.cur; c != nil {
			if p.pos < len(c.ents) {
				e := &c.ents[p.pos]
				p.pos++
				*line = e.line
				p.open = e.open
				if e.err != nil {
					return nil, e.err
				}
				return c.buf[e.start:e.end], nil
			}
			if c.end != nil {
				*line = c.endLine
				return nil, c.end
			}
			p.release()
		}
		c := <-p.order
		<-c.ready
		p.cur, p.pos = c, 0
	}
}

// release hands the current chunk back: to be filled again, or to the
// reading of lines that lent it.
func (p *pipeline) release() {
	c := p.cur
	p.cur = nil
	if c.back != nil {
		c.back <- struct{}{}
		return
	}
	p.free <- c
}

// entry is the line last returned by next.
func (p *pipeline) entry() *lineEnt {
	if p.cur == nil || p.pos == 0 {
		return nil
	}
	return &p.cur.ents[p.pos-1]
}

// parsed is the line last returned as a worker parsed it (ok false: no
// worker did, the line was lent).
func (p *pipeline) parsed() (l *Line, err error, ok bool) {
	e := p.entry()
	if e == nil || !e.parsed {
		return nil, nil, false
	}
	return &p.cur.lines[p.pos-1], e.parseErr, true
}

// hashed gives the canonical line and digest a worker made of the item
// last returned; false when no worker did.
func (p *pipeline) hashed(line *[]byte, digest *[32]byte, built *bool) bool {
	e := p.entry()
	if e == nil || !e.hashed {
		return false
	}
	*line, *digest, *built = p.cur.canon[e.cStart:e.cEnd:e.cEnd], e.digest, e.built
	return true
}
