package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Snapshot opens a READ ONLY REPEATABLE READ transaction on a connection of
// its own: every read through it sees one instant, and it needs nothing but
// SELECT. The transaction lives until Close, not until ctx ends, so a caller
// may open it under a short deadline and scan it under another.
func (a *Adapter) Snapshot(ctx context.Context, store string) (adapters.Snapshot, error) {
	if textProblem(store) != "" {
		// No such name can be stored, so no such store exists.
		return nil, fmt.Errorf("store %q: %w", store, adapters.ErrNoStore)
	}
	conn, err := a.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.Explain(err))
	}
	state, err := readServerState(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.Explain(err))
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.lost(err, state))
	}
	s := &snapshot{a: a, conn: conn, tx: tx, store: store, state: state}
	if s.schema, err = a.setUpSnapshot(ctx, tx); err != nil {
		s.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.lost(err, state))
	}
	if err := s.exists(ctx); err != nil {
		s.Close()
		return nil, a.grantHint(ctx, err, "SELECT")
	}
	return s, nil
}

type snapshot struct {
	a     *Adapter
	conn  *sql.Conn
	tx    *sql.Tx
	store string
	state serverState // when the snapshot began, to tell why it was lost
	// schema is the tables' schema, quoted: persist_removed_since is
	// called by it, so that no function of a schema before it answers.
	schema string

	// What position read: the store's identity and the snapshot.
	id     string
	pos    pgPos
	mark   adapters.Mark
	posErr error
	// triggers is triggersVersion, "" where the schema is older than the
	// ALWAYS triggers; legacy are the digests earlier releases' cursors
	// carried for the same catalog.
	triggers string
	legacy   legacyDigests

	// scanning: while Scan holds the transaction's connection, whose rows
	// come one result at a time, another statement would break the
	// exchange with the server (lib/pq reads its answer among the rows).
	scanning adapters.Scanning
}

// busy refuses a call while the snapshot is being scanned.
func (s *snapshot) busy() error { return s.scanning.Busy(s.store) }

