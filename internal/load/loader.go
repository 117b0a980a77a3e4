package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
	"github.com/cuitty/persist/internal/record"
)

// loader is one load in progress.
type loader struct {
	a       adapters.Adapter
	store   string
	opt     Options
	size    int // batch size
	retries backoff.Window
	// redos bounds the redos of a batch after a failed verification.
	redos int
	// unchecked: lines were rejected from a stream with a trailer, whose sum
	// therefore could not be checked.
	unchecked bool
	start     time.Time
	stats     Stats

	rejects      io.Writer // nil: stop at the first rejected line
	rejEnc       *json.Encoder
	patch        bool
	header       *record.Header
	allOrNothing bool // Apply: a stop leaves nothing written
	// fresh: the last batch found none of its keys in the store, so the
	// next is first tried as adapters.Fresh.
	fresh   atomic.Bool
	writers int // batches written at once
}

func newLoader(a adapters.Adapter, store string, opt Options) *loader {
	l := &loader{a: a, store: store, opt: opt, size: opt.BatchSize, start: time.Now(), rejects: opt.Rejects,
		writers: opt.Writers}
	l.fresh.Store(true)
	if l.writers <= 0 || l.writers > a.Writers() {
		l.writers = a.Writers()
	}
	if l.size <= 0 {
		l.size = DefaultBatchSize
	}
	l.retries = backoff.Window{Base: minBackoff, Limit: maxBackoff, For: opt.RetryFor, Max: opt.Retries}
	l.redos = opt.Retries
	if opt.RetryFor == 0 {
		l.retries.For = DefaultRetryFor
	}
	switch {
	case opt.Retries < 0:
		l.retries.For, l.retries.Max, l.redos = 0, 0, 0
	case opt.Retries == 0:
		l.retries.Max, l.redos = -1, DefaultRedos
	}
	if l.opt.Now == nil {
		l.opt.Now = time.Now
	}
	return l
}

// nowString is the time given to hand-made lines without one.
func (l *loader) nowString() string {
	return record.FormatTime(l.opt.Now().UTC().Truncate(time.Microsecond))
}

func (l *loader) load(ctx context.Context, in Input) error {
	// Whether this is a patch must be known before anything is rejected
	// or written.
	if hi, ok := in.(headerInput); ok {
		l.header = hi.Head()
	}
	l.patch = l.opt.Patch || (l.header != nil && l.header.Patch)
	if l.patch {
		if l.opt.Mode == Replace {
			return errors.New("a patch stream cannot be loaded in replace mode")
		}
		// A patch must make the store equal to its source exactly: one
		// line left out would leave it neither the old state nor the new.
		l.rejects = nil
	}

	if l.patch || l.opt.Mode == Replace || l.opt.Atomic {
		b := &batch{}
		eof, stop, inErr := l.readBatch(in, b)
		l.counted(b)
		return l.loadSingle(ctx, in, b, eof, stop, inErr)
	}
	// The next batch is read and parsed while the ones before are in the
	// database: the two take about the same time into PostgreSQL.
	ahead := l.readAhead(ctx, in, l.writers+1)
	defer ahead.stop()
	p := &pipeline{l: l, ctx: ctx, recycle: ahead.recycle}
	last := func(b *batch, end error) error {
		if b != nil {
			if err := p.start(b); err != nil {
				p.drain()
				return err
			}
		}
		if err := p.drain(); err != nil {
			return err
		}
		return end
	}
	for {
		r, ok := ahead.next(ctx)
		if !ok {
			return last(nil, ctx.Err())
		}
		b, stop, inErr := r.b, r.stop, r.inErr
		if errors.Is(inErr, record.ErrSkipped) {
			// The stream is whole but for the lines already rejected:
			// this last batch is as good as the ones committed before it.
			// Its sum could not be checked, and the user must hear so.
			l.unchecked = true
			return last(b, stop)
		}
		if inErr != nil {
			// The lines of this batch were read but the stream is not what
			// it claims: keep only what was committed before, and say why
			// its bad lines were not loaded.
			if err := last(nil, nil); err != nil {
				return err
			}
			l.counted(b)
			if err := l.writeRejects(b); err != nil {
				return err
			}
			return inErr
		}
		if stop != nil || r.eof {
			return last(b, stop)
		}
		if err := p.start(b); err != nil {
			p.drain()
			return err
		}
		if err := ctx.Err(); err != nil {
			return last(nil, err)
		}
	}
}

// readResult is one batch read ahead, with how its reading ended.
type readResult struct {
	b           *batch
	eof         bool
	stop, inErr error
}

// readAheader reads batches ahead of the writer, one at a time.
type readAheader struct {
	ch   chan readResult
	free chan *batch
	quit chan struct{}
	gone chan struct{} // closed when the reading goroutine has returned
}

// readAhead reads into n batches in turn, each handed back by recycle.
func (l *loader) readAhead(ctx context.Context, in Input, n int) *readAheader {
	r := &readAheader{
		ch:   make(chan readResult, 1),
		free: make(chan *batch, n),
		quit: make(chan struct{}),
		gone: make(chan struct{}),
	}
	for range n {
		r.free <- &batch{}
	}
	if l.opt.Reading != nil {
		l.opt.Reading(r.gone)
	}
	go func() {
		defer close(r.gone)
		defer close(r.ch)
		for {
			var b *batch
			select {
			case b = <-r.free:
			case <-r.quit:
				return
			case <-ctx.Done():
				return
			}
			b.reset()
			eof, stop, inErr := l.readBatch(in, b)
			select {
			case r.ch <- readResult{b: b, eof: eof, stop: stop, inErr: inErr}:
			case <-r.quit:
				return
			}
			if eof || stop != nil || inErr != nil {
				return
			}
		}
	}()
	return r
}

