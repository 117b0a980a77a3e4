package source

import (
	"context"
	"errors"
	"io"

	"github.com/cuitty/persist/internal/record"
)

// Iter pulls items one at a time; Next returns io.EOF at the end.
type Iter struct {
	next  func() (*record.Item, error)
	close func()
}

// Next returns the next item; it stays valid until the next call.
func (i *Iter) Next() (*record.Item, error) { return i.next() }

// Close stops the iteration early.
func (i *Iter) Close() { i.close() }

const chunk = 512

// Iterator returns the source's items as a pull iterator. A store is read
// by its own goroutine, a chunk ahead, so that two sources merged side by
// side (persist-diff) are read concurrently.
func (s *Source) Iterator(ctx context.Context) *Iter {
	if s.snap == nil {
		return &Iter{
			next: func() (*record.Item, error) {
				for {
					it, _, err := s.next()
					if err != nil {
						if errors.Is(err, io.EOF) {
							return nil, io.EOF
						}
						return nil, s.wrap(err)
					}
					if Keep(&s.opt.Filter, it) {
						return it, nil
					}
				}
			},
			close: func() {},
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	type batch struct {
		items []*record.Item
		err   error
	}
	ch := make(chan batch, 4)
	go func() {
		defer close(ch)
		var items []*record.Item
		err := s.snap.Scan(ctx, s.opt.Filter, func(it *record.Item) error {
			items = append(items, it.Clone())
			if len(items) == chunk {
				select {
				case ch <- batch{items: items}:
				case <-ctx.Done():
					return ctx.Err()
				}
				items = nil
			}
			return nil
		})
		if err == nil && len(items) > 0 {
			select {
			case ch <- batch{items: items}:
			case <-ctx.Done():
			}
		}
		if err != nil {
			select {
			case ch <- batch{err: s.wrap(err)}:
			case <-ctx.Done():
			}
		}
	}()
	var cur []*record.Item
	return &Iter{
		next: func() (*record.Item, error) {
			for len(cur) == 0 {
				b, ok := <-ch
				if !ok {
					return nil, io.EOF
				}
				if b.err != nil {
					return nil, b.err
				}
				cur = b.items
			}
			it := cur[0]
			cur = cur[1:]
			return it, nil
		},
		close: func() {
			cancel()
			for range ch {
			}
		},
	}
}
