package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
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
		return nil, fmt.Errorf("begin on store %q: %w", store, a.writeError(err))
	}
	conn, err := a.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	// Detached from ctx: database/sql would end a transaction whose
	// context is done by closing the Conn from a goroutine of its own, and
	// a Conn.Raw under way then finds no connection (a nil dereference
	// inside database/sql). The statements take ctx; Commit checks it.
	sqlTx, err := beginBounded(ctx, conn)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("begin on store %q: %w", store, err) // not SQLite's 5 s
		}
		return nil, fmt.Errorf("begin on store %q: %w", store, a.writeError(err))
	}
	t := &tx{tx: sqlTx, conn: conn, store: store, path: a.path, ctx: ctx, committed: &a.wrote}
	err = conn.Raw(func(dc any) error {
		off, err := setTriggers(dc)
		t.triggersOff = off
		return err
	})
	if err != nil {
		t.Rollback()
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	_, err = sqlTx.ExecContext(ctx, `INSERT INTO persist_stores (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, store, now())
	if err != nil {
		t.Rollback()
		return nil, fmt.Errorf("begin on store %q: create store: %w", store, a.writeError(err))
	}
	return t, nil
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

// The writes carry chg, the transaction's stamp (see stamp), as their last
// parameter.
var stmtText = [nStmts]string{
	stPutRecord: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, collection, key) DO UPDATE SET version = excluded.version,
			updated_at = excluded.updated_at, deleted = excluded.deleted, value = excluded.value, chg = excluded.chg`,
	// Guarded: an equal or newer version already stored wins.
	stPutRecordGuarded: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, collection, key) DO UPDATE SET version = excluded.version,
			updated_at = excluded.updated_at, deleted = excluded.deleted, value = excluded.value, chg = excluded.chg
		WHERE excluded.version > persist_records.version`,
	stPutEvent: `INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, stream, seq) DO UPDATE SET type = excluded.type, at = excluded.at, data = excluded.data,
			chg = excluded.chg`,
	stPutEventGuarded: `INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (store, stream, seq) DO NOTHING`,
	stInsertRecord: `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	stInsertEvent:  `INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	stRemoveRecord: `DELETE FROM persist_records WHERE store = ? AND collection = ? AND key = ?`,
	stRemoveEvent:  `DELETE FROM persist_events WHERE store = ? AND stream = ? AND seq = ?`,
	stMaxSeq: `SELECT coalesce(max(seq), 0), EXISTS (SELECT 1 FROM persist_events WHERE store = ?1 AND stream = ?2 AND seq >= '')
		FROM persist_events WHERE store = ?1 AND stream = ?2`,
}

type tx struct {
	tx        *sql.Tx
	conn      *sql.Conn    // the connection tx runs on, given back when it ends
	committed *atomic.Bool // the adapter's wrote: set by a commit
	store     string
	path      string          // the database file, for hints
	ctx       context.Context // Begin's: a transaction whose context is done does not commit
	// chg is the counter this transaction stamps its rows with, 0 until
	// its first write (stamp).
	chg   int64
	stmts [nStmts]*sql.Stmt // closed by database/sql when tx ends
	// unwritten names the items a guarded Put left as the store had them
	// (an equal or newer version, an event already there), for ReadBack:
	// they are not this transaction's writes.
	unwritten map[address]bool
	// Look-up queries of a full chunk, and range queries (span.go),
	// prepared once: a batch looks up ten or more chunks, and preparing a
	// 1000-parameter query each time cost as much as running it.
	fullLookup map[string]*sql.Stmt
	// proof is asMade's answer, 0 until asked: 1 the schema is this
	// release's, so that rows are stored as bound (proof.go), -1 not.
	proof int8
	// wrote is the items Put's statements ran for, in order, for ReadBack
	// to tell where asMade holds; unprovable says a Remove or Clear may
	// have taken some away since.
	wrote      []*record.Item
	unprovable bool
	// triggersOff: the connection runs no trigger (setTriggers).
	triggersOff bool
	// c runs the puts (cput.go); noC: the connection gives no handle.
	c   *cPut
	noC bool
	// namesChecked: namesText found every name of the store text.
	namesChecked bool
}

// namesText refuses, once a transaction, a write or look-up in a store where
// a record's collection or an event's stream is kept as another type
// (oddNames): the statements seek text, and would write a twin beside it.
func (t *tx) namesText(ctx context.Context) error {
	if t.namesChecked {
		return nil
	}
	if err := oddNames(ctx, t.tx, t.store); err != nil {
		return err
	}
	t.namesChecked = true
	return nil
}

// closeC finalizes what c prepared, before the transaction ends.
func (t *tx) closeC() {
	if t.c != nil {
		t.c.close()
		t.c = nil
	}
}

// lookupQuerier runs a lookup query, prepared once per transaction when it
// is for a full chunk.
func (t *tx) lookupQuerier(ctx context.Context, q string, n int) (querier, error) {
	if n != lookupChunk {
		return t.tx, nil
	}
	st, err := t.cachedStmt(ctx, q)
	if err != nil {
		return nil, err
	}
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

// Lock looks keys up: a writing transaction holds the database's write
// lock, so what it reads stays as it is until the transaction ends. A
// stored value that is the key's own value is handed on as that slice,
// anything else made canonical.
func (t *tx) Lock(ctx context.Context, keys []*record.Item, fn func(*record.Item) error) error {
	if err := t.namesText(ctx); err != nil {
		return fmt.Errorf("look up: %w", err)
	}
	var buf []byte
	return t.lookup(ctx, keys, func(got *record.Item, i int) error {
		v := valueOf(got)
		if want := *valueOf(keys[i]); want != nil && bytes.Equal(*v, want) {
			*v = want
		} else if err := canonical(v, &buf); err != nil {
			return fmt.Errorf("%s: stored %w", describe(got), err)
		}
		return fn(got)
	})
}

// lookup joins each chunk of keys, as a VALUES list, with the primary key:
// one query per chunk instead of one per key. fn gets each row as stored,
// and the index in keys of the key that asked for it.
func (t *tx) lookup(ctx context.Context, keys []*record.Item, fn func(got *record.Item, i int) error) error {
	var recs, evs []int
	for i, k := range keys {
		if k.IsRecord() {
			recs = append(recs, i)
		} else {
			evs = append(evs, i)
		}
	}
	var it record.Item
	for len(recs) > 0 {
		n := chunkLen(keys, recs)
		args := make([]any, 0, 2*n+1)
		for _, i := range recs[:n] {
			args = append(args, keys[i].Collection, keys[i].Key)
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
		m := matcher{keys: keys, idx: recs[:n]}
		if err := scanItems(ctx, qr, q, args, t.store, record.KindRecord, &it, asStored, plain(m.match(fn))); err != nil {
			return fmt.Errorf("look up records: %w", err)
		}
		recs = recs[n:]
	}
	for len(evs) > 0 {
		n := chunkLen(keys, evs)
		args := make([]any, 0, 2*n+1)
		for _, i := range evs[:n] {
			args = append(args, keys[i].Stream, keys[i].Seq)
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
		m := matcher{keys: keys, idx: evs[:n]}
		if err := scanItems(ctx, qr, q, args, t.store, record.KindEvent, &it, asStored, plain(m.match(fn))); err != nil {
			return fmt.Errorf("look up events: %w", err)
		}
		evs = evs[n:]
	}
	return nil
}

// chunkLen is how many of the keys idx names the next lookup query takes:
// up to lookupChunk, but a key with a huge value alone. Persist's tables
// are WITHOUT ROWID, so a row is its key's b-tree entry, and SQLite reads a
// huge row whole both to hand its value over and to compare any key it
// seeks past it with; in one query the two would be held at once, beside
// the value the driver copied.
func chunkLen(keys []*record.Item, idx []int) int {
	n := min(len(idx), lookupChunk)
	for j, i := range idx[:n] {
		if len(*valueOf(keys[i])) >= bigBind {
			return max(j, 1)
		}
	}
	return n
}

// matcher finds the key of each row a lookup of one chunk reads: the rows
// come in the order of the VALUES list that drives the join, so it walks
// the chunk's keys in step with them, and falls back on a map should they
// not.
type matcher struct {
	keys []*record.Item
	idx  []int // the chunk: indexes in keys
	next int
	by   map[address]int
}

func (m *matcher) match(fn func(got *record.Item, i int) error) func(*record.Item) error {
	return func(got *record.Item) error {
		for j := m.next; j < len(m.idx); j++ {
			if sameAddress(m.keys[m.idx[j]], got) {
				m.next = j + 1
				return fn(got, m.idx[j])
			}
		}
		if m.by == nil {
			m.by = make(map[address]int, len(m.idx))
			for _, i := range m.idx {
				m.by[addressOf(m.keys[i])] = i
			}
		}
		i, ok := m.by[addressOf(got)]
		if !ok {
			// The lookup joins on the key columns: a row of another key
			// comes back only where they compare other than byte by byte.
			return hint.With(fmt.Errorf("%s read back, which was not asked for: a key column compares other than byte by byte "+
				"(a COLLATE in its declaration? was the table made outside Persist?)", describe(got)),
				"make the key columns order bytes: declare them without COLLATE (sqlite3 FILE .schema shows them), as Persist makes them")
		}
		return fn(got, i)
	}
}

// address names the row an item addresses.
type address struct {
	record    bool
	name, key string // collection and key, or stream
	seq       int64
}

func addressOf(it *record.Item) address {
	if it.IsRecord() {
		return address{record: true, name: it.Collection, key: it.Key}
	}
	return address{name: it.Stream, seq: it.Seq}
}

func sameAddress(a, b *record.Item) bool {
	if a.IsRecord() != b.IsRecord() {
		return false
	}
	if a.IsRecord() {
		return a.Collection == b.Collection && a.Key == b.Key
	}
	return a.Stream == b.Stream && a.Seq == b.Seq
}

// valueOf points at an item's value: a record's Value, an event's Data.
func valueOf(it *record.Item) *[]byte {
	if it.IsRecord() {
		return &it.Value
	}
	return &it.Data
}

// ReadBack reads back what items address and compares it with them. A
// stored value is compared as stored first: Persist stores values
// canonical, so only one that differs is parsed, in case it is the same
// value spelled otherwise. What this transaction's own statements wrote,
// exactly as asked about, is not read where the schema proves it stored
// as bound (proof.go).
func (t *tx) ReadBack(ctx context.Context, items []*record.Item, fn func(*record.Item, string) error) error {
	defer func() { t.wrote = t.wrote[:0] }()
	items, err := t.unproven(ctx, items)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	var puts, removes []*record.Item
	for _, it := range items {
		if it.Kind == record.KindRemove {
			removes = append(removes, it)
		} else {
			puts = append(puts, it)
		}
	}
	err = t.lookup(ctx, removes, func(_ *record.Item, i int) error {
		return fn(removes[i], adapters.ProblemStillThere)
	})
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	// Of a key named twice, the last naming is what the store must hold.
	puts = record.SortLast(puts, record.Compare)
	found := make([]bool, len(puts))
	var buf []byte
	err = t.lookupSorted(ctx, puts, func(got *record.Item, i int) error {
		found[i] = true
		if t.unwritten[addressOf(puts[i])] {
			return fn(puts[i], adapters.ProblemNotOurs)
		}
		if p := differs(puts[i], got, &buf); p != "" {
			return fn(puts[i], p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	for i, it := range puts {
		if !found[i] {
			if err := fn(it, adapters.ProblemMissing); err != nil {
				return err
			}
		}
	}
	return nil
}

// differs is adapters.Differs for a row read as stored: a value that
// differs is made canonical and compared again.
func differs(want, got *record.Item, buf *[]byte) string {
	p := adapters.Differs(want, got)
	if p != "value differs" && p != "data differs" {
		return p
	}
	if err := canonical(valueOf(got), buf); err != nil {
		return "stored " + err.Error()
	}
	return adapters.Differs(want, got)
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
		var odd bool
		err := st.QueryRowContext(ctx, t.store, s).Scan(&n, &odd)
		if err != nil || odd {
			// A seq kept as text or a blob sorts after every number, so
			// max() is it (and may not convert): say which, and how to
			// mend it.
			oerr := oddRow(ctx, t.tx, record.KindEvent, oddSeqSQL, t.store, s)
			switch {
			case oerr != nil && (err == nil || errors.Is(oerr, ErrKeyType)):
				err = oerr
			case err == nil:
				err = fmt.Errorf("%w: a seq that is not a number", ErrKeyType) // odd, and then none found
			}
		}
		if err != nil {
			return nil, fmt.Errorf("max seq of stream %q: %w", s, err)
		}
		m[s] = n
	}
	return m, nil
}

// ErrIncomplete is returned by Put for an item without the fields a stored
// row needs (version and updated_at, or seq and at).
var ErrIncomplete = errors.New("incomplete item")

// rowExec runs st, one row's statement, on ctx without its cancellation,
// once ctx is checked: the driver runs a cancellable statement on a
// goroutine of its own, which cost a load more CPU in scheduling than
// SQLite spent inserting. A row's statement is short; the loop over rows
// stops at the next one.
func rowExec(ctx context.Context, st *sql.Stmt, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st.ExecContext(context.WithoutCancel(ctx), args...)
}

// Put runs one prepared statement per item: in-process, a statement costs
// about what a row in a set-based statement would. The statements run in C,
// many rows to a call (putC, cput.go), or through database/sql (rowExec)
// where the driver gives no SQLite handle.
func (t *tx) Put(ctx context.Context, items []*record.Item, mode adapters.PutMode) error {
	if _, ok := putStmt[mode]; !ok {
		return fmt.Errorf("put: unknown mode %d", mode)
	}
	if err := t.namesText(ctx); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := t.stamp(ctx); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if ok, err := t.putC(ctx, items, mode); ok {
		if err != nil {
			t.unprovable = true
			return err
		}
		t.wrote = append(t.wrote, items...)
		return nil
	}
	for _, it := range items {
		err := checkPut(it)
		switch {
		case err != nil:
		case it.Kind == record.KindRecord:
			err = t.putRecord(ctx, it, mode)
		default:
			err = t.putEvent(ctx, it, mode)
		}
		if err != nil {
			t.unprovable = true
			return err
		}
	}
	t.wrote = append(t.wrote, items...)
	return nil
}

// putStmt picks a kind's statement for mode.
var putStmt = map[adapters.PutMode][2]int{
	adapters.Overwrite: {stPutRecord, stPutEvent},
	adapters.Guarded:   {stPutRecordGuarded, stPutEventGuarded},
	adapters.Fresh:     {stInsertRecord, stInsertEvent},
}

// putRecord and putEvent run one item's statement, checked by checkPut.
func (t *tx) putRecord(ctx context.Context, it *record.Item, mode adapters.PutMode) error {
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
	res, err := rowExec(ctx, st, t.store, it.Collection, it.Key, it.Version, it.UpdatedAt, deleted, value, t.chg)
	if err != nil {
		return putError(it, err)
	}
	t.unbind(i, it.Value)
	return t.written(it, res)
}

func (t *tx) putEvent(ctx context.Context, it *record.Item, mode adapters.PutMode) error {
	i := putStmt[mode][1]
	st, err := t.stmt(ctx, i)
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}
	res, err := rowExec(ctx, st, t.store, it.Stream, it.Seq, it.Type, it.At, jsonText(it.Data), t.chg)
	if err != nil {
		return putError(it, err)
	}
	t.unbind(i, it.Data)
	return t.written(it, res)
}

// bigBind is the size of a value from which a statement that bound it is
// closed once it has run.
const bigBind = 4 << 20

// unbind closes statement i after it wrote a huge value v: SQLite keeps its
// own copy of a bound value until the statement runs again, and that copy
// would otherwise sit beside the value read back and the batch's own.
// Closing resets the statement and clears its bindings; the next put
// prepares it again (from the driver's cache of statements).
func (t *tx) unbind(i int, v []byte) {
	if len(v) < bigBind || t.stmts[i] == nil {
		return
	}
	t.stmts[i].Close()
	t.stmts[i] = nil
}

// written notes whether a put's statement wrote it: a guarded one leaves
// what the store holds when that is as new, and ReadBack must then not take
// the row for this transaction's.
func (t *tx) written(it *record.Item, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	t.noteWritten(it, n)
	return nil
}

// noteWritten notes that the statement for it changed n rows.
func (t *tx) noteWritten(it *record.Item, n int64) {
	switch {
	case n == 0:
		if t.unwritten == nil {
			t.unwritten = map[address]bool{}
		}
		t.unwritten[addressOf(it)] = true
	case t.unwritten != nil:
		delete(t.unwritten, addressOf(it))
	}
}

// putC puts items through cPut, and reports false (having written
// nothing) where the connection gives no SQLite handle.
func (t *tx) putC(ctx context.Context, items []*record.Item, mode adapters.PutMode) (bool, error) {
	if t.noC {
		return false, nil
	}
	var err error
	ok, rerr := withHandle(t.conn, func(c *sqlite3.SQLiteConn) error {
		if t.c == nil {
			t.c = &cPut{db: handle(c)}
		}
		err = t.c.putRows(ctx, t.store, t.chg, items, mode, t.noteWritten)
		return nil
	})
	t.noC = !ok
	if rerr != nil {
		return true, rerr
	}
	return ok, err
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
// an absent value stored as the JSON null it means. The string shares b's
// bytes rather than copy them: the driver copies what it binds before Exec
// returns, and nothing changes b meanwhile, so a huge value is not held
// once more for the length of the call.
func jsonText(b []byte) string {
	if b == nil {
		return "null"
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// stamp bumps the change counter once per transaction, at its first
// write, and sets quiet: the rows this transaction writes carry the counter
// it got, so the triggers for other writers need not fire. Commit clears
// quiet again.
func (t *tx) stamp(ctx context.Context) error {
	if t.chg != 0 {
		return nil
	}
	err := t.tx.QueryRowContext(ctx, `UPDATE persist_clock SET chg = chg + 1, quiet = 1 RETURNING chg`).Scan(&t.chg)
	if err == nil {
		// A counter used again (by hand) is another history: a new token.
		_, err = t.tx.ExecContext(ctx, `INSERT INTO persist_history (chg, token) VALUES (?, ?)
			ON CONFLICT (chg) DO UPDATE SET token = excluded.token`, t.chg, newToken())
	}
	if err == nil {
		// What another program's last insert may have left (schema.go,
		// priorDDL); a file the release before made has no such table.
		if _, perr := t.tx.ExecContext(ctx, `DELETE FROM persist_prior`); perr != nil && !strings.Contains(perr.Error(), "no such table") {
			err = perr
		}
	}
	if err != nil {
		t.chg = 0
		return fmt.Errorf("bump the change counter: %w", err)
	}
	return nil
}

// removed notes that rows of the store were deleted outright, so that a
// delta from a cursor older than this transaction is refused.
func (t *tx) removed(ctx context.Context) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO persist_removals (store, chg) VALUES (?, ?)
		ON CONFLICT (store) DO UPDATE SET chg = max(chg, excluded.chg)`, t.store, t.chg)
	if err != nil {
		return fmt.Errorf("log the removal: %w", err)
	}
	return nil
}

