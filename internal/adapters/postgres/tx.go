package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Begin starts a READ COMMITTED transaction on a connection of its own,
// after creating the schema (once per Adapter) and inside it the store's row.
// READ COMMITTED suffices: Put's guard is evaluated against the latest
// committed row under its lock, and Lock keeps what it read.
func (a *Adapter) Begin(ctx context.Context, store string) (adapters.Tx, error) {
	if a.opt.ReadOnly {
		return nil, fmt.Errorf("begin on store %q: %w", store, ErrReadOnly)
	}
	if err := checkStoreName(store); err != nil {
		return nil, err
	}
	if err := a.ensureSchema(ctx); err != nil {
		return nil, a.grantHint(ctx, err, "SELECT")
	}
	// The proof is prepared on the pool, which takes a connection of its
	// own: here, before the transaction holds one, rather than in a load's
	// first batch, where a role allowed one connection would wait for a
	// second until the retries ran out.
	if _, err := a.proofStmt(ctx); err != nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	conn, err := a.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	t := &writeTx{a: a, conn: conn, tx: tx, store: store, ctx: ctx}
	if err := a.setUp(ctx, tx); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("begin on store %q: %w", store, err)
	}
	// created_at is given: a table another implementation made may have no
	// DEFAULT for it. The transaction's id comes back in the same round
	// trip, for Commit.
	err = tx.QueryRowContext(ctx, `WITH s AS (INSERT INTO persist_stores (name, created_at) VALUES ($1, now()) ON CONFLICT (name) DO NOTHING)
		SELECT pg_catalog.txid_current()`, store).Scan(&t.xid)
	if err != nil {
		t.Rollback()
		return nil, fmt.Errorf("create store %q: %w", store, err)
	}
	return t, nil
}

type writeTx struct {
	a     *Adapter
	conn  *sql.Conn
	tx    *sql.Tx
	store string
	done  bool

	// The staging tables exist in this session (temporary tables outlive
	// the transaction; their rows do not: ON COMMIT DELETE ROWS) and were
	// filled earlier in this transaction, so must be emptied first.
	stagingReady            bool
	recordsUsed, eventsUsed bool
	partsUsed               bool
	// staged is what the last Put wrote, which the staging tables hold.
	staged []*record.Item
	// direct is what the last Put copied straight into the tables, and
	// directShort why COPY's count says that not all of it landed.
	direct      []*record.Item
	directShort string
	mark        string // persist_mark's row version before the load's first COPY
	// ctx is Begin's: a lost commit's outcome is asked after (Commit, which
	// takes none) only while it lasts.
	ctx context.Context
	// xid is the transaction's id (txid_current, taken at Begin): should
	// the connection be lost while the COMMIT is under way, the server is
	// asked after what became of it, since a write redone after one that
	// took effect would be done twice (an event appended twice, a
	// compare-and-swap that reports losing to its own write).
	xid int64
}

// Lock looks keys up one by one, FOR UPDATE (one query for the records and
// one for the events).
func (t *writeTx) Lock(ctx context.Context, keys []*record.Item, fn func(*record.Item) error) error {
	return t.probe(ctx, keys, " FOR UPDATE", nil, each(fn))
}

// probe looks keys up one by one, with suffix after the query (FOR UPDATE).
// fn gets each row with the key that asked for it; a key's value, if any,
// is what the row is expected to hold (see eachRecord). With ours, it also
// learns whether the row is this transaction's own write.
func (t *writeTx) probe(ctx context.Context, keys []*record.Item, suffix string, ours *bool,
	fn func(it, key *record.Item) error) error {
	sel := ""
	if ours != nil {
		sel = ", xmin = pg_current_xact_id()::xid"
	}
	if recs := recordKeys(keys); recs.len() > 0 {
		colls, rkeys := recs.columns()
		rows, err := t.tx.QueryContext(ctx, `SELECT `+recordCols+sel+` FROM persist_records
			WHERE store = $1 AND (collection, key) IN (SELECT c, k FROM unnest($2::text[], $3::text[]) AS u(c, k))`+
			suffix, t.store, pq.Array(colls), pq.Array(rkeys))
		if err != nil {
			return fmt.Errorf("look up records: %w", err)
		}
		match := func(it *record.Item) *record.Item { return recs.find(it.Collection, it.Key) }
		if err := eachRecord(rows, match, ours, fn); err != nil {
			return err
		}
	}
	if evs := eventKeys(keys); evs.len() > 0 {
		streams, seqs := evs.columns()
		rows, err := t.tx.QueryContext(ctx, `SELECT `+eventCols+sel+` FROM persist_events
			WHERE store = $1 AND (stream, seq) IN (SELECT s, q FROM unnest($2::text[], $3::bigint[]) AS u(s, q))`+
			suffix, t.store, pq.Array(streams), pq.Array(seqs))
		if err != nil {
			// FOR UPDATE takes the right to update what it locks.
			return fmt.Errorf("look up events: %w", t.a.grantHint(ctx, err, "SELECT, UPDATE"))
		}
		match := func(it *record.Item) *record.Item { return evs.find(it.Stream, it.Seq) }
		if err := eachEvent(rows, match, ours, fn); err != nil {
			return err
		}
	}
	return nil
}

