package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// storesSQL names every store the file holds: those of persist_stores,
// and those whose records or events another program wrote without a row
// there, which a database holding "one store" must not leave unread. Each
// table's stores are found by a seek of its primary key per store, not a
// scan of its rows.
const storesSQL = `WITH RECURSIVE
	r(s) AS (SELECT (SELECT min(store) FROM persist_records)
		UNION ALL SELECT (SELECT min(store) FROM persist_records WHERE store > r.s) FROM r WHERE r.s IS NOT NULL),
	e(s) AS (SELECT (SELECT min(store) FROM persist_events)
		UNION ALL SELECT (SELECT min(store) FROM persist_events WHERE store > e.s) FROM e WHERE e.s IS NOT NULL)
	SELECT name FROM persist_stores UNION SELECT s FROM r WHERE s IS NOT NULL UNION SELECT s FROM e WHERE s IS NOT NULL`

// storeExistsSQL says whether the file holds the store ?1, as storesSQL
// would list it.
const storeExistsSQL = `SELECT CASE WHEN EXISTS (SELECT 1 FROM persist_stores WHERE name = ?1) THEN true
	ELSE EXISTS (SELECT 1 FROM persist_records WHERE store = ?1) OR EXISTS (SELECT 1 FROM persist_events WHERE store = ?1) END`

// Stores lists the stores, reading through a read-only connection so that a
// database without the schema stays without it.
func (a *Adapter) Stores(ctx context.Context) ([]string, error) {
	tx, err := a.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	defer tx.Rollback()
	v, err := a.readableVersion(ctx, tx)
	if err != nil || v == 0 {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, storesSQL+" ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	return names, nil
}

// Snapshot opens a read transaction on a connection of its own. SQLite
// starts a deferred transaction's read at its first statement, so the store
// lookup below is also what fixes the instant every later read sees.
//
// The connection is held as a Conn as well, for ScanShared to reach the
// driver under the transaction.
func (a *Adapter) Snapshot(ctx context.Context, store string) (adapters.Snapshot, error) {
	conn, err := a.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of store %q: %w", store, err)
	}
	// Detached from ctx, as Begin's (tx.go): ScanShared reaches the driver
	// through conn.Raw, which must not race database/sql closing conn.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, err)
	}
	v, err := a.readableVersion(ctx, tx)
	if err == nil && v > 0 {
		var found bool
		err = tx.QueryRowContext(ctx, storeExistsSQL, store).Scan(&found)
		if !found {
			v = 0
		}
	}
	if err == nil && v == 0 {
		err = adapters.ErrNoStore
	}
	if err != nil {
		tx.Rollback()
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, err)
	}
	return &snapshot{conn: conn, tx: tx, store: store, version: v, unlocked: a.unlocked, path: a.path}, nil
}

type snapshot struct {
	conn     *sql.Conn // tx's
	tx       *sql.Tx
	store    string
	version  int
	scanning adapters.Scanning // while Scan or ScanShared holds the connection
	// quickCounts is how many of Count's counts quickCount answered (for
	// the tests).
	quickCounts int
	unlocked    *fileState   // the adapter's
	path        string       // the file's, for hints
	counted     *indexCounts // quickCount's, once counted
}

func (s *snapshot) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	if err := s.busy(); err != nil {
		return 0, 0, err
	}
	since, err := s.since(ctx, f.Since)
	if err == nil {
		err = s.byName(ctx, f)
	}
	if err != nil {
		return 0, 0, err
	}
	if since < 0 && wholeKinds(f) {
		if records, events, ok, err := s.quickCount(ctx, f); err != nil || ok {
			if ok {
				s.quickCounts++
			}
			return records, events, s.unlocked.first(err)
		}
	}
	records, events, err = count(ctx, s.tx, s.store, f, since)
	return records, events, s.unlocked.first(err)
}

// countIndexes are the indexes quickCount counts from.
var countIndexes = append([]string{"persist_records_chg", "persist_events_chg"}, unstampedIndexes...)

// wholeKinds reports whether f keeps every record or none, and every event
// or none.
func wholeKinds(f adapters.Filter) bool {
	return f.Collections == nil && f.Streams == nil && !f.Live && f.Keys == nil && f.FromSeq == 0
}