func (s *snapshot) exists(ctx context.Context) error {
	var found bool
	err := s.tx.QueryRowContext(ctx, `SELECT pg_catalog.to_regclass('persist_stores') IS NOT NULL`).Scan(&found)
	if err == nil && found {
		err = s.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM persist_stores WHERE name = $1)`, s.store).Scan(&found)
		if err == nil && !found {
			err = s.tx.QueryRowContext(ctx, rowsOfStoreSQL, s.store).Scan(&found)
		}
	} else if err == nil {
		if err := outOfReach(ctx, s.tx); err != nil {
			return fmt.Errorf("store %q: %w", s.store, s.a.lost(err, s.state))
		}
	}
	if err != nil {
		return fmt.Errorf("snapshot of store %q: %w", s.store, s.a.lost(err, s.state))
	}
	if !found {
		return fmt.Errorf("store %q: %w", s.store, adapters.ErrNoStore)
	}
	return nil
}

func (s *snapshot) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	if err := s.busy(); err != nil {
		return 0, 0, err
	}
	since, err := s.since(ctx, f.Since)
	if err != nil {
		return 0, 0, err
	}
	records, events, err = count(ctx, s.tx, s.store, f, since)
	if err != nil {
		err = s.a.lost(err, s.state)
	}
	return records, events, err
}

// Scan reads the snapshot. An error of fn is returned as it is; the
// database's own are said in plain words (a dump's stdout closed early is
// a broken pipe, not a lost connection).
func (s *snapshot) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	end, err := s.scanning.Start(s.store)
	if err != nil {
		return err
	}
	defer end()
	since, err := s.since(ctx, f.Since)
	if err != nil {
		return err
	}
	var fnErr error
	err = scan(ctx, s.tx, s.store, f, since, func(it *record.Item) error {
		fnErr = fn(it)
		return fnErr
	})
	if err != nil && fnErr == nil {
		err = s.a.lost(err, s.state)
	}
	return err
}

// ScanShared checks every value: jsonb is respelled on the way out, which
// makes it canonical whatever the share.
func (s *snapshot) ScanShared(ctx context.Context, f adapters.Filter, _ int, fn func(*record.Item, adapters.Settle) error) error {
	return s.Scan(ctx, f, func(it *record.Item) error { return fn(it, nil) })
}

// adapterName is the adapter's name in cursors.
const adapterName = "postgres"

// Cursor is this snapshot's txid_current_snapshot().
func (s *snapshot) Cursor(ctx context.Context) (string, error) {
	if err := s.busy(); err != nil {
		return "", err
	}
	if err := s.position(ctx); err != nil {
		return "", err
	}
	return adapters.Cursor{Adapter: adapterName, Store: s.id, Pos: s.pos.String(), Mark: s.mark}.String(), nil
}

// checksAndParents refuses a cursor where the chg checks are missing, or
// where a table of the store's has a parent (inheritance, a partitioned
// table): a DELETE through the parent fires the parent's statement
// triggers, not the logging ones on Persist's table.
func (s *snapshot) checksAndParents(ctx context.Context) error {
	missing, err := uncheckedTables(ctx, s.tx)
	if err != nil {
		return fmt.Errorf("store %q: read the chg checks: %w", s.store, err)
	}
	if len(missing) > 0 {
		var names []string
		for _, t := range missing {
			names = append(names, chgCheckName(t))
		}
		return fmt.Errorf("store %q: %w: the check that every row's chg is its writing transaction's id is missing or not this release's "+
			"(%s: made by this release's first write where the role may alter the tables and finds them free, or by persist upgrade; "+
			"or dropped since), so an INSERT naming chg itself would reach no delta",
			s.store, adapters.ErrNoCursor, strings.Join(names, ", "))
	}
	var parents []string
	err = s.tx.QueryRowContext(ctx, `SELECT pg_catalog.array_agg(u.e ORDER BY h.inhrelid, h.inhseqno, u.k)
		FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) h.inhrelid
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		JOIN pg_catalog.pg_class p ON p.oid OPERATOR(pg_catalog.=) h.inhparent
		JOIN pg_catalog.pg_namespace pn ON pn.oid OPERATOR(pg_catalog.=) p.relnamespace
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[pg_catalog.format('%I.%I', n.nspname, c.relname),
			pg_catalog.format('%I.%I', pn.nspname, p.relname), c.relispartition::pg_catalog.text]) WITH ORDINALITY u(e, k)
		WHERE h.inhrelid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('persist_records'),
			pg_catalog.to_regclass('persist_events')]::pg_catalog.oid[])`).Scan((*pq.StringArray)(&parents))
	if err != nil {
		return fmt.Errorf("store %q: read the tables' parents: %w", s.store, err)
	}
	return parentsErr(s.store, parents)
}

// logsAsMade refuses a cursor where the tables the triggers log into,
// persist_removals and persist_history, have a rule or a trigger, enabled
// or not: either could keep a delete or a write from being logged (DO
// INSTEAD NOTHING, a trigger returning NULL), and a delta would not hold
// it. It refuses one too where a table's catalog row still marks one
// dropped (until a VACUUM or ANALYZE, autovacuum's too, clears the mark):
// so a delta across one made and dropped after its cursor is refused,
// unless one of those came between. (A trigger of the server's own, as
// a foreign key referencing the table makes, keeps the mark set, and is
// no reason to refuse.)
func (s *snapshot) logsAsMade(ctx context.Context) error {
	logs := []string{"persist_removals", "persist_history"}
	kind, name, table, _, err := codeOn(ctx, s.tx, logs, true, nil)
	if err != nil {
		return fmt.Errorf("store %q: read the log tables' rules and triggers: %w", s.store, err)
	}
	if kind != "" {
		return hint.With(fmt.Errorf("store %q: %w: %s %s on %s: Persist's change-tracking triggers log deletes and writes into that table, "+
			"which it could keep from being logged, and no delta would hold them", s.store, adapters.ErrNoCursor, kind, name, table),
			"as the owner of the tables, drop it (DROP %s %s ON %s), then clear its mark with VACUUM %[3]s (a statement of its own, outside a transaction), "+
				"then take a full dump", strings.ToUpper(kind), name, table)
	}
	var marked []string
	err = s.tx.QueryRowContext(ctx, `SELECT pg_catalog.array_agg(pg_catalog.format('%I.%I', n.nspname, c.relname) ORDER BY c.relname)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('persist_removals'),
				pg_catalog.to_regclass('persist_history')]::pg_catalog.oid[])
			AND (c.relhasrules AND NOT EXISTS (SELECT FROM pg_catalog.pg_rewrite r WHERE r.ev_class OPERATOR(pg_catalog.=) c.oid)
				OR c.relhastriggers AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid OPERATOR(pg_catalog.=) c.oid))`).Scan((*pq.StringArray)(&marked))
	if err != nil {
		return fmt.Errorf("store %q: read the log tables' marks: %w", s.store, err)
	}
	if len(marked) == 0 {
		return nil
	}
	return hint.With(fmt.Errorf("store %q: %w: %s had a rule or trigger, dropped since (its catalog row still marks it), "+
		"which may have kept deletes or writes from being logged", s.store, adapters.ErrNoCursor, strings.Join(marked, ", ")),
		"as the owner of the tables: VACUUM %s (a statement of its own, outside a transaction; it clears the mark in place), then take a full dump",
		strings.Join(marked, ", "))
}

// parentsErr is the error for the tables checksAndParents found with a
// parent, three entries each (table, parent, whether a partition); nil for
// none.
func parentsErr(store string, parents []string) error {
	if len(parents) < 3 {
		return nil
	}
	var what, fix []string
	for i := 0; i+2 < len(parents); i += 3 {
		t, p := parents[i], parents[i+1]
		if parents[i+2] == "true" {
			what = append(what, fmt.Sprintf("%s is a partition of %s", t, p))
			fix = append(fix, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", p, t))
		} else {
			what = append(what, fmt.Sprintf("%s inherits from %s", t, p))
			fix = append(fix, fmt.Sprintf("ALTER TABLE %s NO INHERIT %s", t, p))
		}
	}
	return hint.With(fmt.Errorf("store %q: %w: %s: a DELETE through the parent fires none of the triggers that log deletes, so no delta would hold what it deletes",
		store, adapters.ErrNoCursor, strings.Join(what, "; ")),
		"as the owner of the tables, take them out of it (%s), then take a full dump", strings.Join(fix, "; "))
}

// cursorAccess is the error of a snapshot whose role, quoted, may not read
// what a cursor is made of.
func cursorAccess(store, role string) error {
	return hint.With(fmt.Errorf("store %q: %w: %w", store, adapters.ErrNoCursor, adapters.ErrCursorAccess),
		"let the role read them, as the owner of the tables: GRANT SELECT ON persist_meta, persist_history TO %s", role)
}

// readMark checks that changes are tracked whoever writes, and reads the
// newest entry of the store's history this snapshot sees.
func (s *snapshot) readMark(ctx context.Context) error {
	var may bool
	var role string
	if err := s.tx.QueryRowContext(ctx, `SELECT pg_catalog.has_table_privilege(pg_catalog.to_regclass('persist_history')::pg_catalog.oid, 'SELECT'),
			pg_catalog.quote_ident(current_user::pg_catalog.text)`).Scan(&may, &role); err != nil {
		return fmt.Errorf("store %q: read persist_history's rights: %w", s.store, err)
	}
	if !may {
		return cursorAccess(s.store, role)
	}
	intact, err := trackingIntact(ctx, s.tx)
	if err != nil {
		return fmt.Errorf("store %q: read the triggers: %w", s.store, err)
	}
	// trackingIntact leaves the _stamp functions' text to refreshStamps,
	// which a write runs: a cursor is given only once it has.
	stamps, err := stampsCurrent(ctx, s.tx)
	if err != nil {
		return fmt.Errorf("store %q: read the triggers: %w", s.store, err)
	}
	if !stamps {
		return fmt.Errorf("store %q: %w: a _stamp function or trigger of the change tracking is not as this release makes it (replaced by hand, "+
			"or made by an earlier release), so changes, a row moved to another key among them, may have gone unrecorded", s.store, adapters.ErrNoCursor)
	}
	if !intact {
		return fmt.Errorf("store %q: %w: a change-tracking trigger is missing, disabled, or no longer fires always "+
			"(ALTER TABLE … DISABLE TRIGGER, or ENABLE TRIGGER ALL after it) or runs a function other than this release's "+
			"(CREATE OR REPLACE FUNCTION persist_mark(), ALTER FUNCTION … SET search_path), or a table's chg lost the default that stamps "+
			"every insert (ALTER COLUMN chg DROP DEFAULT or SET DEFAULT), so changes may have gone unrecorded", s.store, adapters.ErrNoCursor)
	}
	if err := s.checksAndParents(ctx); err != nil {
		return err
	}
	if err := s.logsAsMade(ctx); err != nil {
		return err
	}
	if s.triggers, s.legacy, err = triggersVersion(ctx, s.tx, s.removedSince()); err != nil {
		return fmt.Errorf("store %q: read the triggers: %w", s.store, err)
	}
	err = s.tx.QueryRowContext(ctx, `SELECT txid, token FROM persist_history ORDER BY txid DESC, token LIMIT 1`).Scan(&s.mark.N, &s.mark.Token)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store %q: %w: persist_history is empty, so a delta could not be told from another history's", s.store, adapters.ErrNoCursor)
	}
	if err != nil {
		return fmt.Errorf("store %q: read persist_history: %w", s.store, err)
	}
	return nil
}

// checkMark refuses a cursor whose history entry this store does not hold
// as the cursor saw it. A cursor without one (from a release before
// history, or a store at version 2) is taken as it was then.
func (s *snapshot) checkMark(ctx context.Context, m adapters.Mark) error {
	if m.Token == "" {
		return nil
	}
	// A store without the table (version 2, or a restore of one) cannot
	// hold the entry: refused as the SQLite adapter refuses it, never with
	// the server's error about a missing table.
	var has bool
	if err := s.tx.QueryRowContext(ctx, `SELECT pg_catalog.to_regclass('persist_history') IS NOT NULL`).Scan(&has); err != nil {
		return s.a.lost(fmt.Errorf("store %q: read persist_history: %w", s.store, err), s.state)
	}
	if !has {
		return adapters.HistoryError(m, "")
	}
	var same bool
	var other sql.NullString
	err := s.tx.QueryRowContext(ctx, `SELECT coalesce(pg_catalog.bool_or(token = $2), false), pg_catalog.max(token) FROM persist_history WHERE txid = $1`, m.N, m.Token).Scan(&same, &other)
	if err != nil {
		return s.a.lost(fmt.Errorf("store %q: read persist_history: %w", s.store, err), s.state)
	}
	if !same {
		return adapters.HistoryError(m, other.String)
	}
	return nil
}

// position reads, once, the store's identity and the snapshot. The store's
// identity includes the cluster's system identifier where the role may read
// it: a database restored into another cluster (or a logical replica) has
// other transaction ids, and must not take the original's cursors.
func (s *snapshot) position(ctx context.Context) error {
	if s.id != "" || s.posErr != nil {
		return s.posErr
	}
	s.posErr = s.readPosition(ctx)
	return s.posErr
}

func (s *snapshot) readPosition(ctx context.Context) error {
	var meta sql.NullBool
	var sys bool
	var snap, role string
	err := s.tx.QueryRowContext(ctx, `SELECT pg_catalog.has_table_privilege(pg_catalog.to_regclass('persist_meta')::pg_catalog.oid, 'SELECT'),
		pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE'), pg_catalog.txid_current_snapshot()::text,
		pg_catalog.quote_ident(current_user::pg_catalog.text)`).Scan(&meta, &sys, &snap, &role)
	if err != nil {
		return fmt.Errorf("store %q: read the snapshot: %w", s.store, err)
	}
	if !meta.Valid {
		return fmt.Errorf("store %q: %w (schema version 1: no persist_meta)", s.store, adapters.ErrNoCursor)
	}
	if !meta.Bool {
		return cursorAccess(s.store, role)
	}
	v, err := storedVersion(ctx, s.tx)
	if err != nil {
		return err
	}
	if v < 2 {
		return fmt.Errorf("store %q: %w (schema version %d)", s.store, adapters.ErrNoCursor, v)
	}
	if v >= 3 {
		if err := s.readMark(ctx); err != nil {
			return err
		}
	}
	var dbID, sysID string
	if err := s.tx.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key = 'id'`).Scan(&dbID); err != nil {
		return fmt.Errorf("store %q: read persist_meta's id: %w", s.store, err)
	}
	if sys {
		if err := s.tx.QueryRowContext(ctx, `SELECT system_identifier::text FROM pg_catalog.pg_control_system()`).Scan(&sysID); err != nil {
			return fmt.Errorf("store %q: read the system identifier: %w", s.store, err)
		}
	}
	if s.pos, err = parsePos(snap); err != nil {
		return fmt.Errorf("store %q: the server's snapshot %q: %w", s.store, snap, err)
	}
	s.pos.triggers = s.triggers
	s.id = adapters.StoreID(adapterName, []string{sysID, dbID}, s.store)
	return nil
}