func (t *tx) Remove(ctx context.Context, keys []*record.Item) error {
	if err := t.namesText(ctx); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if err := t.stamp(ctx); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	var n int64
	t.unprovable = true
	for _, k := range keys {
		var err error
		var res sql.Result
		if k.IsRecord() {
			var st *sql.Stmt
			if st, err = t.stmt(ctx, stRemoveRecord); err == nil {
				res, err = rowExec(ctx, st, t.store, k.Collection, k.Key)
			}
			if err != nil {
				return fmt.Errorf("remove record %q/%q: %w", k.Collection, k.Key, err)
			}
		} else {
			var st *sql.Stmt
			if st, err = t.stmt(ctx, stRemoveEvent); err == nil {
				res, err = rowExec(ctx, st, t.store, k.Stream, k.Seq)
			}
			if err != nil {
				return fmt.Errorf("remove event %q/%d: %w", k.Stream, k.Seq, err)
			}
		}
		if m, err := res.RowsAffected(); err == nil {
			n += m
		} else {
			n++
		}
	}
	if n > 0 {
		return t.removed(ctx)
	}
	return nil
}

// Scan reads the store as this transaction sees it; a Since is for
// snapshots only.
func (t *tx) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	if f.Since != "" {
		return errors.New("scan: a transaction's scan takes no Since")
	}
	if err := namedRows(ctx, t.tx, t.store, f); err != nil {
		return err
	}
	return scan(ctx, t.tx, t.store, f, -1, canonicalValues, plain(fn))
}

