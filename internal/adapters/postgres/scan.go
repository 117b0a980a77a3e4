package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Times are selected as timestamptz_send gives them: eight bytes, the
// microseconds since 2000-01-01 UTC, which lib/pq takes as a bytea in
// binary and pgTime spells canonically. The server's text output of a
// time (what updated_at::text costs) was a tenth of its work in a dump
// (a COPY of the records measured it: 3.26–3.72 s against 3.08–3.17 s), and
// the client is spared parsing it.
const (
	recordCols = `collection, key, version, pg_catalog.timestamptz_send(updated_at), deleted, value`
	eventCols  = `stream, seq, type, pg_catalog.timestamptz_send(at), data`
)

// querier is what a snapshot and a write transaction share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// where builds the WHERE clause of a scan or count; $1 is the store. With
// since, only rows written by transactions that snapshot did not see: the
// chg index finds them from xmin on.
func where(names []string, col string, live bool, since *pgPos) (string, []any) {
	var b strings.Builder
	args := []any{nil}
	b.WriteString(` WHERE store = $1`)
	if names != nil {
		args = append(args, pq.Array(names))
		b.WriteString(` AND ` + col + ` = ANY($` + strconv.Itoa(len(args)) + `::text[])`)
	}
	if live {
		b.WriteString(` AND NOT deleted`)
	}
	if since != nil {
		n := len(args)
		args = append(args, since.xmin, since.xmax, pq.Array(since.xip))
		fmt.Fprintf(&b, ` AND chg >= $%d AND (chg >= $%d OR chg = ANY ($%d::bigint[]))`, n+1, n+2, n+3)
	}
	return b.String(), args
}

// narrow adds a filter's keys (records) or first seq (events) to a WHERE
// clause that where made.
func narrow(w string, args []any, f adapters.Filter, records bool) (string, []any) {
	switch {
	case records && f.Keys != nil:
		args = append(args, pq.Array(f.Keys))
		w += ` AND key = ANY($` + strconv.Itoa(len(args)) + `::text[])`
	case !records && f.FromSeq > 0:
		args = append(args, f.FromSeq)
		w += ` AND seq >= $` + strconv.Itoa(len(args))
	}
	return w, args
}

// wantRecords and wantEvents say whether f selects any records or events: a
// non-nil empty list selects none.
func wantRecords(f adapters.Filter) bool {
	return !f.NoRecords && (f.Collections == nil || len(f.Collections) > 0) && (f.Keys == nil || len(f.Keys) > 0)
}
func wantEvents(f adapters.Filter) bool {
	return !f.NoEvents && (f.Streams == nil || len(f.Streams) > 0)
}

func count(ctx context.Context, q querier, store string, f adapters.Filter, since *pgPos) (records, events int64, err error) {
	if wantRecords(f) {
		w, args := where(f.Collections, "collection", f.Live, since)
		w, args = narrow(w, args, f, true)
		args[0] = store
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM persist_records`+w, args...).Scan(&records); err != nil {
			return 0, 0, fmt.Errorf("count records: %w", err)
		}
	}
	if wantEvents(f) {
		w, args := where(f.Streams, "stream", false, since)
		w, args = narrow(w, args, f, false)
		args[0] = store
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM persist_events`+w, args...).Scan(&events); err != nil {
			return 0, 0, fmt.Errorf("count events: %w", err)
		}
	}
	return records, events, nil
}

