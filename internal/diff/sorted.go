package diff

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/cuitty/persist/internal/record"
)

// DefaultSortMemory is the run size Sorted uses when given maxBytes ≤ 0.
const DefaultSortMemory = 64 << 20

// maxFanIn is how many runs are merged at once; more runs are first merged
// in groups, so open files and read buffers stay bounded.
const maxFanIn = 64

// SortedIterator yields another iterator's items in dump order; see Sorted.
// Close it to release its temporary files early (they are unlinked as soon
// as they are created where the system allows, and closed at the end).
type SortedIterator struct {
	in       Iterator
	dir      string
	maxBytes int

	started bool
	err     error

	// All of the input fitted in memory.
	mem []*record.Item
	pos int

	// The input spilled to run files, merged here.
	runs    []*runFile
	cur     *runFile // the run being written
	merge   runHeap
	last    *runReader // returned by the previous Next; advanced by the next one
	order   orderCheck
	bufSize int
	files   int // run files made, for tests
}

// Sorted returns an iterator over in's items in dump order (record.Compare),
// in bounded memory: it gathers runs of at most maxBytes in memory, sorts
// each, spills it as canonical lines to a temporary file in dir ("" for the
// system's), and merges the runs. Input that fits in maxBytes never touches
// the disk; a run already in order is not sorted, and runs that follow one
// another in order share one file, so ordered input costs one sequential
// write and read. Two items with the same address are an error (ErrDuplicate)
// naming it.
//
// An iterator can be read once, so ordered input larger than maxBytes still
// goes through a temporary file: that it is in order is known only at its end.
//
// The input is read on the first call to Next.
func Sorted(in Iterator, dir string, maxBytes int) (*SortedIterator, error) {
	if in == nil {
		return nil, errors.New("sort: no input")
	}
	if maxBytes <= 0 {
		maxBytes = DefaultSortMemory
	}
	s := &SortedIterator{in: in, dir: dir, maxBytes: maxBytes}
	s.bufSize = min(max(maxBytes/(2*maxFanIn), 4<<10), 64<<10)
	return s, nil
}

// Next returns the next item in dump order, valid until the next call.
func (s *SortedIterator) Next() (*record.Item, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.started {
		s.started = true
		if err := s.load(); err != nil {
			s.fail(err)
			return nil, err
		}
	}
	var it *record.Item
	if s.runs == nil {
		if s.pos == len(s.mem) {
			s.mem = nil
			s.err = io.EOF
			return nil, io.EOF
		}
		it = s.mem[s.pos]
		s.mem[s.pos] = nil
		s.pos++
	} else {
		if s.last != nil {
			if err := s.advance(s.last); err != nil {
				s.fail(err)
				return nil, err
			}
			s.last = nil
		}
		if len(s.merge) == 0 {
			s.Close()
			s.err = io.EOF
			return nil, io.EOF
		}
		s.last = s.merge[0]
		it = &s.last.line.Item
	}
	if err := s.order.check(it); err != nil {
		err = fmt.Errorf("sort: %w", err)
		s.fail(err)
		return nil, err
	}
	return it, nil
}

func (s *SortedIterator) fail(err error) {
	s.Close()
	s.err = err
}

// Close releases the temporary files. Next returns io.EOF afterwards.
func (s *SortedIterator) Close() error {
	var first error
	for _, r := range s.runs {
		if err := r.close(); err != nil && first == nil {
			first = err
		}
	}
	s.runs = s.runs[:0] // non-nil: still in merge mode, now empty
	s.merge, s.last, s.mem = nil, nil, nil
	if s.err == nil {
		s.err = io.EOF
	}
	return first
}

func compareItems(a, b *record.Item) int { return record.Compare(a, b) }

// itemCost estimates what keeping a clone of it costs in memory.
func itemCost(it *record.Item) int {
	return int(unsafe.Sizeof(*it)) + 8 + len(it.Collection) + len(it.Key) + len(it.UpdatedAt) +
		len(it.Value) + len(it.Stream) + len(it.Type) + len(it.At) + len(it.Data)
}

