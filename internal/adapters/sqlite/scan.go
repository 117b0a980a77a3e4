package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// inChunk bounds the names in one IN (…) list, far below SQLite's limit on
// bound parameters.
const inChunk = 500

// part is one query of a scan: the rows of one table for some of the
// filter's names. A scan runs its parts in order; since the names are sorted
// and the primary key leads with them, the concatenation is in dump order.
type part struct {
	from  string // the table, and the index a delta reads
	where string
	args  []any
}

// parts splits a filter on column col (collection or stream) of table into
// queries. It returns none when names is empty but not nil: "only these" of
// nothing. since ≥ 0 keeps the rows changed after that counter, found
// through the table's chg index (rows never stamped have chg NULL, which
// the partial index and chg > ? both leave out).
func parts(table, store, col string, names []string, live bool, since int64, more string, moreArgs []any) []part {
	extra := more
	if live {
		extra += " AND deleted = 0"
	}
	from := table
	if since >= 0 {
		from += " INDEXED BY " + table + "_chg"
		extra += " AND chg > " + strconv.FormatInt(since, 10)
	}
	if names == nil {
		return []part{{from: from, where: "store = ?" + extra, args: append([]any{store}, moreArgs...)}}
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted) // Go compares strings bytewise, as BINARY does
	sorted = slices.Compact(sorted)
	var ps []part
	for chunk := range slices.Chunk(sorted, inChunk) {
		args := make([]any, 0, len(chunk)+1+len(moreArgs))
		args = append(args, store)
		for _, n := range chunk {
			args = append(args, n)
		}
		args = append(args, moreArgs...)
		ps = append(ps, part{
			from:  from,
			where: "store = ? AND " + col + " IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")" + extra,
			args:  args,
		})
	}
	return ps
}

func recordParts(store string, f adapters.Filter, since int64) []part {
	if f.NoRecords {
		return nil
	}
	more, args := "", []any(nil)
	if f.Keys != nil {
		if len(f.Keys) == 0 {
			return nil
		}
		more = " AND key IN (?" + strings.Repeat(", ?", len(f.Keys)-1) + ")"
		for _, k := range f.Keys {
			args = append(args, k)
		}
	}
	return parts("persist_records", store, "collection", f.Collections, f.Live, since, more, args)
}

func eventParts(store string, f adapters.Filter, since int64) []part {
	if f.NoEvents {
		return nil
	}
	more, args := "", []any(nil)
	if f.FromSeq > 0 {
		more, args = " AND seq >= ?", []any{f.FromSeq}
	}
	return parts("persist_events", store, "stream", f.Streams, false, since, more, args)
}

// count implements Snapshot.Count and the like over one transaction; since
// is as parts takes it.
func count(ctx context.Context, tx *sql.Tx, store string, f adapters.Filter, since int64) (records, events int64, err error) {
	for _, p := range recordParts(store, f, since) {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+p.from+" WHERE "+p.where, p.args...).Scan(&n); err != nil {
			return 0, 0, fmt.Errorf("count records: %w", err)
		}
		records += n
	}
	for _, p := range eventParts(store, f, since) {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+p.from+" WHERE "+p.where, p.args...).Scan(&n); err != nil {
			return 0, 0, fmt.Errorf("count events: %w", err)
		}
		events += n
	}
	return records, events, nil
}

// Each SELECT below reads a table in primary-key order, so SQLite walks the
// b-tree and never sorts (TestQueryPlans checks it); a delta reads the chg
// index and sorts what it finds.
const (
	selectRecords = "SELECT collection, key, version, updated_at, deleted, value FROM "
	orderRecords  = " ORDER BY collection, key"
	selectEvents  = "SELECT stream, seq, type, at, data FROM "
	orderEvents   = " ORDER BY stream, seq"
)

// scan implements Scan and ScanShared over one transaction; since is as
// parts takes it, mode one of canonicalValues and shares.
func scan(ctx context.Context, tx *sql.Tx, store string, f adapters.Filter, since int64, mode valueMode, fn func(*record.Item, adapters.Settle) error) error {
	for _, p := range recordParts(store, f, since) {
		if err := scanAhead(ctx, tx, selectRecords+p.from+" WHERE "+p.where+orderRecords, p.args, store, record.KindRecord, mode, fn); err != nil {
			return err
		}
	}
	for _, p := range eventParts(store, f, since) {
		if err := scanAhead(ctx, tx, selectEvents+p.from+" WHERE "+p.where+orderEvents, p.args, store, record.KindEvent, mode, fn); err != nil {
			return err
		}
	}
	return nil
}

// valueMode says how a scan hands values on.
type valueMode int

const (
	canonicalValues valueMode = iota // as record.Canonical makes them
	asStored                         // as the file holds them
	// share0 and share1 check the values of ScanShared's share and hand
	// the others on as stored, with settle to finish the check.
	share0
	share1
)