// recycle hands a written batch back for reading into.
func (r *readAheader) recycle(b *batch) { r.free <- b }

// next is the next batch read, false at the end of the reading or of ctx.
// The reader may be blocked on an input that says nothing more (a stalled
// pipe): when ctx ends, the batches under way end and what was committed
// is told, without waiting for it.
func (r *readAheader) next(ctx context.Context) (readResult, bool) {
	select {
	case res, ok := <-r.ch:
		return res, ok
	case <-ctx.Done():
		return readResult{}, false
	}
}

// stop ends the reading. It does not wait: the reader may be blocked on an
// input that has nothing more to say (a stalled pipe); it ends at its next
// batch, or when its input is closed, and sends nothing more.
func (r *readAheader) stop() {
	close(r.quit)
}

// counted adds what reading b found to the load's counts, when b is
// reported. It runs in the loader's goroutine: the reader only counts into
// the batch.
func (l *loader) counted(b *batch) {
	l.stats.Lines += b.lines
	l.stats.Rejects += b.stopped
}

// readBatch reads up to a batch of lines into b. Bad lines go to the
// rejects; without a rejects writer, stop says why the load stops there (the
// lines before it in b are good). inErr is a failure of the input itself.
func (l *loader) readBatch(in Input, b *batch) (eof bool, stop, inErr error) {
	b.reserve(min(l.size, 8192)) // more is taken in steps, as the lines come
	for len(b.ents) < l.size {
		it, err := in.Next()
		if err == io.EOF {
			return true, nil, nil
		}
		var le *record.LineError
		if errors.As(err, &le) {
			b.lines++
			if err := frameError(le, in.Raw()); err != nil {
				b.stopped++
				return false, err, nil
			}
			if err := l.reject(b, le.Line, in.Raw(), le.Err); err != nil {
				return false, err, nil
			}
			continue
		}
		if err != nil {
			if saysWhere(err) {
				return false, nil, err
			}
			return false, nil, fmt.Errorf("reading the input after line %d: %w", in.Line(), err)
		}
		b.lines++
		raw := in.Raw()
		c, ok := in.(canonicalInput)
		canonical := ok && c.RawIsCanonical()
		d, ok := in.(detachedInput)
		detached := ok && d.Detached()
		if err := l.admit(b, in.Line(), raw, canonical, detached, it); err != nil {
			return false, err, nil
		}
	}
	return false, nil, nil
}

// admit adds a parsed line to b unless the target cannot take it; b keeps
// a copy of it, but for a detached value (see detachedInput), kept as it
// is. A canonical raw line is not kept: the item spells it again if need
// be.
func (l *loader) admit(b *batch, line int64, raw []byte, canonical, detached bool, it *record.Item) error {
	switch it.Kind {
	case record.KindRecord, record.KindEvent:
		if err := l.a.Check(l.store, it); err != nil {
			if errors.Is(err, adapters.ErrStoreName) {
				return err // every line would go: the load stops, at its first
			}
			return l.reject(b, line, raw, err)
		}
	case record.KindRemove:
		if !l.patch {
			return l.reject(b, line, raw, fmt.Errorf("%w: a remove line outside a patch stream", record.ErrPlacement))
		}
	default:
		return l.reject(b, line, raw, fmt.Errorf("%w: a %s line among the items", record.ErrPlacement, it.Kind))
	}
	if canonical {
		raw = nil
	}
	b.add(line, raw, detached, it)
	return nil
}

// account adds the outcomes of b's lines to s.
func account(s *Stats, b *batch) {
	for _, e := range b.ents {
		switch e.out {
		case outWritten:
			s.Written++
		case outUnchanged:
			s.Unchanged++
		case outStale:
			s.Stale++
			if s.FirstStale == 0 || e.line < s.FirstStale {
				s.FirstStale = e.line
			}
		case outConflict:
			s.Conflicts++
		case outEventWritten:
			s.Events++
			if appends(e.it) {
				s.appended(e.line)
			}
		case outEventUnchanged:
			s.EventsUnchanged++
		case outRemoved:
			s.Removed++
		}
	}
}

// appended counts an event appended by the given line.
func (s *Stats) appended(line int64) {
	if s.Appended == 0 || line < s.AppendedFirst {
		s.AppendedFirst = line
	}
	s.AppendedLast = max(s.AppendedLast, line)
	s.Appended++
}

func (l *loader) progress(s Stats) {
	if l.opt.OnProgress != nil {
		s.Elapsed = time.Since(l.start)
		l.opt.OnProgress(s)
	}
}

// saysWhere reports whether a final error of the input names its line
// already (the trailer's, the line out of place, where the reading
// stopped): "after line N" would say it twice.
func saysWhere(err error) bool {
	for _, e := range []error{record.ErrRead, record.ErrTruncated, record.ErrPlacement, record.ErrTrailer, record.ErrHeader, record.ErrSkipped} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