func (t *tx) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	if f.Since != "" {
		return 0, 0, errors.New("count: a transaction's count takes no Since")
	}
	if err := namedRows(ctx, t.tx, t.store, f); err != nil {
		return 0, 0, err
	}
	return count(ctx, t.tx, t.store, f, -1)
}

func (t *tx) Clear(ctx context.Context) error {
	if err := t.stamp(ctx); err != nil {
		return fmt.Errorf("clear store %q: %w", t.store, err)
	}
	t.unprovable = true
	var n int64
	for _, q := range []string{
		"DELETE FROM persist_records WHERE store = ?",
		"DELETE FROM persist_events WHERE store = ?",
	} {
		res, err := t.tx.ExecContext(ctx, q, t.store)
		if err != nil {
			return fmt.Errorf("clear store %q: %w", t.store, err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			m = 1
		}
		n += m
	}
	if n > 0 {
		return t.removed(ctx)
	}
	return nil
}

func (t *tx) LoadedFrom(ctx context.Context, source string) (string, error) {
	var c string
	err := t.tx.QueryRowContext(ctx, `SELECT cursor FROM persist_sources WHERE store = ? AND source = ?`, t.store, source).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the last cursor loaded from %s: %w", source, err)
	}
	return c, nil
}

func (t *tx) SourcesLoaded(ctx context.Context) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM persist_sources WHERE store = ?`, t.store).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the sources loaded: %w", err)
	}
	return n, nil
}

func (t *tx) SetLoadedFrom(ctx context.Context, source, cursor string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO persist_sources (store, source, cursor, loaded_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (store, source) DO UPDATE SET cursor = excluded.cursor, loaded_at = excluded.loaded_at`,
		t.store, source, cursor, now())
	if err != nil {
		return fmt.Errorf("record the cursor loaded from %s: %w", source, err)
	}
	return nil
}