// quickCount counts a whole store from its indexes (countDDL): the rows
// the change index holds and those the unstamped index holds are every
// row of the store, read in a tenth of the pages of the tables: a dump
// counts before its first line, for its header. Only where the four
// indexes are as this release makes them (one of another predicate under
// the same name would count other rows); ok is false otherwise, and the
// tables are to be counted.
//
// What it counted once in the snapshot, which reads one instant, it gives
// again: a dump's header and its scan's check (allRead) ask for the same.
func (s *snapshot) quickCount(ctx context.Context, f adapters.Filter) (records, events int64, ok bool, err error) {
	kinds := [2]bool{f.NoRecords, f.NoEvents}
	if s.counted != nil && s.counted.kinds == kinds {
		return s.counted.records, s.counted.events, true, nil
	}
	records, events, ok, err = s.countIndexes(ctx, f)
	if ok && err == nil {
		s.counted = &indexCounts{kinds, records, events}
	}
	return records, events, ok, err
}

// indexCounts is what quickCount counted, for a filter's kinds.
type indexCounts struct {
	kinds           [2]bool // NoRecords, NoEvents
	records, events int64
}

// countIndexes counts as quickCount says.
func (s *snapshot) countIndexes(ctx context.Context, f adapters.Filter) (records, events int64, ok bool, err error) {
	ours, err := ownSchema()
	if err != nil {
		return 0, 0, false, err
	}
	theirs, err := schemaOf(ctx, s.tx)
	if err != nil {
		return 0, 0, false, err
	}
	for _, name := range countIndexes {
		if def, ok := theirs["index "+name]; !ok || def != ours["index "+name] {
			return 0, 0, false, nil
		}
	}
	if !f.NoRecords {
		if err := s.tx.QueryRowContext(ctx, fmt.Sprintf(quickCountSQL, "persist_records"), s.store, s.store).Scan(&records); err != nil {
			return 0, 0, false, fmt.Errorf("count records: %w", err)
		}
	}
	if !f.NoEvents {
		if err := s.tx.QueryRowContext(ctx, fmt.Sprintf(quickCountSQL, "persist_events"), s.store, s.store).Scan(&events); err != nil {
			return 0, 0, false, fmt.Errorf("count events: %w", err)
		}
	}
	return records, events, true, nil
}

// quickCountSQL counts a table's rows of one store (both ?) from the two
// indexes, each read alone (INDEXED BY).
const quickCountSQL = `SELECT (SELECT count(*) FROM %[1]s INDEXED BY %[1]s_chg WHERE store = ? AND chg IS NOT NULL)
	+ (SELECT count(*) FROM %[1]s INDEXED BY %[1]s_unstamped WHERE store = ? AND chg IS NULL)`

// Scan reads ahead on a goroutine of its own, except where the filter
// names keys: a point read (Store.Get) spends more starting the goroutine
// than it could save.
func (s *snapshot) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	return s.read(ctx, f, canonicalValues, f.Keys == nil, plain(fn))
}

// ScanShared checks only its share of the values: the check is most of
// what a scan costs besides SQLite's own work.
func (s *snapshot) ScanShared(ctx context.Context, f adapters.Filter, share int, fn func(*record.Item, adapters.Settle) error) error {
	return s.read(ctx, f, share0+valueMode(share&1), false, fn)
}

// read scans straight from SQLite (rawScan), on the snapshot's connection,
// which it holds until the scan ends: another call on the snapshot
// meanwhile is refused (adapters.ErrScanning) rather than left waiting
// for the connection, or let in to use it at the same time. A driver that
// gives no SQLite handle is read through database/sql (withHandle).
func (s *snapshot) read(ctx context.Context, f adapters.Filter, mode valueMode, ahead bool, fn func(*record.Item, adapters.Settle) error) error {
	end, err := s.scanning.Start(s.store)
	if err != nil {
		return err
	}
	defer end()
	since, err := s.since(ctx, f.Since)
	if err == nil {
		err = s.byName(ctx, f)
	}
	if err != nil {
		return err
	}
	// A read of every row of the store (tombstones too, which --live
	// reads here and passes over) is counted as it goes, for allRead.
	all, live := f, f.Live
	all.Live = false
	counted := wholeKinds(all)
	var read [2]int64 // records, events
	if counted {
		each := fn
		fn = func(it *record.Item, settle adapters.Settle) error {
			if it.IsRecord() {
				read[0]++
			} else {
				read[1]++
			}
			if live && it.Deleted {
				return nil
			}
			return each(it, settle)
		}
		f = all
	}
	handled, err := withHandle(s.conn, func(c *sqlite3.SQLiteConn) error {
		return rawScan(ctx, c, s.store, f, since, mode, ahead, fn)
	})
	if !handled && err == nil {
		err = scan(ctx, s.tx, s.store, f, since, mode, fn)
	}
	err = s.unlocked.first(err)
	if err == nil && counted {
		err = s.allRead(ctx, f, since, read[0], read[1])
	}
	return err
}