// scan streams a store's items in dump order. The ORDER BY matches the
// primary keys (store, collection, key) and (store, stream, seq), whose
// COLLATE "C" makes it byte order, so the index serves it without a sort.
func scan(ctx context.Context, q querier, store string, f adapters.Filter, since *pgPos, fn func(*record.Item) error) error {
	if err := orderByIndex(ctx, q, since); err != nil {
		return err
	}
	if wantRecords(f) {
		w, args := where(f.Collections, "collection", f.Live, since)
		w, args = narrow(w, args, f, true)
		args[0] = store
		rows, err := q.QueryContext(ctx, `SELECT `+recordCols+` FROM persist_records`+w+` ORDER BY collection, key`, args...)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		if err := scanAhead(ctx, rows, record.KindRecord, fn); err != nil {
			return err
		}
	}
	if wantEvents(f) {
		w, args := where(f.Streams, "stream", false, since)
		w, args = narrow(w, args, f, false)
		args[0] = store
		rows, err := q.QueryContext(ctx, `SELECT `+eventCols+` FROM persist_events`+w+` ORDER BY stream, seq`, args...)
		if err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		if err := scanAhead(ctx, rows, record.KindEvent, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachRecord calls fn for each row of a query selecting recordCols, reusing
// one Item and one value buffer. Live records always have a value (JSON null
// when absent), tombstones never. jsonb text is not canonical (it re-orders
// keys, adds spaces and keeps spellings like 1.50), so a value goes through
// record.Canonical unless the key it was asked for says what to expect:
// when the server's text is exactly that value as jsonb spells it
// (jsonbText), the expected value is used as it is. match, when given,
// finds that key for a row read (its Value and Data are not set yet); fn
// gets it beside the row. With ours, the query selects one more column,
// whether the row is this transaction's own write, scanned into *ours.
func eachRecord(rows *sql.Rows, match func(*record.Item) *record.Item, ours *bool, fn func(it, key *record.Item) error) error {
	defer rows.Close()
	var (
		it   = record.Item{Kind: record.KindRecord}
		at   sql.RawBytes
		raw  sql.RawBytes
		v    values
		dest = []any{&it.Collection, &it.Key, &it.Version, &at, &it.Deleted, &raw}
	)
	if ours != nil {
		dest = append(dest, ours)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		var key *record.Item
		var want []byte
		if match != nil {
			if key = match(&it); key != nil {
				want = key.Value
			}
		}
		if err := adapters.Stored(&it); err != nil {
			return err
		}
		var err error
		if it.UpdatedAt, err = pgTime(at); err != nil {
			return badTime(&it, err)
		}
		it.Value = nil
		if it.Deleted && raw != nil {
			return tombstoneValue(&it)
		}
		if !it.Deleted {
			if it.Value, err = v.canonical(raw, want); err != nil {
				return fmt.Errorf("record %q/%q: value: %w", it.Collection, it.Key, err)
			}
		}
		if err := fn(&it, key); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}

func eachEvent(rows *sql.Rows, match func(*record.Item) *record.Item, ours *bool, fn func(it, key *record.Item) error) error {
	defer rows.Close()
	var (
		it   = record.Item{Kind: record.KindEvent}
		at   sql.RawBytes
		raw  sql.RawBytes
		v    values
		dest = []any{&it.Stream, &it.Seq, &it.Type, &at, &raw}
	)
	if ours != nil {
		dest = append(dest, ours)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read event: %w", err)
		}
		var key *record.Item
		var want []byte
		if match != nil {
			if key = match(&it); key != nil {
				want = key.Data
			}
		}
		if err := adapters.Stored(&it); err != nil {
			return err
		}
		var err error
		if it.At, err = pgTime(at); err != nil {
			return badTime(&it, err)
		}
		if it.Data, err = v.canonical(raw, want); err != nil {
			return fmt.Errorf("event %q/%d: data: %w", it.Stream, it.Seq, err)
		}
		if err := fn(&it, key); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	return nil
}

// aheadRow is a row read ahead by scanAhead: an item whose time and value
// (Value for a record, Data for an event) are still the server's text,
// copied into the batch's bytes, or a big value left where the driver
// holds it. raw is nil for NULL.
type aheadRow struct {
	it      record.Item
	at, raw []byte
}

// scanAhead is eachRecord or eachEvent, by kind, of a snapshot's scan, with
// the rows read a batch ahead (adapters.ReadAhead): a goroutine of its own
// reads the rows (the protocol, TLS) while this one respells times and
// values canonically and calls fn.
func scanAhead(ctx context.Context, rows *sql.Rows, kind record.Kind, fn func(*record.Item) error) error {
	// Closed after ReadAhead, which stops the reading first.
	defer rows.Close()
	var v values
	return adapters.ReadAhead(ctx, rowReader(rows, kind), func(r *aheadRow) error {
		if err := r.finish(&v); err != nil {
			return err
		}
		return fn(&r.it)
	})
}

// rowReader reads the rows of a query selecting recordCols or eventCols,
// by kind, for adapters.ReadAhead. Times and values are copied into the
// batch's bytes, for the driver reuses its own at the next row, except a
// big value, which is not copied: the reading waits until it is used.
func rowReader(rows *sql.Rows, kind record.Kind) func(*aheadRow, *[]byte) (int, bool, error) {
	what := "record"
	var it record.Item
	var at, raw sql.RawBytes
	dest := []any{&it.Collection, &it.Key, &it.Version, &at, &it.Deleted, &raw}
	if kind == record.KindEvent {
		what, dest = "event", []any{&it.Stream, &it.Seq, &it.Type, &at, &raw}
	}
	return func(r *aheadRow, buf *[]byte) (int, bool, error) {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return 0, false, fmt.Errorf("read %ss: %w", what, err)
			}
			return 0, false, io.EOF
		}
		it = record.Item{Kind: kind}
		if err := rows.Scan(dest...); err != nil {
			return 0, false, fmt.Errorf("read %s: %w", what, err)
		}
		from := len(*buf)
		*buf = append(*buf, at...)
		r.it, r.at = it, (*buf)[from:]
		switch {
		case len(raw) >= record.BigValue:
			r.raw = raw
			return len(at) + it.Size(), true, nil
		case raw != nil:
			n := len(*buf)
			*buf = append(*buf, raw...)
			r.raw = (*buf)[n:]
		}
		// The names are strings of their own, and count as much.
		return len(*buf) - from + it.Size(), false, nil
	}
}

// finish respells the row's time and value from the server's text, with
// eachRecord's and eachEvent's messages.
func (r *aheadRow) finish(v *values) error {
	it := &r.it
	if err := adapters.Stored(it); err != nil {
		return err
	}
	var err error
	if it.IsRecord() {
		if it.UpdatedAt, err = pgTime(r.at); err != nil {
			return badTime(it, err)
		}
		if it.Deleted && r.raw != nil {
			return tombstoneValue(it)
		}
		if !it.Deleted {
			if it.Value, err = v.canonical(r.raw, nil); err != nil {
				return fmt.Errorf("record %q/%q: value: %w", it.Collection, it.Key, err)
			}
		}
		return nil
	}
	if it.At, err = pgTime(r.at); err != nil {
		return badTime(it, err)
	}
	if it.Data, err = v.canonical(r.raw, nil); err != nil {
		return fmt.Errorf("event %q/%d: data: %w", it.Stream, it.Seq, err)
	}
	return nil
}

// each adapts fn, which takes items alone, to eachRecord and eachEvent.
func each(fn func(*record.Item) error) func(it, _ *record.Item) error {
	return func(it, _ *record.Item) error { return fn(it) }
}

// reparsed counts the values read back that had to be parsed although the
// caller said what to expect and the store held it: values jsonbText spells
// otherwise than the server. Tests hold it at zero for the shared vectors.
var reparsed atomic.Int64

// values turns the jsonb text of row after row into canonical JSON, in
// buffers reused from row to row.
type values struct {
	buf, spelled []byte
	w            jsonbWriter
}

func (v *values) canonical(raw, want []byte) ([]byte, error) {
	if raw == nil {
		// Not written by Put, which stores an absent value as JSON null.
		raw = sql.RawBytes("null")
	}
	if want != nil {
		var ok bool
		if v.spelled, ok = v.w.spell(v.spelled[:0], want); ok && bytes.Equal(v.spelled, raw) {
			return want, nil
		}
	}
	var err error
	v.buf, err = record.Canonical(v.buf[:0], raw)
	if want != nil && bytes.Equal(v.buf, want) {
		reparsed.Add(1)
	}
	return v.buf, err
}

// pgTime respells a time as timestamptz_send gives it. A time Persist
// cannot hold (another program's: infinity, a year before 1 or after 9999)
// is an error naming it as the server would print it.
func pgTime(b []byte) (string, error) {
	if len(b) != 8 {
		return "", fmt.Errorf("%w: %d bytes where timestamptz_send gives 8", record.ErrTime, len(b))
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us >= pgMinTime && us <= pgMaxTime {
		if s, ok := record.FormatUnixMicro(us + pgEpoch); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not a time a PostgreSQL store can hold (years 0001 to 9999, in UTC)", record.ErrTime, pgTimeText(us))
}

// badTime is a stored time pgTime refused (another program's: infinity, a
// BC date), with its row and the SQL that brings such times into range.
func badTime(it *record.Item, err error) error {
	table, col, row := "persist_records", "updated_at", fmt.Sprintf("record %q/%q", it.Collection, it.Key)
	if !it.IsRecord() {
		table, col, row = "persist_events", "at", fmt.Sprintf("event %q/%d", it.Stream, it.Seq)
	}
	const first, last = "'0001-01-01 00:00:00+00'", "'9999-12-31 23:59:59.999999+00'"
	return hint.With(fmt.Errorf("%s: %s: %w (was the table edited outside Persist?)", row, col, err),
		"give such times the nearest one Persist can hold (the triggers stamp the change, so the next delta carries it): "+
			"UPDATE %s SET %s = least(greatest(%[2]s, %[3]s), %[4]s) WHERE %[2]s NOT BETWEEN %[3]s AND %[4]s", table, col, first, last)
}

// PostgreSQL's epoch, 2000-01-01 UTC, in Unix microseconds, and the years
// 0001 to 9999 as timestamptz_send counts them.
const (
	pgEpoch   = 946684800 * 1e6
	pgMinTime = -62135596800*1e6 - pgEpoch
	pgMaxTime = 253402300800*1e6 - 1 - pgEpoch
)

// pgTimeText is a time outside Persist's range as PostgreSQL prints it.
func pgTimeText(us int64) string {
	switch us {
	case math.MaxInt64:
		return "infinity"
	case math.MinInt64:
		return "-infinity"
	}
	sec, micro := us/1e6, us%1e6
	if micro < 0 {
		sec, micro = sec-1, micro+1e6
	}
	t := time.Unix(sec+pgEpoch/1e6, micro*1e3).UTC()
	if t.Year() < 1 {
		return fmt.Sprintf("%04d%s BC", 1-t.Year(), t.Format("-01-02 15:04:05.999999+00"))
	}
	return t.Format("2006-01-02 15:04:05.999999+00")
}

func tombstoneValue(it *record.Item) error {
	return adapters.TombstoneValue(it, "true",
		"UPDATE persist_records SET value = NULL WHERE deleted AND value IS NOT NULL")
}
