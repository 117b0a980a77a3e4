package adapters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRows is a source of rows as a driver gives them: each row's value is
// written into one buffer of the source's, overwritten at the next row, so
// a value kept without a copy and read after the next row shows the next
// one. Row i's value is its number and a pad of i%50 bytes, or bigSize
// bytes every bigEvery rows (0: never), which are lent, not copied.
type fakeRows struct {
	n, failAt int // failAt ≥ 0: row failAt fails (n < 0: no end)
	bigEvery  int
	drv       []byte
	read      atomic.Int64 // rows read
	used      atomic.Int64 // rows used, as the consumer records it
	lentAhead bool         // a row was read while a lent one was not yet used
}

const bigSize = 64 << 10 // below aheadBytes: the batch ends for the big row alone

type fakeRow struct {
	i   int
	val []byte
	big bool
}

var errFake = errors.New("the connection broke")

func (f *fakeRows) value(i int) []byte {
	if f.bigEvery > 0 && i%f.bigEvery == f.bigEvery-1 {
		return bytes.Repeat([]byte{byte('a' + i%26)}, bigSize)
	}
	return fmt.Appendf(nil, "%d:%s", i, strings.Repeat("x", i%50))
}

func (f *fakeRows) next(r *fakeRow, buf *[]byte) (int, bool, error) {
	i := int(f.read.Load())
	if i > 0 && f.bigEvery > 0 && (i-1)%f.bigEvery == f.bigEvery-1 && f.used.Load() < int64(i) {
		f.lentAhead = true
	}
	switch {
	case i == f.failAt:
		return 0, false, fmt.Errorf("read row %d: %w", i, errFake)
	case f.n >= 0 && i == f.n:
		return 0, false, io.EOF
	}
	f.read.Add(1)
	f.drv = append(f.drv[:0], f.value(i)...)
	r.i = i
	if len(f.drv) >= bigSize {
		r.val, r.big = f.drv, true
		return len(f.drv), true, nil
	}
	from := len(*buf)
	*buf = append(*buf, f.drv...)
	r.val = (*buf)[from:]
	return len(r.val), false, nil
}

// scanFake reads f ahead, checking each row's value when use sees it; use
// fails at row stopAt (≥ 0).
func scanFake(t *testing.T, f *fakeRows, stopAt int) (int, error) {
	t.Helper()
	seen := 0
	err := ReadAhead(t.Context(), f.next, func(r *fakeRow) error {
		if r.i != seen {
			return fmt.Errorf("row %d seen as row %d", r.i, seen)
		}
		if want := f.value(r.i); !bytes.Equal(r.val, want) {
			return fmt.Errorf("row %d: value %.20q…, want %.20q…", r.i, r.val, want)
		}
		if r.big && &r.val[0] != &f.drv[0] {
			return fmt.Errorf("row %d: a big value was copied", r.i)
		}
		seen++
		f.used.Store(int64(seen))
		if r.i == stopAt {
			return errStop
		}
		return nil
	})
	return seen, err
}

var errStop = errors.New("stop here")

func TestReadAheadOrder(t *testing.T) {
	for _, n := range []int{0, 1, aheadRows - 1, aheadRows, aheadRows + 1, 5000} {
		f := &fakeRows{n: n, failAt: -1}
		if seen, err := scanFake(t, f, -1); err != nil || seen != n {
			t.Fatalf("%d rows: use saw %d, %v", n, seen, err)
		}
	}
}

// An error of next reaches the caller after every row before it, and
// nothing after it is read.
func TestReadAheadError(t *testing.T) {
	for _, at := range []int{0, 1, aheadRows, 700} {
		f := &fakeRows{n: 2000, failAt: at}
		seen, err := scanFake(t, f, -1)
		if !errors.Is(err, errFake) || err.Error() != fmt.Sprintf("read row %d: the connection broke", at) || seen != at {
			t.Fatalf("fail at %d: use saw %d, %v", at, seen, err)
		}
		if f.read.Load() != int64(at) {
			t.Fatalf("fail at %d: %d rows read", at, f.read.Load())
		}
	}
}

// A consumer that stops early ends the reading, however many rows are
// left: when ReadAhead returns, next is no longer called.
func TestReadAheadStop(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, at := range []int{0, 10, aheadRows, 3000} {
		f := &fakeRows{n: -1, failAt: -1, bigEvery: 997}
		seen, err := scanFake(t, f, at)
		if !errors.Is(err, errStop) || seen != at+1 {
			t.Fatalf("stop at %d: use saw %d, %v", at, seen, err)
		}
		read := f.read.Load()
		time.Sleep(10 * time.Millisecond)
		if f.read.Load() != read {
			t.Fatalf("stop at %d: rows still read after the scan returned", at)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the scans", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// A big value is lent, not copied: the next row is read only once use has
// seen it, for the driver overwrites it then.
func TestReadAheadLendsBig(t *testing.T) {
	for _, every := range []int{1, 2, 7, aheadRows + 3} {
		f := &fakeRows{n: 600, failAt: -1, bigEvery: every}
		if seen, err := scanFake(t, f, -1); err != nil || seen != 600 {
			t.Fatalf("big every %d rows: use saw %d, %v", every, seen, err)
		}
		if f.lentAhead {
			t.Fatalf("big every %d rows: a row was read before the lent value was used", every)
		}
	}
}

// A context cancelled while rows wait read ahead stops the scan at the end
// of the batch in hand: the rows read ahead are not handed on, and the
// scan returns the context's error, even when every row has been read.
func TestReadAheadCancelled(t *testing.T) {
	for _, n := range []int{aheadRows + 1, aheadRows + 10, 3 * aheadRows} {
		f := &fakeRows{n: n, failAt: -1}
		ctx, cancel := context.WithCancel(t.Context())
		seen := 0
		err := ReadAhead(ctx, f.next, func(*fakeRow) error {
			if seen++; seen == 1 {
				cancel()
				// Let the reading run ahead as far as it may.
				time.Sleep(20 * time.Millisecond)
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%d rows: ReadAhead = %v, want context.Canceled", n, err)
		}
		if seen > aheadRows {
			t.Fatalf("%d rows: use saw %d after the cancel, more than the batch in hand (%d)", n, seen, aheadRows)
		}
	}
}