// MaxSeq reads each stream's highest seq from the end of its primary key.
// Its unnest is named with pg_catalog: pg_catalog's takes anyarray, and
// another schema's unnest(text[]) would answer in its place wherever that
// schema is on the search_path. (An unqualified unnest of two arrays, as
// probe's, is pg_catalog's whatever the path.)
func (t *writeTx) MaxSeq(ctx context.Context, streams []string) (map[string]int64, error) {
	m := make(map[string]int64, len(streams))
	if len(streams) == 0 {
		return m, nil
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT u.s, coalesce((SELECT max(e.seq) FROM persist_events e
			WHERE e.store = $1 AND e.stream = u.s), 0)
		FROM pg_catalog.unnest($2::text[]) AS u(s)`, t.store, pq.Array(streams))
	if err != nil {
		return nil, fmt.Errorf("read last seq: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("read last seq: %w", err)
		}
		m[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read last seq: %w", err)
	}
	return m, nil
}

// removing names the store in persist.removing for the rest of the
// transaction, so that the delete trigger logs the deletes that follow for
// this store alone rather than for every store.
func (t *writeTx) removing(ctx context.Context) error {
	if _, err := t.tx.ExecContext(ctx, `SELECT pg_catalog.set_config('persist.removing', $1, true)`, t.store); err != nil {
		return fmt.Errorf("name the store for the removal log: %w", err)
	}
	return nil
}

// Remove deletes the named records and events outright.
func (t *writeTx) Remove(ctx context.Context, keys []*record.Item) error {
	if err := t.removing(ctx); err != nil {
		return err
	}
	var colls, rkeys, streams []string
	var seqs []int64
	for _, k := range keys {
		if k.IsRecord() {
			colls, rkeys = append(colls, k.Collection), append(rkeys, k.Key)
		} else {
			streams, seqs = append(streams, k.Stream), append(seqs, k.Seq)
		}
	}
	if len(colls) > 0 {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_records
			WHERE store = $1 AND (collection, key) IN (SELECT c, k FROM unnest($2::text[], $3::text[]) AS u(c, k))`,
			t.store, pq.Array(colls), pq.Array(rkeys)); err != nil {
			return fmt.Errorf("remove records: %w", err)
		}
	}
	if len(streams) > 0 {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_events
			WHERE store = $1 AND (stream, seq) IN (SELECT s, q FROM unnest($2::text[], $3::bigint[]) AS u(s, q))`,
			t.store, pq.Array(streams), pq.Array(seqs)); err != nil {
			return fmt.Errorf("remove events: %w", err)
		}
	}
	return nil
}

// Scan reads the store as this transaction sees it, its own writes
// included; a Since is for snapshots only.
func (t *writeTx) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	if f.Since != "" {
		return errors.New("scan: a transaction's scan takes no Since")
	}
	return scan(ctx, t.tx, t.store, f, nil, fn)
}

// Count counts what Scan would read, its own writes included.
func (t *writeTx) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	if f.Since != "" {
		return 0, 0, errors.New("count: a transaction's count takes no Since")
	}
	return count(ctx, t.tx, t.store, f, nil)
}

// Clear deletes the store's records and events; the store itself remains.
func (t *writeTx) Clear(ctx context.Context) error {
	if err := t.removing(ctx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_records WHERE store = $1`, t.store); err != nil {
		return fmt.Errorf("clear records: %w", t.a.grantHint(ctx, err, "SELECT, DELETE", clearTables...))
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_events WHERE store = $1`, t.store); err != nil {
		return fmt.Errorf("clear events: %w", t.a.grantHint(ctx, err, "SELECT, DELETE", clearTables...))
	}
	return nil
}

func (t *writeTx) LoadedFrom(ctx context.Context, source string) (string, error) {
	var c string
	err := t.tx.QueryRowContext(ctx, `SELECT cursor FROM persist_sources WHERE store = $1 AND source = $2`, t.store, source).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the last cursor loaded from %s: %w", source, err)
	}
	return c, nil
}

func (t *writeTx) SourcesLoaded(ctx context.Context) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM persist_sources WHERE store = $1`, t.store).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the sources loaded: %w", err)
	}
	return n, nil
}

