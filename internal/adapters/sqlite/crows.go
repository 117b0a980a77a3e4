package sqlite

/*
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef int64_t sqlite3_int64;
int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**);
int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*));
int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_finalize(sqlite3_stmt*);
int sqlite3_column_count(sqlite3_stmt*);
int sqlite3_column_type(sqlite3_stmt*, int);
sqlite3_int64 sqlite3_column_int64(sqlite3_stmt*, int);
double sqlite3_column_double(sqlite3_stmt*, int);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int);
const void *sqlite3_column_blob(sqlite3_stmt*, int);
int sqlite3_column_bytes(sqlite3_stmt*, int);
const char *sqlite3_errmsg(sqlite3*);
void sqlite3_interrupt(sqlite3*);

static void persist_interrupt(void *db) { sqlite3_interrupt((sqlite3*)db); }

#define PERSIST_MAX_COLS 16

// SQLITE_TRANSIENT: SQLite copies what is bound.
static int persist_bind_text(sqlite3_stmt *st, int i, const char *p, int n) {
	return sqlite3_bind_text(st, i, p, n, (void(*)(void*))-1);
}

// persist_rows steps st and writes its rows into buf, each column as a
// type byte (SQLite's: 1 integer, 2 float, 3 text, 4 blob, 5 null) and
// then 8 bytes of integer or float, or 4 bytes of length and the bytes.
// pending says st is on a row not written yet. It writes up to maxrows
// rows, and stops before a row that does not fit; it returns how many
// it wrote, *used the bytes, and *rc SQLITE_DONE (no more rows),
// SQLITE_ROW (st is on a row not written: call again with pending), 0
// (maxrows written) or an error code. A row larger than cap, alone, is
// not written: 0 rows, *rc SQLITE_ROW and *used the size it needs.
static int persist_rows(sqlite3_stmt *st, unsigned char *buf, int64_t cap, int maxrows, int pending, int64_t *used, int *rc) {
	int ncol = sqlite3_column_count(st);
	int types[PERSIST_MAX_COLS];
	const void *vals[PERSIST_MAX_COLS];
	int64_t off = 0;
	int n = 0;
	*rc = 0;
	if (ncol > PERSIST_MAX_COLS) {
		*rc = 1; // SQLITE_ERROR
		*used = 0;
		return 0;
	}
	while (n < maxrows) {
		if (!pending) {
			int r = sqlite3_step(st);
			if (r != 100) { // SQLITE_ROW
				*rc = r;
				break;
			}
		}
		pending = 0;
		// The types are taken once, before column_text may convert a value.
		int64_t need = 0;
		for (int i = 0; i < ncol; i++) {
			int t = sqlite3_column_type(st, i);
			types[i] = t;
			vals[i] = 0;
			if (t == 3 || t == 4) {
				vals[i] = t == 3 ? (const void*)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
				int64_t len = sqlite3_column_bytes(st, i);
				if (vals[i] == 0 && (t == 3 || len > 0)) {
					*rc = 7; // SQLITE_NOMEM: a text is never NULL otherwise
					*used = off;
					return n;
				}
				need += 5 + len;
			} else {
				need += 9;
			}
		}
		if (off + need > cap) {
			*rc = 100;
			if (n == 0) {
				off = need;
			}
			break;
		}
		for (int i = 0; i < ncol; i++) {
			int t = types[i];
			unsigned char *p = buf + off;
			p[0] = (unsigned char)t;
			if (t == 1) {
				sqlite3_int64 v = sqlite3_column_int64(st, i);
				memcpy(p + 1, &v, 8);
				off += 9;
			} else if (t == 2) {
				double v = sqlite3_column_double(st, i);
				memcpy(p + 1, &v, 8);
				off += 9;
			} else if (t == 3 || t == 4) {
				int32_t len = sqlite3_column_bytes(st, i);
				memcpy(p + 1, &len, 4);
				if (len > 0) {
					memcpy(p + 5, vals[i], len);
				}
				off += 5 + len;
			} else {
				memset(p + 1, 0, 8);
				off += 9;
			}
		}
		n++;
	}
	*used = off;
	return n;
}
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/record"
)

// SQLite's result codes and fundamental types, as persist_rows gives them.
const (
	sqliteRow     = 100
	sqliteDone    = 101
	typeInteger   = 1
	typeFloat     = 2
	typeText      = 3
	typeBlob      = 4
	typeNull      = 5
	nullableText  = 6        // for types: text or NULL, in a column that may be NULL
	cRowsBuf      = 32 << 10 // bytes of rows one call to C gives at most
	cRowsMaxRows  = 512
	cRowsMaxBytes = 1 << 31 // no row is longer: SQLite's own limit on a value is below it
)

// cRows reads a query's rows straight from SQLite, many rows per call
// into C: through the driver, each row took a call into C for every
// column and a Go string for every text, which was most of what a scan
// cost besides SQLite's own work. A batch is one fresh buffer that the
// rows' strings point into, so that, like the driver's strings, they
// stay as they are for as long as anyone holds them.
type cRows struct {
	store string         // the store the query reads, for the hint that mends a row
	db    unsafe.Pointer // the connection's sqlite3
	st    *C.sqlite3_stmt
	cols  int
	buf   []byte // the batch being read
	off   int
	left  int  // rows left in buf
	state int  // persist_rows' last rc
	done  bool // SQLITE_DONE seen
	row   []driver.Value
}

// errNoHandle: the driver's connection did not give its sqlite3 pointer.
var errNoHandle = errors.New("no SQLite handle")

// openCRows prepares query on c, within whatever transaction c is in.
func openCRows(c *sqlite3.SQLiteConn, query string, args []any, store string, cols int) (*cRows, error) {
	db := handle(c)
	if db == nil {
		return nil, errNoHandle
	}
	r := &cRows{db: db, cols: cols, row: make([]driver.Value, cols), store: store}
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	if rc := C.sqlite3_prepare_v2((*C.sqlite3)(db), q, -1, &r.st, nil); rc != 0 {
		return nil, r.err(rc)
	}
	if n := int(C.sqlite3_column_count(r.st)); n != cols {
		r.close()
		return nil, fmt.Errorf("the query has %d columns, not %d", n, cols)
	}
	for i, a := range args {
		var rc C.int
		switch v := a.(type) {
		case string:
			p := C.CString(v)
			rc = C.persist_bind_text(r.st, C.int(i+1), p, C.int(len(v)))
			C.free(unsafe.Pointer(p))
		case int64:
			rc = C.sqlite3_bind_int64(r.st, C.int(i+1), C.sqlite3_int64(v))
		default:
			r.close()
			return nil, fmt.Errorf("bind %T", a)
		}
		if rc != 0 {
			err := r.err(rc)
			r.close()
			return nil, err
		}
	}
	return r, nil
}

func (r *cRows) err(rc C.int) error {
	return fmt.Errorf("%s (SQLite result code %d)", C.GoString(C.sqlite3_errmsg((*C.sqlite3)(r.db))), int(rc))
}

func (r *cRows) close() {
	if r.st != nil {
		C.sqlite3_finalize(r.st)
		r.st = nil
	}
}

// fill reads the next batch of rows. A context that ends while SQLite
// works (a delta's sort before its first row, say) interrupts it.
func (r *cRows) fill(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// An interrupt must land while this statement runs, not on a later
	// one (the snapshot's rollback, say): wait for one under way.
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.persist_interrupt(r.db)
		close(interrupted)
	})
	defer func() {
		if !stop() {
			<-interrupted
		}
	}()
	size := cRowsBuf
	for {
		buf := make([]byte, size)
		var used C.int64_t
		var rc C.int
		n := C.persist_rows(r.st, (*C.uchar)(unsafe.Pointer(&buf[0])), C.int64_t(len(buf)), cRowsMaxRows,
			boolInt(r.state == sqliteRow), &used, &rc)
		r.state = int(rc)
		switch {
		case rc != 0 && rc != sqliteRow && rc != sqliteDone && ctx.Err() != nil:
			return ctx.Err()
		case rc != 0 && rc != sqliteRow && rc != sqliteDone:
			return r.err(rc)
		case n == 0 && rc == sqliteRow:
			if used >= cRowsMaxBytes {
				return fmt.Errorf("a row of %d bytes", int64(used))
			}
			size = int(used) // one row larger than the buffer: alone, in its own
			continue
		}
		r.buf, r.off, r.left, r.done = buf[:used], 0, int(n), rc == sqliteDone
		return nil
	}
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// next gives the next row's columns as the driver would have (int64,
// float64, string, []byte, nil), or io.EOF.
func (r *cRows) next(ctx context.Context) ([]driver.Value, error) {
	if err := r.ensure(ctx); err != nil {
		return nil, err
	}
	r.left--
	for i := range r.cols {
		switch t := r.buf[r.off]; t {
		case typeInteger:
			r.row[i] = r.int()
		case typeFloat:
			r.row[i] = math.Float64frombits(uint64(r.int()))
		case typeText:
			r.row[i] = r.text()
		case typeBlob:
			r.row[i] = r.bytes()
		default:
			r.row[i] = nil
			r.off += 9
		}
	}
	return r.row, nil
}

// ensure has a row ready, or says io.EOF.
func (r *cRows) ensure(ctx context.Context) error {
	for r.left == 0 {
		if r.done {
			return io.EOF
		}
		if err := r.fill(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *cRows) int() int64 {
	v := int64(binary.NativeEndian.Uint64(r.buf[r.off+1:]))
	r.off += 9
	return v
}

func (r *cRows) bytes() []byte {
	n := int(binary.NativeEndian.Uint32(r.buf[r.off+1:]))
	b := r.buf[r.off+5 : r.off+5+n : r.off+5+n]
	r.off += 5 + n
	return b
}

func (r *cRows) text() string {
	b := r.bytes()
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// types reports whether the next row's columns are of these types
// (nullableText: text or NULL).
func (r *cRows) types(want ...byte) bool {
	off := r.off
	for _, w := range want {
		t := r.buf[off]
		if t != w && !(w == nullableText && (t == typeText || t == typeNull)) {
			return false
		}
		if t == typeText || t == typeBlob {
			off += 5 + int(binary.NativeEndian.Uint32(r.buf[off+1:]))
		} else {
			off += 9
		}
	}
	return true
}

// nullText reads a text column that may be NULL.
func (r *cRows) nullText() sql.NullString {
	if r.buf[r.off] == typeNull {
		r.off += 9
		return sql.NullString{}
	}
	return sql.NullString{String: r.text(), Valid: true}
}

// item reads the next row of selectRecords or selectEvents into it,
// by kind, as rawScan's conversions read a driver's row: a row of the
// columns' own types directly, any other through them.
func (r *cRows) item(ctx context.Context, kind record.Kind, it *record.Item) error {
	if err := r.ensure(ctx); err != nil {
		return err
	}
	if kind == record.KindRecord && r.types(typeText, typeText, typeInteger, typeText, typeInteger, nullableText) {
		r.left--
		*it = record.Item{Kind: record.KindRecord, Collection: r.text(), Key: r.text(), Version: r.int(), UpdatedAt: r.text()}
		deleted := r.int()
		return recordValue(it, deleted, r.nullText())
	}
	if kind == record.KindEvent && r.types(typeText, typeInteger, typeText, typeText, nullableText) {
		r.left--
		*it = record.Item{Kind: record.KindEvent, Stream: r.text(), Seq: r.int(), Type: r.text(), At: r.text()}
		it.Data = orNull(textBytes(r.nullText()))
		return nil
	}
	row, err := r.next(ctx)
	if err != nil {
		return err
	}
	if kind == record.KindRecord {
		return recordRow(row, it, r.store)
	}
	return eventRow(row, it, r.store)
}