// since checks a Filter's Since against the store and returns the snapshot
// it names (nil for no Since).
func (s *snapshot) since(ctx context.Context, cursor string) (*pgPos, error) {
	if cursor == "" {
		return nil, nil
	}
	if err := s.position(ctx); err != nil {
		return nil, s.a.lost(err, s.state)
	}
	c, err := adapters.CheckCursor(cursor, adapterName, s.id)
	if err != nil {
		return nil, err
	}
	p, err := parsePos(c.Pos)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a PostgreSQL position: %w", adapters.ErrCursor, c.Pos, err)
	}
	if s.pos.xmax < p.xmax {
		return nil, fmt.Errorf("%w: the server's transaction ids (next %d) are behind the cursor's (%d): the database was restored from a backup, or replaced",
			adapters.ErrCursor, s.pos.xmax, p.xmax)
	}
	if err := s.checkMark(ctx, c.Mark); err != nil {
		return nil, err
	}
	if err := s.checkTriggers(p, c.Mark); err != nil {
		return nil, err
	}
	var removed sql.NullInt64
	err = s.tx.QueryRowContext(ctx, `SELECT `+s.removedSince()+`($1, $2, $3, $4)`, s.store, p.xmin, p.xmax, pq.Array(p.xip)).Scan(&removed)
	if err != nil {
		return nil, s.a.lost(fmt.Errorf("store %q: read removals: %w", s.store, err), s.state)
	}
	if removed.Valid {
		return nil, fmt.Errorf("store %q: %w (the last by transaction %d)", s.store, adapters.ErrRemoved, removed.Int64)
	}
	return &p, nil
}