// ForgetLoaded deletes the store's rows of persist_sources, refusing first,
// as SetLoadedFrom does, a trigger or rule there that could change the
// store's rows in the replace's or patch's transaction unseen.
func (t *writeTx) ForgetLoaded(ctx context.Context) error {
	if err := noCodeOnNotes(ctx, t.tx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM persist_sources WHERE store = $1`, t.store); err != nil {
		return fmt.Errorf("forget the cursors loaded into store %q: %w", t.store, t.a.grantHint(ctx, err, "SELECT, DELETE", clearTables...))
	}
	return nil
}

// SetLoadedFrom writes persist_sources after the load was verified: a
// trigger or rule there could change the store's rows now, with nothing to
// compare them again. It refuses, before the commit, any that Persist did
// not make (and it makes none there); its write holds the table's lock,
// which CREATE TRIGGER and CREATE RULE wait for, so none can be added
// after. A load refuses code on persist_stores, which every batch writes
// too (Begin), by ForeignCode.
func (t *writeTx) SetLoadedFrom(ctx context.Context, source, cursor string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO persist_sources (store, source, cursor) VALUES ($1, $2, $3)
		ON CONFLICT (store, source) DO UPDATE SET cursor = EXCLUDED.cursor, loaded_at = now()`, t.store, source, cursor)
	if err == nil {
		err = noCodeOnNotes(ctx, t.tx)
	}
	if err != nil {
		return fmt.Errorf("record the cursor loaded from %s: %w", source, t.a.grantHint(ctx, err, "SELECT, INSERT, UPDATE"))
	}
	return nil
}

// clearTables are the tables a replace deletes from, besides a load's
// writes.
var clearTables = []string{"persist_records", "persist_events", "persist_sources"}

// grantHint is err, where it is the server's refusal of a right on a table
// (42501, "permission denied for table T"), with the grant of what the
// work needs (privileges) on tables, or on T where none are named: each
// with its schema, as the search_path finds it, and the role named as the
// server knows it.
func (a *Adapter) grantHint(ctx context.Context, err error, privileges string, tables ...string) error {
	var perr *pq.Error
	table, ok := "", false
	if errors.As(err, &perr) && perr.Code == "42501" {
		table, ok = strings.CutPrefix(perr.Message, "permission denied for table ")
	}
	if !ok {
		return err
	}
	if len(tables) == 0 {
		tables = []string{table}
	}
	var role string
	var named []string
	if a.db.QueryRowContext(ctx, `SELECT pg_catalog.quote_ident(current_user::pg_catalog.text),
			ARRAY(SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY u(t, i)
				JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.quote_ident(u.t))::pg_catalog.oid
				JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace ORDER BY u.i)`,
		pq.Array(tables)).Scan(&role, (*pq.StringArray)(&named)) != nil || len(named) != len(tables) {
		return err
	}
	return hint.With(err, "as the owner of the tables: GRANT %s ON %s TO %s", privileges, strings.Join(named, ", "), role)
}

