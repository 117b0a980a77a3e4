package sqlite

import (
	"fmt"
	"math"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// maxLength is SQLITE_MAX_LENGTH as go-sqlite3 builds SQLite: the most bytes
// a string, and a row as stored, may have.
const maxLength = 1_000_000_000

// Check refuses, wrapping adapters.ErrUnsupported, a row longer than SQLite
// stores (maxLength, a billion bytes). Nothing else is a limit: text holds
// any bytes (NUL and the \u0000 escape included), keys any length, and
// values are kept as the canonical JSON text they arrive as.
func (a *Adapter) Check(store string, it *record.Item) error {
	if n := rowSize(store, it); n > maxLength {
		return fmt.Errorf("%s takes %d bytes as a SQLite row, which holds at most %d: %w",
			it.Kind, n, maxLength, adapters.ErrUnsupported)
	}
	return nil
}

// rowSize is the size of the record SQLite builds for an item's row (its
// file format: a header of the columns' serial types, then their content),
// which SQLite refuses beyond maxLength. The row's chg, the writing
// transaction's counter, is taken at its largest (8 bytes): a row is never
// refused by SQLite once Check let it through.
func rowSize(store string, it *record.Item) int64 {
	var r recordSize
	r.text(len(store))
	if it.IsRecord() {
		r.text(len(it.Collection))
		r.text(len(it.Key))
		r.integer(it.Version)
		r.text(len(it.UpdatedAt))
		r.integer(0) // deleted: 0 and 1 alike take no content
		if it.Deleted {
			r.null()
		} else {
			r.text(jsonLen(it.Value))
		}
	} else {
		r.text(len(it.Stream))
		r.integer(it.Seq)
		r.text(len(it.Type))
		r.text(len(it.At))
		r.text(jsonLen(it.Data))
	}
	r.integer(math.MaxInt64) // chg
	return r.total()
}

// jsonLen is the length of jsonText(v).
func jsonLen(v []byte) int {
	if v == nil {
		return len("null")
	}
	return len(v)
}

type recordSize struct{ header, body int64 }

func (r *recordSize) null() { r.header++ }

func (r *recordSize) text(n int) {
	r.header += varintLen(2*int64(n) + 13)
	r.body += int64(n)
}

// integer adds an integer column: 0 and 1 take no content, others the
// fewest of 1, 2, 3, 4, 6 or 8 bytes that hold them.
func (r *recordSize) integer(v int64) {
	r.header++
	switch {
	case v == 0 || v == 1:
	case -128 <= v && v <= 127:
		r.body++
	case -32768 <= v && v <= 32767:
		r.body += 2
	case -8388608 <= v && v <= 8388607:
		r.body += 3
	case -2147483648 <= v && v <= 2147483647:
		r.body += 4
	case -140737488355328 <= v && v <= 140737488355327:
		r.body += 6
	default:
		r.body += 8
	}
}

// total adds the header's own length, a varint counting itself.
func (r *recordSize) total() int64 {
	h := r.header + 1
	for varintLen(h) != h-r.header {
		h = r.header + varintLen(h)
	}
	return h + r.body
}

// varintLen is the length of SQLite's big-endian varint of v ≥ 0.
func varintLen(v int64) int64 {
	n := int64(1)
	for v >= 0x80 && n < 9 {
		v >>= 7
		n++
	}
	return n
}
