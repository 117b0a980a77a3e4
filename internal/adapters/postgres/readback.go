package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// ReadBack compares, on the server, the tables with the staging tables the
// last Put filled: each row staged must be found, be this transaction's
// write (its xmin), and equal the staged one column by column, values by
// jsonb equality, which is equality of canonical JSON (numbers by value,
// strings by bytes, arrays element by element, objects key by key). Only
// the rows that differ come back, as their place in the batch: the client
// parses no value and receives nothing for a batch that landed as sent.
//
// The staging tables stand for what was sent because the database is UTF8
// (ensureSchema refuses any other), so the server stores the text COPY
// sends unconverted. Items that are not what the last Put wrote are read
// back and compared in the loader (compareRows).
func (t *writeTx) ReadBack(ctx context.Context, items []*record.Item, fn func(*record.Item, string) error) error {
	var puts, removes []*record.Item
	for _, it := range items {
		if it.Kind == record.KindRemove {
			removes = append(removes, it)
		} else {
			puts = append(puts, it)
		}
	}
	if len(removes) > 0 {
		if err := t.stillThere(ctx, removes, fn); err != nil {
			return err
		}
	}
	if len(puts) == 0 {
		return nil
	}
	if samePointers(puts, t.direct) {
		return t.checkDirect(ctx, puts, fn)
	}
	if err := t.runDeferred(ctx); err != nil {
		return err
	}
	if samePointers(puts, t.staged) {
		return t.compareStaged(ctx, puts, fn)
	}
	readBackRows.Add(1)
	return t.compareRows(ctx, puts, fn)
}

