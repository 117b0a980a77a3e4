package sqlite

/*
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef int64_t sqlite3_int64;
int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**);
int sqlite3_bind_parameter_count(sqlite3_stmt*);
int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*));
int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
int sqlite3_bind_null(sqlite3_stmt*, int);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_reset(sqlite3_stmt*);
int sqlite3_clear_bindings(sqlite3_stmt*);
int sqlite3_finalize(sqlite3_stmt*);
int sqlite3_changes(sqlite3*);
int sqlite3_extended_errcode(sqlite3*);
int sqlite3_system_errno(sqlite3*);
const char *sqlite3_errmsg(sqlite3*);
int sqlite3_get_autocommit(sqlite3*);

// persist_put_rows runs st once for each of the n rows packed in buf, each
// parameter as a type byte (1 integer, 3 text, 5 null) and then 8 bytes of
// integer, or 4 bytes of length and the bytes. Texts are bound where they
// lie (SQLITE_STATIC), and the bindings are cleared before it returns, so
// that SQLite keeps no pointer into buf. It sets changes[i] to what row i
// changed, *done to the rows run, and returns 0 or SQLite's result code
// for row *done, with its extended code, system errno and message.
static int persist_put_rows(sqlite3 *db, sqlite3_stmt *st, const unsigned char *buf, int64_t len, int n,
		int64_t *changes, int *done, int *ext, int *sys, char *msg, int msgcap) {
	int np = sqlite3_bind_parameter_count(st);
	int64_t off = 0;
	int rc = 0;
	int i;
	for (i = 0; i < n && rc == 0; i++) {
		for (int c = 1; c <= np && rc == 0; c++) {
			if (off >= len) {
				rc = 21; // SQLITE_MISUSE: fewer values than parameters
				break;
			}
			unsigned char t = buf[off++];
			if (t == 1 && off + 8 <= len) {
				sqlite3_int64 v;
				memcpy(&v, buf + off, 8);
				off += 8;
				rc = sqlite3_bind_int64(st, c, v);
			} else if (t == 3 && off + 4 <= len) {
				int32_t l;
				memcpy(&l, buf + off, 4);
				off += 4;
				if (l < 0 || off + l > len) {
					rc = 21;
					break;
				}
				rc = sqlite3_bind_text(st, c, (const char*)buf + off, l, (void(*)(void*))0);
				off += l;
			} else if (t == 5) {
				rc = sqlite3_bind_null(st, c);
			} else {
				rc = 21;
			}
		}
		if (rc != 0) {
			break;
		}
		rc = sqlite3_step(st);
		if (rc == 101) { // SQLITE_DONE
			changes[i] = sqlite3_changes(db);
			rc = sqlite3_reset(st);
		}
		if (rc != 0) {
			break;
		}
	}
	if (rc == 0 && off != len) {
		rc = 21; // more values than the rows' parameters
	}
	*done = i;
	if (rc != 0) {
		// Read before the reset, which may replace them, as the driver does.
		*ext = sqlite3_extended_errcode(db);
		*sys = sqlite3_system_errno(db);
		const char *m = sqlite3_errmsg(db);
		strncpy(msg, m ? m : "", msgcap - 1);
		msg[msgcap - 1] = 0;
		sqlite3_reset(st);
	}
	sqlite3_clear_bindings(st);
	return rc;
}

// persist_in_tx reports whether db is in a transaction.
static int persist_in_tx(sqlite3 *db) { return !sqlite3_get_autocommit(db); }
*/
import "C"

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"syscall"
	"unsafe"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A put runs its statement for many rows in one call into C (putRows):
// database/sql's locks and conversions, and the driver's call into C for
// each parameter, took as much of a load's writer as SQLite's own insert.
// The statements and their parameters are those of the put through
// database/sql (tx.go), which remains for a driver with no SQLite handle.
const (
	putPackBytes = 256 << 10 // bytes of rows one call to C runs at most, unless one row is larger
	putPackRows  = 256       // rows one call runs at most, so that ctx is looked at between them
	putKeepBytes = 1 << 20   // the largest pack kept for the next call
)

// cPut is a transaction's statements prepared on the raw connection.
type cPut struct {
	db    unsafe.Pointer
	stmts [nStmts]*C.sqlite3_stmt
	pack  []byte
	rows  []*record.Item // the items packed, in order
	chg   []int64
}

// prepare is statement i, prepared on first use.
func (p *cPut) prepare(i int) (*C.sqlite3_stmt, error) {
	if p.stmts[i] != nil {
		return p.stmts[i], nil
	}
	q := C.CString(stmtText[i])
	defer C.free(unsafe.Pointer(q))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2((*C.sqlite3)(p.db), q, -1, &st, nil); rc != 0 {
		return nil, p.lastError(rc)
	}
	p.stmts[i] = st
	return st, nil
}

func (p *cPut) close() {
	for i, st := range p.stmts {
		if st != nil {
			C.sqlite3_finalize(st)
			p.stmts[i] = nil
		}
	}
}

// lastError is the connection's error, as the driver reports it.
func (p *cPut) lastError(rc C.int) error {
	db := (*C.sqlite3)(p.db)
	return newError(rc, C.sqlite3_extended_errcode(db), C.sqlite3_system_errno(db), C.GoString(C.sqlite3_errmsg(db)))
}

// newError makes an error as the driver's own, which callers tell apart
// with errors.As (a busy database, a full disk, a key that exists).
func newError(rc, ext, sys C.int, msg string) error {
	e := sqlite3.Error{Code: sqlite3.ErrNo(rc), ExtendedCode: sqlite3.ErrNoExtended(ext)}
	if e.Code == sqlite3.ErrCantOpen || (e.Code == sqlite3.ErrIoErr && e.ExtendedCode != sqlite3.ErrIoErrNoMem) {
		e.SystemErrno = syscall.Errno(sys)
	}
	if f := reflect.ValueOf(&e).Elem().FieldByName("err"); f.IsValid() && f.Kind() == reflect.String {
		*(*string)(unsafe.Pointer(f.UnsafeAddr())) = msg
	}
	return e
}

