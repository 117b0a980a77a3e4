package source

import (
	"context"
	"errors"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Iter pulls items one at a time; Next returns io.EOF at the end.
type Iter struct {
	next  func() (*record.Item, error)
	close func()

	// The last item's settle, for an iterator of SharedIterator, and the
	// scratch it respells into.
	settle    adapters.Settle
	cur       *record.Item
	settleBuf []byte
	wrap      func(error) error
}

// Next returns the next item; it stays valid until the next call.
func (i *Iter) Next() (*record.Item, error) { return i.next() }

// Close stops the iteration early.
func (i *Iter) Close() { i.close() }

// Unchecked reports whether the value of the item Next last returned is
// as the store holds it, not yet checked (see SharedIterator).
func (i *Iter) Unchecked() bool { return i.settle != nil }

// Settle finishes the check of the last item's value, making it what
// Iterator would have yielded, or returns the error the scan would have
// stopped with. It does nothing to a value already checked.
func (i *Iter) Settle() error {
	if i.settle == nil {
		return nil
	}
	settle := i.settle
	i.settle = nil
	if err := settle(i.cur, &i.settleBuf); err != nil {
		return i.wrap(err)
	}
	return nil
}

// Iterator returns the source's items as a pull iterator. A store is read
// by its own goroutine, a chunk ahead, so that two sources merged side by
// side (persist-diff) are read concurrently.
func (s *Source) Iterator(ctx context.Context) *Iter {
	if s.snap == nil {
		return s.streamIter()
	}
	return s.storeIter(ctx, func(ctx context.Context, fn func(*record.Item, adapters.Settle) error) error {
		return s.snap.Scan(ctx, s.opt.Filter, func(it *record.Item) error { return fn(it, nil) })
	})
}

// SharedIterator is Iterator for one of two sources merged side by side,
// which take shares 0 and 1 of the checking of values (see
// adapters.Snapshot.ScanShared): an item's value may be unchecked, which
// Unchecked tells, until Settle. A stream checks every value. Nothing else
// may be asked of the source until the iterator ends or is closed.
func (s *Source) SharedIterator(ctx context.Context, share int) *Iter {
	if s.snap == nil {
		return s.streamIter()
	}
	return s.storeIter(ctx, func(ctx context.Context, fn func(*record.Item, adapters.Settle) error) error {
		return s.snap.ScanShared(ctx, s.opt.Filter, share, fn)
	})
}

func (s *Source) streamIter() *Iter {
	if err := s.begin(); err != nil {
		return &Iter{next: func() (*record.Item, error) { return nil, err }, close: func() {}}
	}
	return &Iter{
		next: func() (*record.Item, error) {
			for {
				it, err := s.reader.Next()
				if err != nil {
					if errors.Is(err, io.EOF) {
						if err := s.unmatched(); err != nil {
							return nil, err
						}
						return nil, io.EOF
					}
					return nil, s.wrap(err)
				}
				if s.keep(it) {
					return it, nil
				}
			}
		},
		close: func() {},
	}
}

// storeIter runs scan in a goroutine of its own, a chunk ahead.
func (s *Source) storeIter(ctx context.Context, scan func(context.Context, func(*record.Item, adapters.Settle) error) error) *Iter {
	ctx, cancel := context.WithCancel(ctx)
	// Chunks go back and forth between the two goroutines: the reader fills
	// one while the caller works through another, and the bytes of a chunk
	// are reused instead of allocating a copy of every item.
	f := &filler{ctx: ctx, chunks: make(chan *itemChunk, 2), free: make(chan *itemChunk, 3),
		lent: &itemChunk{back: make(chan struct{}, 1)}}
	_, f.own = s.snap.(adapters.OwnBytes)
	for range 3 {
		f.free <- &itemChunk{}
	}
	// scanErr is how the scan ended; it is set before chunks is closed, so
	// that a scan cut short (an error, a cancelled context) never reads as
	// a clean end of the store.
	var scanErr error
	go func() {
		defer close(f.chunks)
		err := scan(ctx, f.add)
		if err == nil {
			err = f.flush()
		}
		if err != nil {
			scanErr = s.wrap(err)
		}
	}()
	var cur *itemChunk
	pos := 0
	iter := &Iter{wrap: s.wrap}
	iter.next = func() (*record.Item, error) {
		iter.cur, iter.settle = nil, nil
		for cur == nil || pos == len(cur.items) {
			if cur != nil {
				// Done with it: the caller's item is valid only until
				// this call, so the chunk can be filled again.
				cur.done(f.free)
				cur = nil
			}
			c, ok := <-f.chunks
			if !ok {
				if scanErr != nil {
					return nil, scanErr
				}
				return nil, io.EOF
			}
			cur, pos = c, 0
		}
		pos++
		iter.cur, iter.settle = &cur.items[pos-1], cur.settles[pos-1]
		return iter.cur, nil
	}
	iter.close = func() {
		cancel()
		for range f.chunks {
		}
	}
	return iter
}

// filler is the scan's side of storeIter: it puts the items into chunks
// and sends them on.
type filler struct {
	ctx    context.Context
	chunks chan *itemChunk
	free   chan *itemChunk
	own    bool       // the snapshot is adapters.OwnBytes
	c      *itemChunk // being filled
	lent   *itemChunk // the one chunk of a big value
}

// add is the scan's fn.
func (f *filler) add(it *record.Item, settle adapters.Settle) error {
	if len(it.Value)+len(it.Data) >= record.BigValue {
		return f.lend(it, settle)
	}
	if f.c == nil {
		select {
		case f.c = <-f.free:
		case <-f.ctx.Done():
			return f.ctx.Err()
		}
		f.c.reset()
	}
	f.c.add(it, settle, f.own)
	if len(f.c.items) == chunkItems || f.c.size >= chunkBytes {
		return f.flush()
	}
	return nil
}

// lend sends a big value on as it lies rather than copy it, and waits until
// the caller is done with it, for the adapter reuses what it lies in for
// the next row.
func (f *filler) lend(it *record.Item, settle adapters.Settle) error {
	if err := f.flush(); err != nil {
		return err
	}
	f.lent.items = append(f.lent.items[:0], *it)
	f.lent.settles = append(f.lent.settles[:0], settle)
	if !f.send(f.lent) {
		return f.ctx.Err()
	}
	select {
	case <-f.lent.back:
		f.lent.items[0] = record.Item{}
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

// flush sends the chunk being filled, if any.
func (f *filler) flush() error {
	if f.c == nil {
		return nil
	}
	f.c.seal()
	c := f.c
	f.c = nil
	if !f.send(c) {
		return f.ctx.Err()
	}
	return nil
}

func (f *filler) send(c *itemChunk) bool {
	select {
	case f.chunks <- c:
		return true
	case <-f.ctx.Done():
		return false
	}
}

// A chunk ends after chunkItems items or chunkBytes of their strings and
// values (a key may be as long as a value): a few chunks are in flight at
// once.
const (
	chunkItems = 2048
	chunkBytes = 512 << 10
)

// itemChunk is a run of items whose values share one buffer, or one item
// with a big value lent by the scan (back is then not nil).
type itemChunk struct {
	items   []record.Item
	settles []adapters.Settle // each item's, nil when checked
	spans   [][4]int          // each item's Value and Data span in buf (-1: nil)
	buf     []byte
	size    int // bytes the items hold (Item.Size)
	back    chan struct{}
}

// done hands the chunk back: to be filled again, or to the scan that lent it.
func (c *itemChunk) done(free chan<- *itemChunk) {
	if c.back != nil {
		c.back <- struct{}{}
		return
	}
	free <- c
}

func (c *itemChunk) reset() {
	c.items, c.settles, c.spans, c.buf, c.size = c.items[:0], c.settles[:0], c.spans[:0], c.buf[:0], 0
}

// add copies it in; its byte slices are set by seal, once buf stops moving.
// With own (the snapshot is adapters.OwnBytes), the values are kept where
// they lie: nothing writes to them again.
func (c *itemChunk) add(it *record.Item, settle adapters.Settle, own bool) {
	c.size += it.Size()
	sp := [4]int{-1, -1, -1, -1}
	if own {
		c.items = append(c.items, *it)
		c.settles = append(c.settles, settle)
		c.spans = append(c.spans, sp)
		return
	}
	if it.Value != nil {
		sp[0] = len(c.buf)
		c.buf = append(c.buf, it.Value...)
		sp[1] = len(c.buf)
	}
	if it.Data != nil {
		sp[2] = len(c.buf)
		c.buf = append(c.buf, it.Data...)
		sp[3] = len(c.buf)
	}
	cp := *it
	cp.Value, cp.Data = nil, nil
	c.items = append(c.items, cp)
	c.settles = append(c.settles, settle)
	c.spans = append(c.spans, sp)
}

func (c *itemChunk) seal() {
	for i, sp := range c.spans {
		if sp[0] >= 0 {
			c.items[i].Value = c.buf[sp[0]:sp[1]:sp[1]]
		}
		if sp[2] >= 0 {
			c.items[i].Data = c.buf[sp[2]:sp[3]:sp[3]]
		}
	}
}