// plain adapts fn, which wants every value checked, to a scan's callback.
func plain(fn func(*record.Item) error) func(*record.Item, adapters.Settle) error {
	return func(it *record.Item, _ adapters.Settle) error { return fn(it) }
}

// scanItems calls fn for each row of a query of kind's table into the
// reused it. Values are scanned as strings, which the driver makes anyway,
// and lent to fn as bytes (see textBytes) rather than copied once more: a
// huge value costs one copy fewer.
func scanItems(ctx context.Context, q querier, query string, args []any, store string, kind record.Kind, it *record.Item, mode valueMode, fn func(*record.Item, adapters.Settle) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", readWhat(kind), err)
	}
	defer rows.Close()
	key := keyHolder{store: store}
	*it = record.Item{Kind: kind}
	for rows.Next() {
		if err := key.scan(rows, it); err != nil {
			return fmt.Errorf("%s: %w", readWhat(kind), err)
		}
		settle, err := fix(it, mode)
		if err != nil {
			return err
		}
		if err := fn(it, settle); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", readWhat(kind), err)
	}
	return nil
}

// scanAhead is scanItems of a snapshot's scan,
// with the rows read a batch ahead (adapters.ReadAhead): a goroutine of its
// own steps SQLite and converts the rows while this one makes their values
// canonical and calls fn.
func scanAhead(ctx context.Context, q querier, query string, args []any, store string, kind record.Kind, mode valueMode, fn func(*record.Item, adapters.Settle) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", readWhat(kind), err)
	}
	// Closed after ReadAhead, which stops the reading first.
	defer rows.Close()
	return readAhead(ctx, sqlRows{rows, &keyHolder{store: store}}, kind, mode, fn)
}

func readWhat(kind record.Kind) string {
	if kind == record.KindEvent {
		return "read events"
	}
	return "read records"
}

// itemRows are a query's rows, read into items of one kind; io.EOF ends
// them.
type itemRows interface {
	item(ctx context.Context, kind record.Kind, it *record.Item) error
}

// sqlRows reads database/sql's rows.
type sqlRows struct {
	rows *sql.Rows
	key  *keyHolder
}

func (r sqlRows) item(_ context.Context, kind record.Kind, it *record.Item) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	it.Kind = kind
	return r.key.scan(r.rows, it)
}

// readAhead hands rows on to fn a batch ahead, their values made
// canonical as mode says.
func readAhead(ctx context.Context, rows itemRows, kind record.Kind, mode valueMode, fn func(*record.Item, adapters.Settle) error) error {
	next := func(it *record.Item, _ *[]byte) (int, bool, error) {
		if err := rows.item(ctx, kind, it); err != nil {
			if err == io.EOF {
				return 0, false, err
			}
			return 0, false, fmt.Errorf("%s: %w", readWhat(kind), err)
		}
		// Strings of their own: nothing to copy, but a huge value waits
		// alone.
		return it.Size(), len(it.Value)+len(it.Data) >= record.BigValue, nil
	}
	return adapters.ReadAhead(ctx, next, func(it *record.Item) error {
		settle, err := fix(it, mode)
		if err != nil {
			return err
		}
		return fn(it, settle)
	})
}

// keyHolder takes a row's first two columns as the driver gives them, so
// that setKey sees their types (a text scanned into a string would take a
// blob or a number as well). store is the store the query reads, for the
// hint that mends a row.
type keyHolder struct {
	a, b  any
	store string
}

// scan scans a row of selectRecords or selectEvents into it, whose Kind
// says which.
func (k *keyHolder) scan(rows *sql.Rows, it *record.Item) error {
	if it.IsRecord() {
		var (
			deleted int64
			value   sql.NullString
		)
		if err := rows.Scan(&k.a, &k.b, &it.Version, &it.UpdatedAt, &deleted, &value); err != nil {
			return rescan(rows, it, k.store, err)
		}
		if err := setKey(it, k.a, k.b); err != nil {
			return err
		}
		return recordValue(it, deleted, value)
	}
	var data sql.NullString
	if err := rows.Scan(&k.a, &k.b, &it.Type, &it.At, &data); err != nil {
		return rescan(rows, it, k.store, err)
	}
	if err := setKey(it, k.a, k.b); err != nil {
		return err
	}
	it.Data = orNull(textBytes(data))
	return nil
}

// rescan reads a row that would not scan into an item as the driver gives
// it, for recordRow or eventRow to say which row and column, and how to
// mend them; err is the scan's.
func rescan(rows *sql.Rows, it *record.Item, store string, err error) error {
	vals := make([]any, 6)
	if !it.IsRecord() {
		vals = vals[:5]
	}
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if rows.Scan(dest...) != nil {
		return err
	}
	row := make([]driver.Value, len(vals))
	for i, v := range vals {
		row[i] = v
	}
	read := recordRow
	if !it.IsRecord() {
		read = eventRow
	}
	if named := read(row, it, store); named != nil {
		return named
	}
	return err
}