// removedSince names persist_removed_since by the tables' schema.
func (s *snapshot) removedSince() string {
	if s.schema == "" {
		return "persist_removed_since"
	}
	return s.schema + ".persist_removed_since"
}

// pgPos is a snapshot as txid_current_snapshot() spells it, xmin:xmax:xip:
// transactions below xmin had ended, those from xmax on had not begun,
// and those in xip were in progress; then, where the schema has the ALWAYS
// triggers, :triggers, the version of the triggers that snapshot saw.
type pgPos struct {
	xmin, xmax int64
	xip        []int64
	triggers   string
}

func parsePos(s string) (pgPos, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 && len(parts) != 4 {
		return pgPos{}, errors.New("want xmin:xmax:xip[:triggers]")
	}
	var p pgPos
	if len(parts) == 4 {
		if len(parts[3]) != triggersLen || strings.Trim(parts[3], "0123456789abcdef") != "" {
			return pgPos{}, errors.New("the triggers' version is not 16 hex digits")
		}
		p.triggers = parts[3]
	}
	var err error
	if p.xmin, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return pgPos{}, err
	}
	if p.xmax, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return pgPos{}, err
	}
	if p.xmin < 1 || p.xmax < p.xmin {
		return pgPos{}, errors.New("xmin and xmax out of order")
	}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return pgPos{}, err
			}
			if n < p.xmin || n >= p.xmax {
				return pgPos{}, errors.New("an xip outside xmin..xmax")
			}
			p.xip = append(p.xip, n)
		}
	}
	return p, nil
}

func (p pgPos) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(p.xmin, 10) + ":" + strconv.FormatInt(p.xmax, 10) + ":")
	for i, x := range p.xip {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	if p.triggers != "" {
		b.WriteString(":" + p.triggers)
	}
	return b.String()
}

// Close ends the read-only transaction; there is nothing to commit.
func (s *snapshot) Close() error {
	err := s.tx.Rollback()
	// A read-only transaction whose connection was lost (lib/pq gives up
	// a connection whose query a context cancelled) is over all the same.
	if err == sql.ErrTxDone || (err != nil && isConnLoss(err)) {
		err = nil
	}
	if cerr := s.conn.Close(); err == nil && cerr != sql.ErrConnDone {
		err = cerr
	}
	return err
}
