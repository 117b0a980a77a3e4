package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Times are selected as text (with the session in UTC, as Open sets it:
// "2026-11-25 12:00:00.123456+00") and respelled in the canonical form by
// pgTime. The server runs the same output function either way; the client
// is spared lib/pq's parse into a time.Time and the format back, which was
// a tenth of a load's CPU on the client. to_char in SQL would cost the
// server twice the plain output (measured over 1M rows).
const (
	recordCols = `collection, key, version, updated_at::text, deleted, value`
	eventCols  = `stream, seq, type, at::text, data`
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
		if err := scanAhead(rows, record.KindRecord, fn); err != nil {
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
		if err := scanAhead(rows, record.KindEvent, fn); err != nil {
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
		var err error
		if it.UpdatedAt, err = pgTime(at); err != nil {
			return fmt.Errorf("record %q/%q: updated_at: %w", it.Collection, it.Key, err)
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
		var err error
		if it.At, err = pgTime(at); err != nil {
			return fmt.Errorf("event %q/%d: at: %w", it.Stream, it.Seq, err)
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

// A batch of scanAhead ends after aheadRows rows or aheadBytes of values,
// or after a big value.
const (
	aheadRows  = 256
	aheadBytes = 256 << 10
)

// rowBatch is rows read ahead by scanAhead: items whose time and value
// (Value for a record, Data for an event) are still the server's text,
// held in buf at spans.
type rowBatch struct {
	items []record.Item
	spans [][4]int // time, then value (-1: NULL; -2: lent) in buf
	buf   []byte
	lent  []byte // a big value, left where the driver holds it (big)
	end   bool   // the rows ended after items
	err   error  // how, when end (nil: all read)
	big   bool
}

// scanAhead is eachRecord or eachEvent, by kind, of a snapshot's scan:
// a goroutine of its own reads the rows (the protocol, TLS) a batch ahead
// while this one respells times and values canonically and calls fn, so
// that the two take a core each. What fn sees, and every error, in order,
// are as without it; fn is called on the caller's goroutine.
func scanAhead(rows *sql.Rows, kind record.Kind, fn func(*record.Item) error) error {
	defer rows.Close()
	batches := make(chan *rowBatch, 1)
	free := make(chan *rowBatch, 3)
	for range 3 {
		free <- &rowBatch{}
	}
	back, stop := make(chan struct{}, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		readRows(rows, kind, batches, free, back, stop)
	})
	defer wg.Wait()
	defer close(stop)
	var v values
	for b := range batches {
		for i := range b.items {
			if err := b.finish(i, &v); err != nil {
				return err
			}
			if err := fn(&b.items[i]); err != nil {
				return err
			}
		}
		if b.end {
			return b.err
		}
		if b.big {
			b.lent = nil
			back <- struct{}{}
		}
		free <- b
	}
	return nil
}

// finish respells item i's time and value from the server's text, with
// eachRecord's and eachEvent's messages.
func (b *rowBatch) finish(i int, v *values) error {
	it, sp := &b.items[i], b.spans[i]
	var raw []byte
	switch {
	case sp[2] >= 0:
		raw = b.buf[sp[2]:sp[3]]
	case sp[2] == -2:
		raw = b.lent
	}
	at := b.buf[sp[0]:sp[1]]
	var err error
	if it.IsRecord() {
		if it.UpdatedAt, err = pgTime(at); err != nil {
			return fmt.Errorf("record %q/%q: updated_at: %w", it.Collection, it.Key, err)
		}
		if it.Deleted && sp[2] != -1 {
			return tombstoneValue(it)
		}
		if !it.Deleted {
			if it.Value, err = v.canonical(raw, nil); err != nil {
				return fmt.Errorf("record %q/%q: value: %w", it.Collection, it.Key, err)
			}
		}
		return nil
	}
	if it.At, err = pgTime(at); err != nil {
		return fmt.Errorf("event %q/%d: at: %w", it.Stream, it.Seq, err)
	}
	if it.Data, err = v.canonical(raw, nil); err != nil {
		return fmt.Errorf("event %q/%d: data: %w", it.Stream, it.Seq, err)
	}
	return nil
}

// readRows reads rows into batches for scanAhead until they end or stop
// is closed. After a big value it waits until the batch comes back, so
// that no more than one huge value is held at once.
func readRows(rows *sql.Rows, kind record.Kind, out chan<- *rowBatch, free <-chan *rowBatch, back, stop <-chan struct{}) {
	what := "record"
	var it record.Item
	var at, raw sql.RawBytes
	dest := []any{&it.Collection, &it.Key, &it.Version, &at, &it.Deleted, &raw}
	if kind == record.KindEvent {
		what, dest = "event", []any{&it.Stream, &it.Seq, &it.Type, &at, &raw}
	}
	for {
		var b *rowBatch
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.items, b.spans, b.buf, b.end, b.err, b.big = b.items[:0], b.spans[:0], b.buf[:0], false, nil, false
		for len(b.items) < aheadRows && len(b.buf) < aheadBytes && !b.big {
			if !rows.Next() {
				b.end = true
				if err := rows.Err(); err != nil {
					b.err = fmt.Errorf("read %ss: %w", what, err)
				}
				break
			}
			it = record.Item{Kind: kind}
			if err := rows.Scan(dest...); err != nil {
				b.end, b.err = true, fmt.Errorf("read %s: %w", what, err)
				break
			}
			sp := [4]int{len(b.buf), 0, -1, -1}
			b.buf = append(b.buf, at...)
			sp[1] = len(b.buf)
			switch {
			case len(raw) >= record.BigValue:
				// Not copied: the reading waits until the batch is back,
				// and the driver keeps it until the next row.
				sp[2], b.lent, b.big = -2, raw, true
			case raw != nil:
				sp[2] = len(b.buf)
				b.buf = append(b.buf, raw...)
				sp[3] = len(b.buf)
			}
			b.items, b.spans = append(b.items, it), append(b.spans, sp)
		}
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

// pgTime respells a timestamptz's text output as a canonical time. In UTC
// it is "2026-11-25 12:00:00.123456+00", the fraction's trailing zeros
// left out (and the fraction with them when it is zero); a session set to
// another time zone shows an offset, which time.Parse handles.
func pgTime(b []byte) (string, error) {
	var c [len(canonTime)]byte
	if utcTime(b, &c) {
		if s := string(c[:]); record.IsCanonicalTime(s) {
			return s, nil
		}
	}
	s := string(b)
	for _, layout := range []string{"2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999-07:00",
		"2006-01-02 15:04:05.999999-07:00:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			if y := t.UTC().Year(); y < 1 || y > 9999 {
				break
			}
			return record.FormatTime(t), nil
		}
	}
	return "", fmt.Errorf("%w: %q is not a time Persist can hold (years 0001 to 9999, in UTC)", record.ErrTime, s)
}

const canonTime = "2006-01-02T15:04:05.000000Z"

// utcTime respells a UTC timestamptz's text in c, the canonical layout,
// unless b has another shape. The digits are not checked.
func utcTime(b []byte, c *[len(canonTime)]byte) bool {
	n := len(b)
	if n < 22 || n > 29 || b[4] != '-' || b[10] != ' ' || string(b[n-3:]) != "+00" || n != 22 && b[19] != '.' {
		return false
	}
	copy(c[:], canonTime)
	copy(c[:10], b[:10])
	copy(c[11:19], b[11:19])
	if n > 22 {
		copy(c[20:26], b[20:n-3])
	}
	return true
}

func tombstoneValue(it *record.Item) error {
	return adapters.TombstoneValue(it, "true",
		"UPDATE persist_records SET value = NULL WHERE deleted AND value IS NOT NULL")
}