// putRows writes items with mode's statements, n rows to a call into C, and
// calls written with each item and the rows its statement changed.
func (p *cPut) putRows(ctx context.Context, store string, chg int64, items []*record.Item, mode adapters.PutMode,
	written func(*record.Item, int64)) error {
	defer p.release()
	for len(items) > 0 {
		if err := ctx.Err(); err != nil {
			return putError(items[0], err)
		}
		if C.persist_in_tx((*C.sqlite3)(p.db)) == 0 {
			// Rolled back under it (a cancelled Begin): a statement
			// now would commit on its own.
			return putError(items[0], sql.ErrTxDone)
		}
		i, n, err := p.packRows(store, chg, items)
		if err != nil {
			return err
		}
		if err := p.run(putStmt[mode][i], n, written); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// release lets go of a pack that held a huge value, which would otherwise
// stay beside the value read back, and of the items packed.
func (p *cPut) release() {
	if cap(p.pack) > putKeepBytes {
		p.pack = nil
	}
	clear(p.rows)
	p.rows = p.rows[:0]
}

// packRows packs the first items of one kind, up to a call's worth, and
// returns the kind's index in putStmt and how many it packed.
func (p *cPut) packRows(store string, chg int64, items []*record.Item) (int, int, error) {
	kind := items[0].Kind
	i := 0
	if kind == record.KindEvent {
		i = 1
	}
	p.pack, p.rows = p.pack[:0], p.rows[:0]
	for _, it := range items {
		if it.Kind != kind || len(p.rows) == putPackRows || (len(p.rows) > 0 && len(p.pack) >= putPackBytes) {
			break
		}
		if err := checkPut(it); err != nil {
			return 0, 0, err
		}
		p.pack = packItem(p.pack, store, chg, it)
		p.rows = append(p.rows, it)
	}
	return i, len(p.rows), nil
}

// checkPut refuses what the statements cannot write.
func checkPut(it *record.Item) error {
	if err := adapters.NoNext(it); err != nil {
		return err
	}
	if n := longest(it); n > math.MaxInt32 {
		// SQLite takes a length in an int, and refuses far less anyway.
		return putError(it, fmt.Errorf("a text of %d bytes, more than SQLite takes: %w", n, adapters.ErrUnsupported))
	}
	switch it.Kind {
	case record.KindRecord:
		if it.Version < 1 || it.UpdatedAt == "" {
			return fmt.Errorf("put record %q/%q: version %d, updated_at %q: %w",
				it.Collection, it.Key, it.Version, it.UpdatedAt, ErrIncomplete)
		}
	case record.KindEvent:
		if it.Seq < 1 || it.At == "" {
			return fmt.Errorf("put event %q/%d: at %q: %w", it.Stream, it.Seq, it.At, ErrIncomplete)
		}
	default:
		return fmt.Errorf("put: a %s line is not a record or an event", it.Kind)
	}
	return nil
}

// longest is the length of the item's longest text.
func longest(it *record.Item) int {
	return max(len(it.Collection), len(it.Key), len(it.UpdatedAt), len(it.Value), len(it.Stream), len(it.Type),
		len(it.At), len(it.Data))
}

// packItem appends its parameters, in the order of the statements'.
func packItem(b []byte, store string, chg int64, it *record.Item) []byte {
	b = packText(b, store)
	if it.Kind == record.KindRecord {
		b = packText(b, it.Collection)
		b = packText(b, it.Key)
		b = packInt(b, it.Version)
		b = packText(b, it.UpdatedAt)
		if it.Deleted {
			b = packInt(b, 1)
			b = append(b, typeNull)
		} else {
			b = packInt(b, 0)
			b = packText(b, jsonText(it.Value))
		}
		return packInt(b, chg)
	}
	b = packText(b, it.Stream)
	b = packInt(b, it.Seq)
	b = packText(b, it.Type)
	b = packText(b, it.At)
	b = packText(b, jsonText(it.Data))
	return packInt(b, chg)
}

func packText(b []byte, s string) []byte {
	b = append(b, typeText)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func packInt(b []byte, v int64) []byte {
	b = append(b, typeInteger)
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

// run runs statement i for the n rows packed.
func (p *cPut) run(i, n int, written func(*record.Item, int64)) error {
	st, err := p.prepare(i)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if cap(p.chg) < n {
		p.chg = make([]int64, n)
	}
	chg := p.chg[:n]
	var done, ext, sys C.int
	var msg [512]C.char
	rc := C.persist_put_rows((*C.sqlite3)(p.db), st, (*C.uchar)(unsafe.Pointer(unsafe.SliceData(p.pack))),
		C.int64_t(len(p.pack)), C.int(n), (*C.int64_t)(unsafe.Pointer(&chg[0])), &done, &ext, &sys, &msg[0], C.int(len(msg)))
	for k := range int(done) {
		written(p.rows[k], chg[k])
	}
	if rc != 0 {
		return putError(p.rows[done], newError(rc, ext, sys, C.GoString(&msg[0])))
	}
	return nil
}

// putError says which item's statement failed, as putRecord and putEvent do.
func putError(it *record.Item, err error) error {
	if it.Kind == record.KindRecord {
		return fmt.Errorf("put record %q/%q: %w", it.Collection, it.Key, existing(err))
	}
	return fmt.Errorf("put event %q/%d: %w", it.Stream, it.Seq, existing(err))
}