func (t *tx) ForgetLoaded(ctx context.Context) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_sources WHERE store = ?`, t.store); err != nil {
		return fmt.Errorf("forget the cursors loaded into store %q: %w", t.store, err)
	}
	return nil
}

func (t *tx) Commit() error {
	defer t.conn.Close()
	t.closeC()
	if err := t.ctx.Err(); err != nil {
		t.tx.Rollback()
		return fmt.Errorf("commit on store %q: %w", t.store, err)
	}
	if t.chg != 0 {
		// Committed, quiet would keep the triggers from stamping the next
		// writer's rows (Cursor refuses a store left so).
		if _, err := t.tx.Exec(`UPDATE persist_clock SET quiet = 0`); err != nil {
			t.tx.Rollback()
			return fmt.Errorf("commit on store %q: %w", t.store, err)
		}
	}
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit on store %q: %w", t.store, err)
	}
	t.committed.Store(true)
	return nil
}

func (t *tx) Rollback() error {
	defer t.conn.Close()
	t.closeC()
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback on store %q: %w", t.store, err)
	}
	return nil
}

// LockStore has nothing to do: a write transaction begins IMMEDIATE, and
// SQLite lets no other writer in until it ends.
func (t *tx) LockStore(context.Context) error { return nil }

// foreignTriggerSQL finds a trigger on one of Persist's tables that is not
// one of Persist's own on its own table. SQLite has no rules.
var foreignTriggerSQL = `SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'
	AND lower(tbl_name) IN (` + persistTables + `)
	AND NOT (name IN ('` + strings.Join(ownTriggers, "', '") + `') AND substr(name, 1, length(tbl_name) + 1) = tbl_name || '_')
	ORDER BY tbl_name, name LIMIT 1`

// ForeignCode has nothing to refuse on a connection that runs no trigger
// at all (setTriggers turned them off: the file has none but Persist's on
// the data tables); otherwise any trigger of another's on Persist's tables
// runs with its writes.
func (t *tx) ForeignCode(ctx context.Context) error {
	if t.triggersOff {
		return nil
	}
	var name, table string
	err := t.tx.QueryRowContext(ctx, foreignTriggerSQL).Scan(&name, &table)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read the triggers of Persist's tables: %w", err)
	}
	return hint.With(adapters.ForeignCodeError("trigger", quoteName(name), table),
		"drop it: sqlite3 %[1]s %[2]s (sqlite3 %[1]s %[3]s shows it first, to make it again after the load)",
		hint.Quote(t.path), hint.Quote("DROP TRIGGER "+quoteName(name)), hint.Quote(".schema "+table))
}

// quoteName quotes an SQL name, as any name may be a keyword.
func quoteName(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
