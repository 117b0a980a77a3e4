package adapters

import (
	"context"
	"io"
	"sync"
)

// A batch of ReadAhead ends after aheadRows rows or aheadBytes of values,
// or after a big row.
const (
	aheadRows  = 1024
	aheadBytes = 512 << 10
)

// aheadBatch is rows read ahead, and the bytes they were copied into.
type aheadBatch[R any] struct {
	rows []R
	buf  []byte
	end  bool  // the rows ended after rows
	err  error // how, when end (nil: all read)
	big  bool  // the last row is big: the reading waits for it back
}

// ReadAhead is a scan's rows read on a goroutine of their own, a batch
// ahead, while the caller's goroutine makes them canonical and calls use on
// each: the database (the protocol, or stepping SQLite) and the formatting
// take a core each. use sees the rows, and the errors, in the order next
// gave them, as if it were called right after each next; it runs on the
// caller's goroutine and its error ends the scan.
//
// next reads the next row into r (zero), copying what must outlive the
// driver's next step into *buf, the batch's bytes, which are reused once
// use has seen the batch. It returns size, the bytes the row holds, and
// big when the row holds a value it did not copy, or one big enough that
// no second one should wait beside it: the batch then ends, and next is
// not called again until use has seen it and forgotten it. It returns
// io.EOF itself, unwrapped, when the rows have ended.
//
// A batch read ahead is not handed to use once ctx is done: ReadAhead
// returns ctx's error instead, as the reading would have.
//
// When ReadAhead returns, next is no longer running, so the rows can be
// closed.
func ReadAhead[R any](ctx context.Context, next func(r *R, buf *[]byte) (size int, big bool, err error), use func(*R) error) error {
	batches := make(chan *aheadBatch[R], 1)
	free := make(chan *aheadBatch[R], 3)
	for range 3 {
		free <- &aheadBatch[R]{}
	}
	back, stop := make(chan struct{}, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		readAhead(next, batches, free, back, stop)
	})
	defer wg.Wait()
	defer close(stop)
	for b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range b.rows {
			if err := use(&b.rows[i]); err != nil {
				return err
			}
		}
		if b.end {
			return b.err
		}
		if b.big {
			clear(b.rows) // a huge value is not kept alive in a spare batch
			back <- struct{}{}
		}
		free <- b
	}
	return nil
}

// readAhead fills batches for ReadAhead until the rows end or stop is
// closed. After a big row it waits until the batch comes back, so that no
// more than one huge value is held at once.
func readAhead[R any](next func(*R, *[]byte) (int, bool, error), out chan<- *aheadBatch[R], free <-chan *aheadBatch[R], back, stop <-chan struct{}) {
	for {
		var b *aheadBatch[R]
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.fill(next)
		select {
		case out <- b:
		case <-stop:
			return
		}
		if b.end {
			return
		}
		if b.big {
			select {
			case <-back:
			case <-stop:
				return
			}
		}
	}
}

func (b *aheadBatch[R]) fill(next func(*R, *[]byte) (int, bool, error)) {
	var zero R
	b.rows, b.buf, b.end, b.err, b.big = b.rows[:0], b.buf[:0], false, nil, false
	for size := 0; len(b.rows) < aheadRows && size < aheadBytes && !b.big; {
		b.rows = append(b.rows, zero)
		n, big, err := next(&b.rows[len(b.rows)-1], &b.buf)
		if err != nil {
			b.rows, b.end = b.rows[:len(b.rows)-1], true
			if err != io.EOF {
				b.err = err
			}
			return
		}
		size += n
		b.big = big
	}
}