// byName refuses a read by name that would pass over rows of that name
// kept as another type (namedRows).
func (s *snapshot) byName(ctx context.Context, f adapters.Filter) error {
	if !readsByName(f) {
		return nil
	}
	return s.unlocked.first(namedRows(ctx, s.tx, s.store, f))
}

// ErrDamaged: a whole store's scan yielded other counts than its indexes
// hold. SQLite can end a walk of a damaged b-tree early without an error;
// the indexes are other b-trees of the file, so a store read whole is
// counted from them too.
var ErrDamaged = errors.New("the file is damaged: a read of the store and its indexes disagree")

// allRead checks a scan of every row of the store (or of a delta's: since
// ≥ 0), which read records and events, against the counts of its indexes:
// quickCount's, or a delta's count, which the change index answers alone
// (a row missing from the table is caught; the change index's own damage,
// which the delta's scan walks too, is not); where the indexes are not as
// this release makes them there is no count apart from the scan's own
// b-tree.
func (s *snapshot) allRead(ctx context.Context, f adapters.Filter, since, records, events int64) error {
	var r, e int64
	ok := true
	var err error
	if since >= 0 {
		r, e, err = count(ctx, s.tx, s.store, f, since)
	} else {
		r, e, ok, err = s.quickCount(ctx, f)
	}
	if err != nil || !ok || (r == records && e == events) {
		return err
	}
	return hint.With(fmt.Errorf("store %q: %w: the scan read %d records and %d events, the indexes count %d and %d",
		s.store, ErrDamaged, records, events, r, e),
		"see what SQLite finds: sqlite3 %[1]s 'PRAGMA integrity_check'; where it names indexes only (\"missing from index\", "+
			"\"wrong # of entries in index\"), rebuilding them mends the file: sqlite3 %[1]s REINDEX; otherwise restore the file from a backup",
		shellQuote(s.path))
}

// OwnBytes: the rows are read into fresh buffers (cRows) or fresh strings
// (the driver's), and a value respelled into a slice of its own (fix).
func (s *snapshot) OwnBytes() {}

// busy refuses a call while the snapshot is being scanned.
func (s *snapshot) busy() error { return s.scanning.Busy(s.store) }

// Cursor is the counter of the last transaction this snapshot sees.
func (s *snapshot) Cursor(ctx context.Context) (string, error) {
	if err := s.busy(); err != nil {
		return "", err
	}
	id, clock, err := s.position(ctx)
	if err != nil {
		return "", err
	}
	c := adapters.Cursor{Adapter: adapterName, Store: id}
	p := cursorPos{clock: clock}
	if s.version >= 3 {
		if c.Mark, err = s.mark(ctx, clock); err != nil {
			return "", err
		}
		if p.cookie, err = schemaCookie(ctx, s.tx); err != nil {
			return "", fmt.Errorf("store %q: %w", s.store, err)
		}
		p.hasCookie = true
	}
	c.Pos = p.String()
	// Read without locks, the clock's page may be read only now: a write
	// since the items were read would give a cursor past them.
	if err := s.unlocked.changed(); err != nil {
		return "", err
	}
	return c.String(), nil
}

// mark is the history's entry for the counter clock, refused when tracking
// was taken apart: changes may have gone unrecorded since.
func (s *snapshot) mark(ctx context.Context, clock int64) (adapters.Mark, error) {
	intact, err := trackingIntact(ctx, s.tx)
	if err != nil {
		return adapters.Mark{}, fmt.Errorf("store %q: read the triggers: %w", s.store, err)
	}
	if !intact {
		return adapters.Mark{}, fmt.Errorf("store %q: %w: a change-tracking trigger is missing or not as Persist makes it, "+
			"or the history's last entry is missing, so changes may have gone unrecorded", s.store, adapters.ErrNoCursor)
	}
	m := adapters.Mark{N: clock}
	err = s.tx.QueryRowContext(ctx, `SELECT token FROM persist_history WHERE chg = ?`, clock).Scan(&m.Token)
	if err != nil {
		return adapters.Mark{}, fmt.Errorf("store %q: read persist_history: %w", s.store, err)
	}
	return m, nil
}