// load reads all of the input into memory or into sorted run files.
func (s *SortedIterator) load() error {
	var run []*record.Item
	size, ordered := 0, true
	for {
		it, err := s.in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if it.Kind != record.KindRecord && it.Kind != record.KindEvent {
			return fmt.Errorf("sort: %w: %s line", ErrItemKind, it.Kind)
		}
		cost := itemCost(it)
		if size+cost > s.maxBytes && len(run) > 0 {
			if err := s.spill(run, ordered); err != nil {
				return err
			}
			clear(run)
			run, size, ordered = run[:0], 0, true
		}
		if ordered && len(run) > 0 && compareItems(run[len(run)-1], it) >= 0 {
			ordered = false
		}
		run = append(run, it.Clone())
		size += cost
	}
	if s.runs == nil {
		if !ordered {
			slices.SortFunc(run, compareItems)
		}
		s.mem = run
		return nil // duplicates are caught by the order check in Next
	}
	if len(run) > 0 {
		if err := s.spill(run, ordered); err != nil {
			return err
		}
		clear(run)
	}
	if err := s.cur.finish(); err != nil {
		return err
	}
	s.cur = nil
	for len(s.runs) > maxFanIn {
		if err := s.premerge(); err != nil {
			return err
		}
	}
	return s.startMerge()
}

// spill sorts run and appends it to the current run file when it continues
// that file's order, or to a new file.
func (s *SortedIterator) spill(run []*record.Item, ordered bool) error {
	if !ordered {
		slices.SortFunc(run, compareItems)
	}
	for i := 1; i < len(run); i++ {
		if compareItems(run[i-1], run[i]) == 0 {
			return fmt.Errorf("sort: %w: %s", ErrDuplicate, address(run[i]))
		}
	}
	if s.cur != nil {
		switch c := compareItems(&s.cur.lastKey, run[0]); {
		case c == 0:
			return fmt.Errorf("sort: %w: %s", ErrDuplicate, address(run[0]))
		case c > 0:
			if err := s.cur.finish(); err != nil {
				return err
			}
			s.cur = nil
		}
	}
	if s.cur == nil {
		r, err := newRunFile(s.dir)
		if err != nil {
			return err
		}
		s.runs = append(s.runs, r)
		s.cur = r
		s.files++
	}
	for _, it := range run {
		if err := s.cur.write(it); err != nil {
			return err
		}
	}
	return nil
}

// premerge merges the first maxFanIn runs into one new run.
func (s *SortedIterator) premerge() error {
	group := s.runs[:maxFanIn]
	out, err := newRunFile(s.dir)
	if err != nil {
		return err
	}
	s.files++
	var h runHeap
	for _, r := range group {
		rr, err := r.reader(s.bufSize)
		if err != nil {
			out.close()
			return err
		}
		if err := rr.next(); err != nil {
			out.close()
			return err
		}
		if rr.ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		rr := h[0]
		if err := out.writeLine(rr.raw); err != nil {
			out.close()
			return err
		}
		if err := rr.next(); err != nil {
			out.close()
			return err
		}
		if rr.ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if err := out.finish(); err != nil {
		out.close()
		return err
	}
	for _, r := range group {
		r.close()
	}
	s.runs = append(s.runs[maxFanIn:], out)
	return nil
}

func (s *SortedIterator) startMerge() error {
	for _, r := range s.runs {
		rr, err := r.reader(s.bufSize)
		if err != nil {
			return err
		}
		if err := rr.next(); err != nil {
			return err
		}
		if rr.ok {
			s.merge = append(s.merge, rr)
		}
	}
	heap.Init(&s.merge)
	return nil
}

func (s *SortedIterator) advance(rr *runReader) error {
	if err := rr.next(); err != nil {
		return err
	}
	if rr.ok {
		heap.Fix(&s.merge, 0)
	} else {
		heap.Pop(&s.merge)
	}
	return nil
}

// runHeap orders run readers by their current item.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareItems(&h[i].line.Item, &h[j].line.Item) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