// jsonNull is what a live record or an event without a stored value reads
// as: callers get canonical JSON, never a missing value.
var jsonNull = []byte("null")

// ErrTombstoneValue is adapters.ErrTombstoneValue, for this adapter's callers.
var ErrTombstoneValue = adapters.ErrTombstoneValue

func tombstoneValue(it *record.Item, deleted int64) error {
	return adapters.TombstoneValue(it, fmt.Sprint(deleted),
		"UPDATE persist_records SET value = NULL WHERE deleted <> 0 AND value IS NOT NULL")
}

// recordValue fills a record's Deleted and Value from its columns; a
// tombstone that holds a value is refused (ErrTombstoneValue), on every
// path a row is read by.
func recordValue(it *record.Item, deleted int64, value sql.NullString) error {
	if deleted != 0 && value.Valid {
		return tombstoneValue(it, deleted)
	}
	it.Deleted = deleted != 0
	it.Value = nil
	if !it.Deleted {
		it.Value = orNull(textBytes(value))
	}
	return nil
}

// textBytes lends a scanned string's bytes, nil for NULL. Nothing writes
// into an item's value, so the string stays as it was.
func textBytes(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	if s.String == "" {
		return []byte{} // not NULL, and not JSON: said so downstream
	}
	return unsafe.Slice(unsafe.StringData(s.String), len(s.String))
}

func orNull(b []byte) []byte {
	if b == nil {
		// A fresh slice each time, so no caller can change what another sees.
		return append([]byte(nil), jsonNull...)
	}
	return b
}

// querier is what both *sql.Tx and *sql.Stmt-backed readers offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// fix makes what a row holds canonical on its way out: Persist writes
// values and times canonical, but a file is easy to edit by hand
// (sqlite3 app.db "UPDATE …"), and every reader must still see canonical
// JSON, or a value that is not JSON named as such rather than passed on.
// Times are cheap to check, and only one in another spelling is respelled.
// A value respelled goes into a slice of its own, as every other value a
// scan yields lies in bytes of its own (snapshot.OwnBytes). In a shared
// mode, a value outside the share is left as stored, and settleValue
// returned to check it later, should the caller need to.
func fix(it *record.Item, mode valueMode) (adapters.Settle, error) {
	if err := adapters.Stored(it); err != nil {
		return nil, err
	}
	when := &it.UpdatedAt
	if !it.IsRecord() {
		when = &it.At
	}
	if !record.IsCanonicalTime(*when) {
		t, err := record.ParseTime(*when)
		if err != nil {
			return nil, badTime(it, *when, err)
		}
		*when = t
	}
	switch mode {
	case asStored:
		return nil, nil
	case share0, share1:
		if !adapters.InShare(it, int(mode-share0)) {
			return settleValue, nil
		}
	}
	var own []byte
	return nil, settleValue(it, &own)
}

// badTime is a stored time that no reading makes canonical (another
// program's: SQLite's datetime() has no offset), with the query that finds
// every such time of its table.
func badTime(it *record.Item, when string, err error) error {
	table, col, names := "persist_records", "updated_at", "store, collection, key"
	if !it.IsRecord() {
		table, col, names = "persist_events", "at", "store, stream, seq"
	}
	const canonical = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'"
	return hint.With(fmt.Errorf("%s: stored time %q: %w (was the table edited outside Persist?)", describe(it), when, err),
		"write such times as Persist does, RFC 3339 in UTC to the microsecond (2026-01-02T15:04:05.000000Z); find them: "+
			"SELECT %s, %s FROM %s WHERE %[2]s NOT GLOB %[4]s", names, col, table, canonical)
}

// settleValue makes the value of it canonical, in *buf when it is not so
// already, or says what is wrong with it.
func settleValue(it *record.Item, buf *[]byte) error {
	if err := canonical(valueOf(it), buf); err != nil {
		return fmt.Errorf("%s: stored %w", describe(it), err)
	}
	return nil
}

// canonical makes *v canonical in *buf, unless it is nil (no value) or
// canonical already, as Persist writes it: the check copies nothing.
func canonical(v *[]byte, buf *[]byte) error {
	if *v == nil {
		return nil
	}
	if ok, err := record.IsCanonical(*v); ok && err == nil {
		return nil
	}
	out, err := record.Canonical((*buf)[:0], *v)
	if err != nil {
		return fmt.Errorf("value is not valid JSON (was the file edited outside Persist?): %w", err)
	}
	*buf, *v = out, out
	return nil
}

// describe names an item for a message: record "c"/"k", event "s"/7.
func describe(it *record.Item) string {
	if it.IsRecord() {
		return fmt.Sprintf("record %q/%q", it.Collection, it.Key)
	}
	return fmt.Sprintf("event %q/%d", it.Stream, it.Seq)
}
