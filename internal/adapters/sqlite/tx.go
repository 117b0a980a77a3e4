package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Begin creates the schema if needed, then starts a BEGIN IMMEDIATE
// transaction (the writer pool's _txlock) and creates the store's row inside
// it, so a rolled-back first write leaves no empty store behind.
func (a *Adapter) Begin(ctx context.Context, store string) (adapters.Tx, error) {
	if a.w == nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, ErrReadOnly)
	}
	if err := a.ensureSchema(ctx); err != nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	sqlTx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	_, err = sqlTx.ExecContext(ctx, `INSERT INTO persist_stores (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, store, now())
	if err != nil {
		sqlTx.Rollback()
		return nil, fmt.Errorf("begin on store %q: create store: %w", store, err)
	}
	return &tx{tx: sqlTx, store: store}, nil
}

// Statements a Tx prepares on first use.
const (
	stPutRecord = iota
	stPutRecordGuarded
	stPutEvent
	stPutEventGuarded
	stInsertRecord
	stInsertEvent
	stRemoveRecord
	stRemoveEvent
	stMaxSeq
	nStmts
)

var stmtText = [nStmts]string{
	stPutRecord: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, collection, key) DO UPDATE SET version = excluded.version,
			updated_at = excluded.updated_at, deleted = excluded.deleted, value = excluded.value`,
	// Guarded: an equal or newer version already stored wins.
	stPutRecordGuarded: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, collection, key) DO UPDATE SET version = excluded.version,
			updated_at = excluded.updated_at, deleted = excluded.deleted, value = excluded.value
		WHERE excluded.version > persist_records.version`,
	stPutEvent: `INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, stream, seq) DO UPDATE SET type = excluded.type, at = excluded.at, data = excluded.data`,
	stPutEventGuarded: `INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, stream, seq) DO NOTHING`,
	stInsertRecord: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
	stInsertEvent:  `INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES (?, ?, ?, ?, ?, ?)`,
	stRemoveRecord: `DELETE FROM persist_records WHERE store = ? AND collection = ? AND key = ?`,
	stRemoveEvent:  `DELETE FROM persist_events WHERE store = ? AND stream = ? AND seq = ?`,
	stMaxSeq:       `SELECT coalesce(max(seq), 0) FROM persist_events WHERE store = ? AND stream = ?`,
}

type tx struct {
	tx    *sql.Tx
	store string
	stmts [nStmts]*sql.Stmt // closed by database/sql when tx ends
	// Lookup queries of a full chunk, prepared once: a batch looks up ten
	// or more chunks, and preparing a 1000-parameter query each time cost
	// as much as running it.
	fullLookup map[string]*sql.Stmt
}

// lookupQuerier runs a lookup query, prepared once per transaction when it
// is for a full chunk.
func (t *tx) lookupQuerier(ctx context.Context, q string, n int) (querier, error) {
	if n != lookupChunk {
		return t.tx, nil
	}
	if st := t.fullLookup[q]; st != nil {
		return prepared{st}, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if t.fullLookup == nil {
		t.fullLookup = map[string]*sql.Stmt{}
	}
	t.fullLookup[q] = st
	return prepared{st}, nil
}

// prepared runs its statement, whatever query text it is handed.
type prepared struct{ st *sql.Stmt }

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (t *tx) stmt(ctx context.Context, i int) (*sql.Stmt, error) {
	if t.stmts[i] == nil {
		s, err := t.tx.PrepareContext(ctx, stmtText[i])
		if err != nil {
			return nil, err
		}
		t.stmts[i] = s
	}
	return t.stmts[i], nil
}

// lookupChunk bounds the keys of one lookup query (two parameters each).
const lookupChunk = 500

// Lookup joins each chunk of keys, as a VALUES list, with the primary key:
// one query per chunk instead of one per key.
// A writing transaction holds the database's write lock: lock changes nothing.
func (t *tx) Lookup(ctx context.Context, keys []*record.Item, _ bool, fn func(*record.Item) error) error {
	var recs, evs []*record.Item
	for _, k := range keys {
		if k.IsRecord() {
			recs = append(recs, k)
		} else {
			evs = append(evs, k)
		}
	}
	var it record.Item
	for len(recs) > 0 {
		n := min(len(recs), lookupChunk)
		args := make([]any, 0, 2*n+1)
		for _, k := range recs[:n] {
			args = append(args, k.Collection, k.Key)
		}
		args = append(args, t.store)
		q := `WITH k (collection, key) AS (VALUES ` + valuesList(n) + `)
			SELECT r.collection, r.key, r.version, r.updated_at, r.deleted, r.value
			FROM k JOIN persist_records r
			ON r.store = ? AND r.collection = k.collection AND r.key = k.key`
		qr, err := t.lookupQuerier(ctx, q, n)
		if err != nil {
			return fmt.Errorf("look up records: %w", err)
		}
		if err := scanRecords(ctx, qr, q, args, &it, fn); err != nil {
			return fmt.Errorf("look up records: %w", err)
		}
		recs = recs[n:]
	}
	for len(evs) > 0 {
		n := min(len(evs), lookupChunk)
		args := make([]any, 0, 2*n+1)
		for _, k := range evs[:n] {
			args = append(args, k.Stream, k.Seq)
		}
		args = append(args, t.store)
		q := `WITH k (stream, seq) AS (VALUES ` + valuesList(n) + `)
			SELECT e.stream, e.seq, e.type, e.at, e.data
			FROM k JOIN persist_events e
			ON e.store = ? AND e.stream = k.stream AND e.seq = k.seq`
		qr, err := t.lookupQuerier(ctx, q, n)
		if err != nil {
			return fmt.Errorf("look up events: %w", err)
		}
		if err := scanEvents(ctx, qr, q, args, &it, fn); err != nil {
			return fmt.Errorf("look up events: %w", err)
		}
		evs = evs[n:]
	}
	return nil
}

// valuesList is "(?, ?), (?, ?), …" with n pairs.
func valuesList(n int) string {
	return "(?, ?)" + strings.Repeat(", (?, ?)", n-1)
}

func (t *tx) MaxSeq(ctx context.Context, streams []string) (map[string]int64, error) {
	st, err := t.stmt(ctx, stMaxSeq)
	if err != nil {
		return nil, fmt.Errorf("max seq: %w", err)
	}
	m := make(map[string]int64, len(streams))
	for _, s := range streams {
		var n int64
		if err := st.QueryRowContext(ctx, t.store, s).Scan(&n); err != nil {
			return nil, fmt.Errorf("max seq of stream %q: %w", s, err)
		}
		m[s] = n
	}
	return m, nil
}

// ErrIncomplete is returned by Put for an item without the fields a stored
// row needs (version and updated_at, or seq and at).
var ErrIncomplete = errors.New("incomplete item")

// Put runs one prepared statement per item: in-process, a statement costs
// about what a row in a set-based statement would.
func (t *tx) Put(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	if _, ok := putStmt[mode]; !ok {
		return fmt.Errorf("put: unknown mode %d", mode)
	}
	for _, it := range items {
		var err error
		switch it.Kind {
		case record.KindRecord:
			err = t.putRecord(ctx, it, mode)
		case record.KindEvent:
			err = t.putEvent(ctx, it, mode)
		default:
			err = fmt.Errorf("put: a %s line is not a record or an event", it.Kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// putStmt picks a kind's statement for mode.
var putStmt = map[adapters.PutMode][2]int{
	adapters.Overwrite: {stPutRecord, stPutEvent},
	adapters.Guarded:   {stPutRecordGuarded, stPutEventGuarded},
	adapters.Fresh:     {stInsertRecord, stInsertEvent},
}

func (t *tx) putRecord(ctx context.Context, it *record.Item, mode adapters.PutMode) error {
	if it.Version < 1 || it.UpdatedAt == "" {
		return fmt.Errorf("put record %q/%q: version %d, updated_at %q: %w",
			it.Collection, it.Key, it.Version, it.UpdatedAt, ErrIncomplete)
	}
	i := putStmt[mode][0]
	st, err := t.stmt(ctx, i)
	if err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	var value any // NULL for a tombstone
	var deleted int64
	if it.Deleted {
		deleted = 1
	} else {
		value = jsonText(it.Value)
	}
	if _, err := st.ExecContext(ctx, t.store, it.Collection, it.Key, it.Version, it.UpdatedAt, deleted, value); err != nil {
		return fmt.Errorf("put record %q/%q: %w", it.Collection, it.Key, existing(err))
	}
	return nil
}

func (t *tx) putEvent(ctx context.Context, it *record.Item, mode adapters.PutMode) error {
	if it.Seq < 1 || it.At == "" {
		return fmt.Errorf("put event %q/%d: at %q: %w", it.Stream, it.Seq, it.At, ErrIncomplete)
	}
	i := putStmt[mode][1]
	st, err := t.stmt(ctx, i)
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}
	if _, err := st.ExecContext(ctx, t.store, it.Stream, it.Seq, it.Type, it.At, jsonText(it.Data)); err != nil {
		return fmt.Errorf("put event %q/%d: %w", it.Stream, it.Seq, existing(err))
	}
	return nil
}

// existing marks a primary key violation as adapters.ErrExists.
func existing(err error) error {
	var serr sqlite3.Error
	if errors.As(err, &serr) && serr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
		return fmt.Errorf("%w: %w", adapters.ErrExists, err)
	}
	return err
}

// jsonText binds a value as TEXT (a []byte would be stored as a BLOB), with
// an absent value stored as the JSON null it means.
func jsonText(b []byte) string {
	if b == nil {
		return "null"
	}
	return string(b)
}

func (t *tx) Remove(ctx context.Context, keys []*record.Item) error {
	for _, k := range keys {
		var err error
		if k.IsRecord() {
			var st *sql.Stmt
			if st, err = t.stmt(ctx, stRemoveRecord); err == nil {
				_, err = st.ExecContext(ctx, t.store, k.Collection, k.Key)
			}
			if err != nil {
				return fmt.Errorf("remove record %q/%q: %w", k.Collection, k.Key, err)
			}
			continue
		}
		var st *sql.Stmt
		if st, err = t.stmt(ctx, stRemoveEvent); err == nil {
			_, err = st.ExecContext(ctx, t.store, k.Stream, k.Seq)
		}
		if err != nil {
			return fmt.Errorf("remove event %q/%d: %w", k.Stream, k.Seq, err)
		}
	}
	return nil
}

func (t *tx) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	return scan(ctx, t.tx, t.store, f, fn)
}

func (t *tx) Clear(ctx context.Context) error {
	for _, q := range []string{
		"DELETE FROM persist_records WHERE store = ?",
		"DELETE FROM persist_events WHERE store = ?",
	} {
		if _, err := t.tx.ExecContext(ctx, q, t.store); err != nil {
			return fmt.Errorf("clear store %q: %w", t.store, err)
		}
	}
	return nil
}

func (t *tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit on store %q: %w", t.store, err)
	}
	return nil
}

func (t *tx) Rollback() error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback on store %q: %w", t.store, err)
	}
	return nil
}