// runDeferred runs the deferred triggers the transaction has queued, which
// would otherwise run at COMMIT, after the comparison, and could change the
// rows it found as sent. A batch the catalog proves ran none.
func (t *writeTx) runDeferred(ctx context.Context) error {
	if _, err := t.tx.ExecContext(ctx, `SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
		return fmt.Errorf("read back: run deferred triggers: %w", err)
	}
	return nil
}

// readBackRows counts the read-backs that read rows back to the client;
// tests hold it at zero where the server compares.
var readBackRows atomic.Int64

func samePointers(a, b []*record.Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// stillThere reports the items of removes the store still holds.
func (t *writeTx) stillThere(ctx context.Context, removes []*record.Item, fn func(*record.Item, string) error) error {
	return t.probe(ctx, removes, "", nil, func(_, key *record.Item) error {
		return fn(key, adapters.ProblemStillThere)
	})
}

// compareRows reads back the rows of puts and compares them in the client.
func (t *writeTx) compareRows(ctx context.Context, puts []*record.Item, fn func(*record.Item, string) error) error {
	want := map[*record.Item]bool{}
	var ours bool
	err := t.probe(ctx, puts, "", &ours, func(got, key *record.Item) error {
		if key == nil {
			return nil
		}
		want[key] = true
		switch p := adapters.Differs(key, got); {
		case !ours:
			return fn(key, adapters.ProblemNotOurs)
		case p != "":
			return fn(key, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	// Of a key named twice, the last counts: probe matched that one.
	last := map[string]*record.Item{}
	for _, it := range puts {
		last[addressOf(it)] = it
	}
	for _, it := range puts {
		if !want[it] && last[addressOf(it)] == it {
			if err := fn(it, adapters.ProblemMissing); err != nil {
				return err
			}
		}
	}
	return nil
}

// addressOf names the row an item addresses, as a map key.
func addressOf(it *record.Item) string {
	if it.IsRecord() {
		return fmt.Sprintf("r%q/%q", it.Collection, it.Key)
	}
	return fmt.Sprintf("e%q/%d", it.Stream, it.Seq)
}

// staged describes one kind's table and staging table for compareStaged.
type staged struct {
	kind         record.Kind
	table, stage string
	name, key    string   // the columns that address a row after the store
	cols         []string // the other columns, compared in this order
}

var (
	stagedRecords = staged{record.KindRecord, "persist_records", "pg_temp.persist_stage_records", "collection", "key",
		[]string{"version", "updated_at", "deleted", "value"}}
	stagedEvents = staged{record.KindEvent, "persist_events", "pg_temp.persist_stage_events", "stream", "seq",
		[]string{"type", "at", "data"}}
)

// problems names what compareStaged's queries report: 0 missing, 1 another
// transaction's row, then the columns in order.
func (k *staged) problems() []string {
	out := []string{adapters.ProblemMissing, adapters.ProblemNotOurs}
	for _, c := range k.cols {
		out = append(out, c+" differs")
	}
	return out
}

// source is the staged rows, the last of each key only when the batch may
// name one twice (not in strictly increasing order).
func (k *staged) source(dups bool) string {
	if !dups {
		return k.stage
	}
	return `(SELECT DISTINCT ON (` + k.name + `, ` + k.key + `) * FROM ` + k.stage +
		` ORDER BY ` + k.name + `, ` + k.key + `, ord DESC)`
}

// row selects a table row's columns as r, with img, the compared columns
// as one record.
func (k *staged) row() string {
	cols := `p.` + strings.Join(k.cols, ", p.")
	return `p.` + k.name + `, p.` + k.key + `, ` + cols + `, ROW(` + cols + `) AS img,
		p.xmin = pg_current_xact_id()::xid AS ours FROM ` + k.table + ` p`
}

// verdict selects, for a staged row s and what the table holds r, the row's
// place and its problem, and keeps the rows that have one. Rows are first
// compared as binary images (*<>, a memcmp of each column), which is the
// cheapest comparison the server has: equal images are equal rows. Only
// where they differ are the columns compared by their types' equality,
// under which a jsonb 1.50 equals 1.5 (as their canonical forms do).
func (k *staged) verdict() (sel, where string) {
	var c, w strings.Builder
	c.WriteString(`s.ord, CASE WHEN r.` + k.key + ` IS NULL THEN 0 WHEN NOT r.ours THEN 1`)
	w.WriteString(`r.` + k.key + ` IS NULL OR NOT r.ours OR r.img *<> ROW(s.` + strings.Join(k.cols, ", s.") + `) AND (`)
	for i, col := range k.cols {
		d := `r.` + col + ` IS DISTINCT FROM s.` + col
		fmt.Fprintf(&c, ` WHEN %s THEN %d`, d, i+2)
		if i > 0 {
			w.WriteString(` OR `)
		}
		w.WriteString(d)
	}
	c.WriteString(` END`)
	w.WriteString(`)`)
	return c.String(), w.String()
}

// rangeQuery compares the staged rows with the table rows read by index
// ranges: each name's keys lie close together when the stream is in dump
// order, so each name's rows are read from its lowest staged key to its
// highest (probing 5000 keys one by one cost the server seven times as
// much). A range is read up to twice as many rows as it has keys, plus a
// margin, so that keys spread thinly among others cost no more than
// probes: those that a range cut short reports missing are probed by
// probeQuery.
func (k *staged) rangeQuery(dups bool) string {
	sel, where := k.verdict()
	return `WITH b AS (SELECT ` + k.name + ` AS n, min(` + k.key + `) AS lo, max(` + k.key + `) AS hi, count(*) AS c
			FROM ` + k.stage + ` GROUP BY ` + k.name + `),
		r AS (SELECT x.* FROM b CROSS JOIN LATERAL (SELECT ` + k.row() + `
			WHERE p.store = $1 AND p.` + k.name + ` = b.n AND p.` + k.key + ` >= b.lo AND p.` + k.key + ` <= b.hi
			ORDER BY p.` + k.key + ` LIMIT 2 * b.c + 16) x)
		SELECT ` + sel + ` FROM ` + k.source(dups) + ` s
		LEFT JOIN r ON r.` + k.name + ` = s.` + k.name + ` AND r.` + k.key + ` = s.` + k.key + `
		WHERE ` + where
}

// probeQuery compares the staged rows at the places $2 with the table rows
// found by their keys, one by one.
func (k *staged) probeQuery(dups bool) string {
	sel, where := k.verdict()
	return `SELECT ` + sel + ` FROM ` + k.source(dups) + ` s
		LEFT JOIN LATERAL (SELECT ` + k.row() + `
			WHERE p.store = $1 AND p.` + k.name + ` = s.` + k.name + ` AND p.` + k.key + ` = s.` + k.key + `) r ON true
		WHERE s.ord = ANY($2::bigint[]) AND (` + where + `)`
}

// compareStaged runs the comparison of each kind puts hold, with staging
// tables that are as staging made them.
func (t *writeTx) compareStaged(ctx context.Context, puts []*record.Item, fn func(*record.Item, string) error) error {
	if err := t.checkStaging(ctx); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	for _, k := range []*staged{&stagedRecords, &stagedEvents} {
		n, dups := kindOrder(puts, k.kind)
		if n == 0 {
			continue
		}
		if err := t.compareKind(ctx, k, puts, dups, fn); err != nil {
			return fmt.Errorf("read back %ss: %w", k.kind, err)
		}
	}
	return nil
}

// kindOrder counts the items of kind and tells whether they may name a key
// twice: whether they are not in strictly increasing order.
func kindOrder(items []*record.Item, kind record.Kind) (n int, dups bool) {
	var last *record.Item
	for _, it := range items {
		if it.Kind != kind {
			continue
		}
		if last != nil && record.Compare(last, it) >= 0 {
			dups = true
		}
		last = it
		n++
	}
	return n, dups
}

func (t *writeTx) compareKind(ctx context.Context, k *staged, puts []*record.Item, dups bool, fn func(*record.Item, string) error) error {
	problems := k.problems()
	var missing []int64
	err := t.verdicts(ctx, k.rangeQuery(dups), []any{t.store}, func(ord int64, p int) error {
		if p == 0 {
			missing = append(missing, ord)
			return nil
		}
		return fn(puts[ord], problems[p])
	})
	if err != nil || len(missing) == 0 {
		return err
	}
	return t.verdicts(ctx, k.probeQuery(dups), []any{t.store, pq.Array(missing)}, func(ord int64, p int) error {
		return fn(puts[ord], problems[p])
	})
}

// verdicts runs a comparison query and calls fn with each row's place and
// problem.
func (t *writeTx) verdicts(ctx context.Context, q string, args []any, fn func(ord int64, problem int) error) error {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ord int64
		var p int
		if err := rows.Scan(&ord, &p); err != nil {
			return err
		}
		if err := fn(ord, p); err != nil {
			return err
		}
	}
	return rows.Err()
}
