package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unsafe"
)

// copyChunk is how many bytes of rows are handed to the driver at a time.
const copyChunk = 64 << 10

// copyWriter encodes rows in COPY's text format: fields separated by tabs,
// backslash, tab, newline and carriage return escaped, \N for NULL. Rows go
// to the server in chunks through lib/pq's CopyData: binding each row as
// arguments through database/sql cost the loader as much CPU as encoding it.
type copyWriter struct {
	buf  []byte
	send func(chunk []byte) error
}

func (w *copyWriter) text(s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		// Eight bytes at a time past those that need no escape: values
		// are most of the bytes, and canonical JSON has few backslashes
		// and no raw control characters.
		for i+8 <= len(s) && !copySpecial8(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if e := copyEscape[s[i]]; e != 0 {
			w.buf = append(w.buf, s[start:i]...)
			w.buf = append(w.buf, '\\', e)
			start = i + 1
		}
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '\t')
}

// copySpecial8 reports whether one of the eight bytes of x may need an
// escape: a control character (tab, newline and carriage return are) or a
// backslash.
func copySpecial8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*lo) &^ x // high bit set where a byte < 0x20
	b := x ^ '\\'*lo
	bslash := (b - lo) &^ b // or a backslash
	return (ctl|bslash)&hi != 0
}

func (w *copyWriter) bytes(b []byte) {
	w.text(unsafe.String(unsafe.SliceData(b), len(b)))
}

func (w *copyWriter) null() { w.buf = append(w.buf, '\\', 'N', '\t') }

func (w *copyWriter) int(n int64) {
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\t')
}

func (w *copyWriter) bool(b bool) {
	if b {
		w.buf = append(w.buf, 't', '\t')
	} else {
		w.buf = append(w.buf, 'f', '\t')
	}
}

// end ends a row, and sends the rows so far once they fill a chunk.
func (w *copyWriter) end() error {
	w.buf[len(w.buf)-1] = '\n'
	if len(w.buf) < copyChunk {
		return nil
	}
	return w.flush()
}

func (w *copyWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.send(w.buf)
	w.buf = w.buf[:0]
	return err
}

// copyBufs keeps chunk buffers for the next COPY: one grown anew for each
// batch was the larger part of what writing a batch allocated.
var copyBufs sync.Pool

func getCopyBuf() []byte {
	if b, ok := copyBufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, copyChunk+4<<10)
}

// putCopyBuf keeps buffers of about a chunk; one a huge row grew goes.
func putCopyBuf(b []byte) {
	if cap(b) <= 4*copyChunk {
		copyBufs.Put(&b)
	}
}

// copyEscape is the letter after the backslash for the bytes COPY's text
// format escapes, 0 for the others.
var copyEscape = [256]byte{'\\': '\\', '\t': 't', '\n': 'n', '\r': 'r'}

// copyData is what lib/pq's COPY statement offers beyond driver.Stmt.
type copyData interface {
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

// copyRows runs query, a COPY … FROM STDIN, inside the transaction, with
// the rows rows writes.
func (t *writeTx) copyRows(ctx context.Context, query string, rows func(w *copyWriter) error) error {
	_, err := t.copyCount(ctx, query, rows)
	return err
}

// copyCount is copyRows, and returns the rows COPY reports it wrote.
func (t *writeTx) copyCount(ctx context.Context, query string, rows func(w *copyWriter) error) (int64, error) {
	// The error goes out beside Raw, not through it: given driver.ErrBadConn
	// (a lost connection), Raw closes the Conn, which waits for the open
	// transaction to let go of it, forever. lib/pq marks the connection bad
	// itself, and database/sql drops it when the transaction ends.
	var n int64
	var err error
	rawErr := t.conn.Raw(func(dc any) error {
		n, err = t.copyOn(ctx, dc, query, rows)
		return nil
	})
	if rawErr != nil {
		return 0, rawErr
	}
	return n, err
}

// copyOn runs the COPY on the driver connection dc.
func (t *writeTx) copyOn(ctx context.Context, dc any, query string, rows func(w *copyWriter) error) (int64, error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return 0, errors.New("the driver cannot prepare COPY")
	}
	st, err := prep.PrepareContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	cd, ok := st.(copyData)
	if !ok {
		return 0, fmt.Errorf("the driver's COPY statement is a %T, without CopyData", st)
	}
	w := &copyWriter{buf: getCopyBuf(), send: func(chunk []byte) error {
		// CopyData adds the newline after the chunk's last row, and
		// copies the chunk before it returns.
		line := chunk[:len(chunk)-1]
		_, err := cd.CopyData(ctx, unsafe.String(unsafe.SliceData(line), len(line)))
		return err
	}}
	defer func() { putCopyBuf(w.buf) }()
	if err := rows(w); err != nil {
		return 0, err
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	// lib/pq ends a COPY, and reports its errors, only through Exec
	// without arguments: its COPY statement has no ExecContext.
	//lint:ignore SA1019 the driver's COPY statement offers nothing else
	res, err := st.Exec(nil)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