// checkMark refuses a cursor whose history entry this store does not hold
// as the cursor saw it. A cursor without one (from a release before
// history, or a store at version 2) is taken as it was then.
func (s *snapshot) checkMark(ctx context.Context, m adapters.Mark) error {
	if m.Token == "" {
		return nil
	}
	if s.version < 3 {
		return adapters.HistoryError(m, "")
	}
	var token string
	err := s.tx.QueryRowContext(ctx, `SELECT token FROM persist_history WHERE chg = ?`, m.N).Scan(&token)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store %q: read persist_history: %w", s.store, err)
	}
	if token != m.Token {
		return adapters.HistoryError(m, token)
	}
	return nil
}

// adapterName is the adapter's name in cursors.
const adapterName = "sqlite"

// position reads the store's identity and the counter in the snapshot.
func (s *snapshot) position(ctx context.Context) (id string, clock int64, err error) {
	if s.version < 2 {
		return "", 0, fmt.Errorf("store %q: %w (schema version %d)", s.store, adapters.ErrNoCursor, s.version)
	}
	var dbID string
	var quiet int64
	err = s.tx.QueryRowContext(ctx, `SELECT (SELECT value FROM persist_meta WHERE key = 'id'), chg, quiet FROM persist_clock`).Scan(&dbID, &clock, &quiet)
	if err != nil {
		return "", 0, fmt.Errorf("store %q: read the change counter: %w", s.store, err)
	}
	if quiet != 0 {
		// Only a Persist transaction sets it, and clears it before it
		// commits: committed, it would hide other writers' changes.
		return "", 0, fmt.Errorf("store %q: persist_clock was committed with quiet = %d, so changes may have gone unrecorded: %w", s.store, quiet, adapters.ErrCursor)
	}
	return adapters.StoreID(adapterName, []string{dbID}, s.store), clock, nil
}

// since checks a Filter's Since against the store and returns the counter
// it names (-1 for no Since): rows with a larger chg are what changed after.
func (s *snapshot) since(ctx context.Context, cursor string) (int64, error) {
	if cursor == "" {
		return -1, nil
	}
	id, clock, err := s.position(ctx)
	if err != nil {
		return 0, err
	}
	c, err := adapters.CheckCursor(cursor, adapterName, id)
	if err != nil {
		return 0, err
	}
	p, err := parsePos(c.Pos)
	if err != nil {
		return 0, err
	}
	pos := p.clock
	if pos > clock {
		return 0, fmt.Errorf("%w: the store's change counter is %d, behind the cursor's %d: the file was restored from an older copy, or replaced", adapters.ErrCursor, clock, pos)
	}
	if c.Mark.Token != "" && c.Mark.N != pos {
		return 0, fmt.Errorf("%w: %q is not a well-formed cursor", adapters.ErrCursor, cursor)
	}
	if err := s.checkMark(ctx, c.Mark); err != nil {
		return 0, err
	}
	if s.version >= 3 {
		// Tracking taken apart since the cursor: its changes may be
		// missing from the delta.
		if _, err := s.mark(ctx, clock); err != nil {
			return 0, err
		}
		if err := s.checkCookie(ctx, p, c.Mark); err != nil {
			return 0, err
		}
	}
	var removed sql.NullInt64
	err = s.tx.QueryRowContext(ctx, `SELECT chg FROM persist_removals WHERE store = ?`, s.store).Scan(&removed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store %q: read removals: %w", s.store, err)
	}
	if removed.Valid && removed.Int64 > pos {
		return 0, fmt.Errorf("store %q: %w (the last at change %d)", s.store, adapters.ErrRemoved, removed.Int64)
	}
	return pos, nil
}

// Close ends the read transaction; it only ever read, so rolling back loses
// nothing.
func (s *snapshot) Close() error {
	err := s.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil
	}
	if cerr := s.conn.Close(); err == nil && !errors.Is(cerr, sql.ErrConnDone) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close snapshot of store %q: %w", s.store, err)
	}
	return nil
}