// codeOnQuery finds a trigger (constraints' own, which check keys, aside)
// or a rule on the tables named in $1: its kind, its name and its table,
// quoted (the table with its schema). Disabled ones count only with $2 (where enabling one for a while
// and disabling it again would leave no trace). $3 are the triggers to
// pass over (ownKey): a trigger that has one's table and name but not the
// rest (its function, its events, the function's text or settings
// replaced by hand) is kind "persist trigger". how is the ENABLE that
// makes one fire as it does now (ENABLE, ENABLE REPLICA, ENABLE ALWAYS).
const codeOnQuery = `SELECT k, name, tab, how FROM (
		SELECT 1 AS o, CASE WHEN y.ours THEN 'persist trigger' ELSE 'trigger' END AS k,
			pg_catalog.quote_ident(g.tgname::pg_catalog.text) AS name, g.tgrelid AS rel, g.tgenabled AS e
		FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) g.tgrelid
		CROSS JOIN LATERAL (SELECT ` + triggerKeySQL + ` AS key) f
		CROSS JOIN LATERAL (SELECT c.relname::pg_catalog.text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) g.tgname::pg_catalog.text
			OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.split_part(w, '.', 1) OPERATOR(pg_catalog.||) '.'
				OPERATOR(pg_catalog.||) pg_catalog.split_part(w, '.', 2) FROM pg_catalog.unnest($3::pg_catalog.text[]) w)) AS ours) y
		WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(n)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) n))
			AND NOT g.tgisinternal AND ($2 OR g.tgenabled OPERATOR(pg_catalog.<>) 'D')
			AND NOT f.key OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.text[])
		UNION ALL
		SELECT 2, 'rule', pg_catalog.quote_ident(r.rulename::pg_catalog.text), r.ev_class, r.ev_enabled
		FROM pg_catalog.pg_rewrite r
		WHERE r.ev_class OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(n)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) n))
			AND ($2 OR r.ev_enabled OPERATOR(pg_catalog.<>) 'D')) x
		CROSS JOIN LATERAL (SELECT CASE x.e WHEN 'R' THEN 'ENABLE REPLICA' WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END AS how) h
		CROSS JOIN LATERAL (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS tab FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.oid OPERATOR(pg_catalog.=) x.rel) t
	ORDER BY o, tab, name LIMIT 1`

// codeOn is the first trigger or rule codeOnQuery finds on tables, kind
// "" for none.
func codeOn(ctx context.Context, q querier, tables []string, disabledToo bool, own []string) (kind, name, table, how string, err error) {
	if own == nil {
		own = []string{}
	}
	err = q.QueryRowContext(ctx, codeOnQuery, pq.Array(tables), disabledToo, pq.Array(own)).Scan(&kind, &name, &table, &how)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", "", nil
	}
	return kind, name, table, how, err
}

// noCodeOnNotes is SetLoadedFrom's refusal of code on the tables it writes.
func noCodeOnNotes(ctx context.Context, q querier) error {
	kind, name, table, how, err := codeOn(ctx, q, []string{"persist_sources"}, false, nil)
	switch {
	case err == nil && kind == "":
		return nil
	case err != nil:
		return fmt.Errorf("read the triggers of persist_sources: %w", err)
	case kind == "rule":
		return hint.With(fmt.Errorf("rule %s on %s, which Persist did not make, would run as the load is noted, "+
			"after it was verified, and could change the store", name, table),
			"as the table's owner: DROP RULE %s ON %s, or for the load ALTER TABLE %[2]s DISABLE RULE %[1]s (%[3]s RULE %[1]s after it)", name, table, how)
	}
	return hint.With(fmt.Errorf("trigger %s on %s, which Persist did not make, would run as the load is noted, "+
		"after it was verified, and could change the store", name, table),
		"as the table's owner: DROP TRIGGER %s ON %s, or for the load ALTER TABLE %[2]s DISABLE TRIGGER %[1]s (%[3]s TRIGGER %[1]s after it)", name, table, how)
}

func (t *writeTx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	defer t.conn.Close()
	err := t.tx.Commit()
	if err != nil && isConnLoss(err) {
		err = t.a.commitOutcome(t.ctx, t.xid, err)
	}
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *writeTx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	err := t.tx.Rollback()
	t.conn.Close()
	// A transaction whose connection was lost is over all the same.
	if err != nil && !errors.Is(err, sql.ErrTxDone) && !errors.Is(err, sql.ErrConnDone) && !isConnLoss(err) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// LockStore locks both tables against every other writer (SHARE ROW
// EXCLUSIVE lets readers on, and takes no second such lock), then the next
// statement's snapshot, taken after the lock, is the state written on. The
// tables hold every store of the database, whose writers wait meanwhile:
// a writer's long transaction is waited for 10 s at most, then the lock is
// given up (55P03, retried as any lock timeout is) rather than queue every
// writer behind it.
func (t *writeTx) LockStore(ctx context.Context) error {
	for _, q := range []string{`SET LOCAL lock_timeout = '10s'`,
		`LOCK TABLE persist_records, persist_events IN SHARE ROW EXCLUSIVE MODE`,
		`SET LOCAL lock_timeout = DEFAULT`} {
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("lock store %q: %w", t.store, err)
		}
	}
	return nil
}
