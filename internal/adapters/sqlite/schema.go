package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// schemaVersion is the version of the tables below, kept in persist_meta so
// that a later release can recognise and migrate them. Version 1 had no
// change tracking (no chg columns, clock, removals or sources); a database
// with the tables but without persist_meta (another implementation of the
// contract) is version 1 too. Version 3 added persist_history, which ties a
// cursor to the store's history.
const schemaVersion = 3

// ErrSchemaVersion is returned when the file holds a Persist schema of a
// version this release does not know.
var ErrSchemaVersion = errors.New("unsupported persist schema version")

// tablesDDL creates the schema in docs/format.md. Text columns use the BINARY collation
// (SQLite's default), so the primary keys order strings bytewise, and the
// tables are WITHOUT ROWID so that the primary key is the table's own order:
// a dump reads the table in order instead of sorting it. A version 1 file
// has these tables without chg, which the upgrade adds.
var tablesDDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       TEXT PRIMARY KEY,
		created_at TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      TEXT NOT NULL,
		collection TEXT NOT NULL,
		key        TEXT NOT NULL,
		version    INTEGER NOT NULL CHECK (version >= 1),
		updated_at TEXT NOT NULL,
		deleted    INTEGER NOT NULL,
		value      TEXT,
		chg        INTEGER,
		PRIMARY KEY (store, collection, key)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  TEXT NOT NULL,
		stream TEXT NOT NULL,
		seq    INTEGER NOT NULL CHECK (seq >= 1),
		type   TEXT NOT NULL,
		at     TEXT NOT NULL,
		data   TEXT,
		chg    INTEGER,
		PRIMARY KEY (store, stream, seq)
	) WITHOUT ROWID`,
}

// Change tracking (docs/format.md, "Change tracking"). SQLite has one
// writer at a time, so a counter bumped by writing transactions orders
// them as they commit: persist_clock holds it, and chg on a row is the
// counter of the transaction that last wrote it. A snapshot's cursor is the
// counter it sees; what changed after it is chg > cursor, read through the
// (store, chg) index. Rows from before the upgrade keep chg NULL: every
// cursor is younger than them, and the partial index leaves them out.
//
// Persist's own transactions bump the counter once and stamp their rows
// themselves, with quiet set so that the triggers stand aside for those
// rows (and stamp any other that a trigger of the file's own writes
// meanwhile with the same counter); they clear it before they commit. For
// every other writer (an application writing the tables, sqlite3 by hand)
// quiet is 0 and the triggers stamp each row it writes with a counter of
// its own, and log what it deletes outright: persist_removals holds, per
// store, the counter of the last outright delete, which a delta from an
// older cursor cannot express.
var trackingDDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_clock (
		id    INTEGER PRIMARY KEY CHECK (id = 1),
		chg   INTEGER NOT NULL,
		quiet INTEGER NOT NULL DEFAULT 0
	)`,
	`INSERT INTO persist_clock (id, chg, quiet) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING`,
	// One row per value of the counter, with a random token: a cursor
	// carries the one at its counter, and a delta from it is refused
	// unless the store still holds that very row (a copy restored from
	// before it, written to since, has drawn other tokens).
	`CREATE TABLE IF NOT EXISTS persist_history (
		chg   INTEGER PRIMARY KEY,
		token TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS persist_removals (
		store TEXT PRIMARY KEY,
		chg   INTEGER NOT NULL
	) WITHOUT ROWID`,
	// persist-load's chain check: the last stream from each source store
	// loaded whole into a store.
	`CREATE TABLE IF NOT EXISTS persist_sources (
		store     TEXT NOT NULL,
		source    TEXT NOT NULL,
		cursor    TEXT NOT NULL,
		loaded_at TEXT NOT NULL,
		PRIMARY KEY (store, source)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS persist_records_chg ON persist_records (store, chg) WHERE chg IS NOT NULL`,
	`CREATE INDEX IF NOT EXISTS persist_events_chg ON persist_events (store, chg) WHERE chg IS NOT NULL`,
	priorDDL,
	triggers("persist_records", "collection", "key", recordTracking) + priorTrigger,
	triggers("persist_events", "stream", "seq", trackParts{}),
}

// priorDDL holds, while another program's insert runs, the version of the
// record it replaces when the insert neither raises it nor leaves the
// record as it was (INSERT OR REPLACE deletes the row it conflicts with,
// and no trigger sees that delete): persist_records_pre, which sees both,
// writes it, the insert trigger takes it. An upsert that went its DO
// UPDATE way, or an insert a conflict stopped, leaves its row until the
// next write of another program's (every trigger of the records empties
// the table) or of Persist's. It holds no value: nothing of a record
// deleted since stays in it.
const priorDDL = `CREATE TABLE IF NOT EXISTS persist_prior (
		store      TEXT NOT NULL,
		collection TEXT NOT NULL,
		key        TEXT NOT NULL,
		version    INTEGER NOT NULL,
		PRIMARY KEY (store, collection, key)
	) WITHOUT ROWID`

// priorTrigger notes, before another program's insert, the version of the
// record it replaces, where the insert neither raises it nor leaves the
// record as it was: the insert's trigger gives it the next (priorBump).
const priorTrigger = `
	DROP TRIGGER IF EXISTS persist_records_pre;
	CREATE TRIGGER persist_records_pre BEFORE INSERT ON persist_records
		WHEN (SELECT quiet NOT IN (1, 2) OR NEW.chg IS NOT chg FROM persist_clock)
		BEGIN
			DELETE FROM persist_prior;
			INSERT INTO persist_prior (store, collection, key, version)
				SELECT store, collection, key, CAST(version AS INTEGER) FROM persist_records
				WHERE store = NEW.store AND collection = NEW.collection AND key = NEW.key
					AND NEW.version <= version AND (NEW.version IS NOT version OR NEW.value IS NOT value
						OR NEW.deleted IS NOT deleted OR NEW.updated_at IS NOT updated_at);
		END;`

// priorBump and priorLimit are recordBump and recordLimit for an insert
// that replaced a record (persist_prior).
const (
	priorBump  = `, version = coalesce((SELECT p.version + 1 FROM persist_prior p WHERE ` + priorRow + `), version)`
	priorLimit = `SELECT RAISE(ABORT, 'persist_records: the record replaced is at version 9223372036854775807, the largest there is, ` +
		`so this change cannot get a newer version and would reach no copy of the store: refused (store the value under a new key instead)')
			WHERE EXISTS (SELECT 1 FROM persist_prior p WHERE ` + priorRow + ` AND p.version >= 9223372036854775807);
			`
)

// priorRow finds, p in persist_prior, the row an insert replaced.
const priorRow = `p.store = NEW.store AND p.collection = NEW.collection AND p.key = NEW.key`

// countDDL lets a whole store be counted from two small indexes instead of
// its tables (a tenth of the pages): the change index holds every row with
// a chg, and these every row without one, which Persist's writes and the
// triggers leave none of. They change no schema version: a file without
// them is counted from its tables (quickCount), and this release's first
// write adds them (migrate).
var countDDL = []string{
	`CREATE INDEX IF NOT EXISTS persist_records_unstamped ON persist_records (store, chg) WHERE chg IS NULL`,
	`CREATE INDEX IF NOT EXISTS persist_events_unstamped ON persist_events (store, chg) WHERE chg IS NULL`,
}

// unstampedIndexes are countDDL's.
var unstampedIndexes = []string{"persist_records_unstamped", "persist_events_unstamped"}

// recordBump gives a record that another program changed without raising
// its version the next version: a record's version tells its contents
// apart (a load merges by it, skips a lower one as stale, and calls equal
// versions with other contents a conflict), so a hand edit that kept or
// lowered the version would otherwise reach no copy. CAST keeps the next
// version an integer where a hand left a real in the column.
const recordBump = `, version = CASE WHEN ` + recordLowered + ` THEN CAST(OLD.version AS INTEGER) + 1 ELSE version END`

// recordLowered is an update that changed a record but did not raise its
// version.
const recordLowered = `NEW.version <= OLD.version AND (NEW.version IS NOT OLD.version OR NEW.value IS NOT OLD.value
	OR NEW.deleted IS NOT OLD.deleted OR NEW.updated_at IS NOT OLD.updated_at)`

// recordLimit refuses such an update of a record at the largest version:
// one more would be a REAL, which no reader takes for a version.
const recordLimit = `SELECT RAISE(ABORT, 'persist_records: the record is at version 9223372036854775807, the largest there is, ` +
	`so this change cannot get a newer version and would reach no copy of the store: refused (store the value under a new key instead)')
			WHERE ` + recordLowered + ` AND CAST(OLD.version AS INTEGER) >= 9223372036854775807;`

// triggers stamps and logs the writes of other programs to table, whose
// primary key is (store, a, b); bump is more of what an update sets, and
// limit a check before it; clear ends an update's and a delete's work.
//
// A trigger stands aside for a row that carries the counter already:
// Persist's own writes, and a trigger's own stamp. quiet says who holds the
// counter: 0 no one, so the trigger takes the next one (and its history
// entry) and holds it as 2 until it is done; 1 a Persist transaction, 2 a
// trigger. A row written meanwhile by another trigger (an application's,
// set off by the write) gets the counter as it is: it is that writer's
// change too.
func triggers(table, a, b string, p trackParts) string {
	row := `store = NEW.store AND ` + a + ` = NEW.` + a + ` AND ` + b + ` = NEW.` + b
	removal := `INSERT INTO persist_removals (store, chg) SELECT OLD.store, (SELECT chg FROM persist_clock) WHERE %s
			ON CONFLICT (store) DO UPDATE SET chg = excluded.chg;`
	moved := fmt.Sprintf(removal, `OLD.store IS NOT NEW.store OR OLD.`+a+` IS NOT NEW.`+a+` OR OLD.`+b+` IS NOT NEW.`+b)
	history := `INSERT OR REPLACE INTO persist_history (chg, token) SELECT chg, lower(hex(randomblob(8))) FROM persist_clock WHERE %s;`
	take := `UPDATE persist_clock SET chg = chg + 1, quiet = 2 WHERE quiet NOT IN (1, 2);
			` + fmt.Sprintf(history, `quiet = 2`)
	unstamped := `WHEN (SELECT quiet NOT IN (1, 2) OR NEW.chg IS NOT chg FROM persist_clock)`
	release := `UPDATE persist_clock SET quiet = 0 WHERE quiet = 2;`
	return `DROP TRIGGER IF EXISTS ` + table + `_ins;
	DROP TRIGGER IF EXISTS ` + table + `_upd;
	DROP TRIGGER IF EXISTS ` + table + `_del;
	CREATE TRIGGER ` + table + `_ins AFTER INSERT ON ` + table + `
		` + unstamped + `
		BEGIN
			` + p.insLimit + take + `
			UPDATE ` + table + ` SET chg = (SELECT chg FROM persist_clock)` + p.insBump + ` WHERE ` + row + `;
			` + p.clear + release + `
		END;
	CREATE TRIGGER ` + table + `_upd AFTER UPDATE ON ` + table + `
		` + unstamped + `
		BEGIN
			` + p.limit + take + `
			UPDATE ` + table + ` SET chg = (SELECT chg FROM persist_clock)` + p.bump + ` WHERE ` + row + `;
			` + moved + p.clear + `
			` + release + `
		END;
	CREATE TRIGGER ` + table + `_del AFTER DELETE ON ` + table + `
		WHEN (SELECT quiet NOT IN (1, 2) FROM persist_clock)
			OR NOT EXISTS (SELECT 1 FROM persist_removals WHERE store = OLD.store AND chg = (SELECT chg FROM persist_clock))
		BEGIN
			UPDATE persist_clock SET chg = chg + 1 WHERE quiet NOT IN (1, 2);
			` + fmt.Sprintf(history, `quiet NOT IN (1, 2)`) + `
			` + fmt.Sprintf(removal, `true`) + p.clear + `
		END;`
}

// trackParts are what a table's tracking triggers do besides stamping and
// logging (triggers): an update's bump and the limit checked before it,
// an insert's likewise (of the row it replaced, persist_prior), and what
// ends every one of them (clear).
type trackParts struct{ bump, limit, insBump, insLimit, clear string }

// recordTracking is the records': a version lowered or kept by an update or
// by an INSERT OR REPLACE gets the next one.
var recordTracking = trackParts{bump: recordBump, limit: recordLimit, insBump: priorBump, insLimit: priorLimit,
	clear: `DELETE FROM persist_prior;
			`}

// ensureSchema creates or upgrades the schema in its own transaction, once
// per adapter.
func (a *Adapter) ensureSchema(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.schemaOK {
		return nil
	}
	if _, err := a.migrate(ctx, true); err != nil {
		return err
	}
	a.schemaOK = true
	return nil
}

// Upgrade brings an existing schema to this release's version, or repairs
// its change tracking.
func (a *Adapter) Upgrade(ctx context.Context) (adapters.Upgraded, error) {
	if a.w == nil {
		return adapters.Upgraded{}, fmt.Errorf("upgrade schema: %w", ErrReadOnly)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, err := a.migrate(ctx, false)
	if err == nil && u.To == schemaVersion {
		a.schemaOK = true
	}
	return u, a.writeError(err)
}

// migrate runs in one write transaction: SQLite's DDL is transactional, so
// an upgrade that fails half-way leaves the file as it was. create says
// whether a file without the schema gets it; only Upgrade (not create)
// repairs tracking that a hand took apart (a trigger dropped,
// persist_history emptied).
func (a *Adapter) migrate(ctx context.Context, create bool) (adapters.Upgraded, error) {
	// Detached from ctx, as Begin's: database/sql would roll it back from
	// a goroutine of its own once ctx is done, and the statement under way
	// would say "transaction has already been committed or rolled back"
	// instead of the deadline. The statements take ctx; so does the commit.
	if err := ctx.Err(); err != nil {
		return adapters.Upgraded{}, fmt.Errorf("create schema: %w", err)
	}
	conn, err := a.w.Conn(ctx)
	if err != nil {
		return adapters.Upgraded{}, fmt.Errorf("create schema: %w", err)
	}
	defer conn.Close()
	tx, err := beginBounded(ctx, conn)
	if err != nil {
		return adapters.Upgraded{}, fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	from, err := a.writableVersion(ctx, tx)
	if err != nil {
		return adapters.Upgraded{}, err
	}
	u := adapters.Upgraded{From: from, To: from}
	work, err := adapters.PlanSchema(from, schemaVersion, create, func() (bool, error) { return trackingIntact(ctx, tx) })
	switch {
	case err != nil:
		return u, fmt.Errorf("read schema: %w", err)
	case work == adapters.SchemaAsIs && from == schemaVersion:
		err := refresh(ctx, tx)
		if err == nil {
			a.wrote.Store(true) // refresh commits
		}
		return u, err
	case work == adapters.SchemaAsIs:
		return u, nil
	case work == adapters.SchemaTooNew:
		return u, fmt.Errorf("schema version %d, this release knows up to %d (upgrade Persist): %w", from, schemaVersion, ErrSchemaVersion)
	}
	if err := upgrade(ctx, tx); err != nil {
		return u, fmt.Errorf("upgrade schema from version %d to %d: %w", from, schemaVersion, err)
	}
	if err := ctx.Err(); err != nil {
		return u, fmt.Errorf("upgrade schema from version %d to %d: %w", from, schemaVersion, err)
	}
	if err := tx.Commit(); err != nil {
		return u, fmt.Errorf("upgrade schema from version %d to %d: %w", from, schemaVersion, err)
	}
	a.wrote.Store(true)
	return adapters.Upgraded{From: from, To: schemaVersion, Repaired: work == adapters.SchemaRepair}, nil
}

// upgrade makes any older schema (or none) version 2. Adding a column
// without a default only rewrites the table's definition, not its rows.
func upgrade(ctx context.Context, tx *sql.Tx) error {
	if err := othersTables(ctx, tx); err != nil {
		return err
	}
	for _, q := range tablesDDL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for _, table := range []string{"persist_records", "persist_events"} {
		has, err := hasColumn(ctx, tx, table, "chg")
		if err != nil {
			return err
		}
		if !has {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN chg INTEGER`); err != nil {
				return err
			}
		}
	}
	for _, q := range slices.Concat(trackingDDL, countDDL) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// A new history, starting at the counter as it is: cursors from before
	// version 3 carry no entry, and are taken as they were; those from
	// before a repair (when tracking may have been off) find no entry of
	// theirs, and are refused.
	_, err := tx.ExecContext(ctx, `DELETE FROM persist_history`)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_history (chg, token) SELECT chg, ? FROM persist_clock`, newToken())
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_meta (key, value) VALUES ('id', ?) ON CONFLICT (key) DO NOTHING`,
			newID())
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM persist_meta WHERE key = ?`, schemaStepKey)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_meta (key, value) VALUES ('schema_version', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(schemaVersion))
	}
	return err
}

// refresh brings a file of this version to this release's make, in one
// transaction: Persist's own triggers as this release writes them, and
// countDDL's indexes. Either changes the file's schema cookie, which a
// cursor carries (cookie.go): the step is noted in persist_meta, so that a
// cursor taken just before it (by a reader, which never writes) is still
// taken. Nothing went unrecorded meanwhile: the write lock was held.
func refresh(ctx context.Context, tx *sql.Tx) error {
	before, err := schemaCookie(ctx, tx)
	if err != nil {
		return err
	}
	replaced, byHand, err := replaceTriggers(ctx, tx)
	if err != nil {
		return fmt.Errorf("bring the change-tracking triggers up to date: %w", err)
	}
	addCountIndexes(ctx, tx)
	after, err := schemaCookie(ctx, tx)
	if err != nil || after == before {
		return err
	}
	if byHand {
		// The step put back a trigger rewritten by hand: no cursor of
		// before it may pass it.
		_, err = tx.ExecContext(ctx, `DELETE FROM persist_meta WHERE key = ?`, schemaStepKey)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, schemaStepKey, fmt.Sprintf("%d %d", before, after))
	}
	if err == nil {
		err = ctx.Err() // the transaction is detached from ctx (migrate)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil && replaced {
		return fmt.Errorf("bring the change-tracking triggers up to date: %w", err)
	}
	return nil
}

// replaceTriggers makes again those of Persist's triggers whose SQL is not
// this release's: an earlier release's, or one rewritten by hand (byHand).
// A missing one is left for Upgrade's repair, whose new history refuses
// the cursors from before it, as changes may have gone unrecorded.
func replaceTriggers(ctx context.Context, tx *sql.Tx) (replaced, byHand bool, err error) {
	ours, err := ownTriggerSQL()
	if err != nil {
		return false, false, err
	}
	theirs, err := fileTriggers(ctx, tx)
	if err != nil {
		return false, false, err
	}
	if earlierSet(theirs) {
		// The trigger this release added, and the table it writes.
		if _, err := tx.ExecContext(ctx, priorDDL+`; `+ours[newTrigger]); err != nil {
			return false, false, fmt.Errorf("trigger %s: %w", newTrigger, err)
		}
		replaced = true
	}
	for _, name := range ownTriggers {
		def, ok := theirs[name]
		if !ok || def == ours[name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+name+`; `+ours[name]); err != nil {
			return false, false, fmt.Errorf("trigger %s: %w", name, err)
		}
		replaced, byHand = true, byHand || !earlierTrigger(name, def)
	}
	return replaced, byHand, nil
}

// addCountIndexes adds countDDL's indexes to a file of this version made
// before them. Each is built once, reading its table, under the write lock
// migrate holds; after that, the statements find them there and write
// nothing. They only spare counting the tables, so a file where they cannot
// be made (a table or view of another program's under one of their names)
// is left as it was, and written to as before: the savepoint undoes them.
func addCountIndexes(ctx context.Context, tx *sql.Tx) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT count_indexes`); err != nil {
		return
	}
	for _, q := range countDDL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tx.ExecContext(ctx, `ROLLBACK TO count_indexes`)
			break
		}
	}
	tx.ExecContext(ctx, `RELEASE count_indexes`)
}

// firstColumns are the columns of Persist's first tables, which every
// release since has, primary key first, in its order.
var firstColumns = []struct {
	table string
	key   int // how many of cols are the primary key
	cols  []string
}{
	{"persist_stores", 1, []string{"name", "created_at"}},
	{"persist_records", 3, []string{"store", "collection", "key", "version", "updated_at", "deleted", "value"}},
	{"persist_events", 3, []string{"store", "stream", "seq", "type", "at", "data"}},
}

// othersTables refuses a table of one of Persist's first names that is
// not shaped as Persist's: without one of its columns, keyed otherwise, or
// with a column Persist does not write that may not be left out (NOT NULL
// without a default). Such a table is another program's, which the
// schema's CREATE TABLE IF NOT EXISTS would take for Persist's, and its
// ALTER and triggers change, in a transaction that commits before the
// first write fails (or, where the write fits, writes into it).
func othersTables(ctx context.Context, tx *sql.Tx) error {
	for _, t := range firstColumns {
		cols, err := tableColumns(ctx, tx, t.table)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			continue // not there
		}
		if why := unlikePersist(cols, t.key, t.cols); why != "" {
			return hint.With(fmt.Errorf("%w: %s %s: the tables under Persist's names in this file are another program's",
				adapters.ErrNotPersistTable, t.table, why),
				"keep the store in a file of its own (sqlite:OTHER.db); this one is left as it is")
		}
	}
	return nil
}

// column is a row of pragma_table_info.
type column struct {
	name     string
	required bool // NOT NULL without a default
	pk       int  // its place in the primary key, from 1; 0 outside it
}

func tableColumns(ctx context.Context, tx *sql.Tx, table string) ([]column, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, "notnull" AND dflt_value IS NULL, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.required, &c.pk); err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	return cols, nil
}

// unlikePersist says how cols differ from a table of Persist's whose
// columns are want, the first key of them its primary key; "" where
// they do not.
func unlikePersist(cols []column, key int, want []string) string {
	for _, w := range want {
		if !slices.ContainsFunc(cols, func(c column) bool { return c.name == w }) {
			return "has no column " + w
		}
	}
	for _, c := range cols {
		i := slices.Index(want, c.name)
		switch {
		case i >= 0 && i < key && c.pk != i+1, i >= key && c.pk != 0, i < 0 && c.pk != 0:
			return "has another primary key than (" + strings.Join(want[:key], ", ") + ")"
		case i < 0 && c.required && c.name != "chg":
			return "has a column " + c.name + " that Persist would leave empty, and may not be"
		}
	}
	return ""
}

func hasColumn(ctx context.Context, tx *sql.Tx, table, col string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, col).Scan(&n)
	return n > 0, err
}

// readVersion is the schema version of the file: 0 without the Persist
// tables, 1 with them but without a version record.
//
// a.checked is the schema cookie (plus one) at which the schema last
// passed schemaTables on this database, tables and all: the schema has not
// changed since when the cookie is the same (every CREATE, DROP and ALTER
// bumps it), so what the file holds besides its rows is not read again.
// It is most of what a Store.Get costs otherwise.
func (a *Adapter) readVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var cookie int64
	err := tx.QueryRowContext(ctx, `SELECT schema_version FROM pragma_schema_version`).Scan(&cookie)
	if err != nil {
		return 0, fmt.Errorf("read schema: %w", err)
	}
	if a.checked.Load() != cookie+1 {
		stores, meta, err := schemaTables(ctx, tx, a.path)
		switch {
		case err != nil:
			return 0, err
		case stores == 0:
			return 0, nil
		}
		// Another program's tables under Persist's names, or Persist's
		// made over them by an earlier release.
		if err := othersTables(ctx, tx); err != nil {
			return 0, err
		}
		if meta == 0 {
			return 1, nil
		}
		a.checked.Store(cookie + 1)
	}
	var v string
	err = tx.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key = 'schema_version'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("read schema: persist_meta says schema_version %q: %w", v, ErrSchemaVersion)
	}
	return n, nil
}

// schemaTables says whether the file holds Persist's tables (stores) and
// persist_meta (meta), having refused what no reader may take for them:
// something else than a plain table under one of their names, and names
// compared by another collation than BINARY. One statement reads what the
// schema holds; notPersistTables says what is wrong only when something is.
func schemaTables(ctx context.Context, tx *sql.Tx, path string) (stores, meta int, err error) {
	var odd bool
	err = tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE type = 'table' AND name = 'persist_stores'),
			count(*) FILTER (WHERE type = 'table' AND name = 'persist_meta'),
			count(*) FILTER (WHERE `+notPlainTable+`) > 0
		FROM sqlite_master`).Scan(&stores, &meta, &odd)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema: %w", err)
	}
	if odd {
		if err := notPersistTables(ctx, tx); err != nil {
			return 0, 0, err
		}
	}
	if stores == 0 {
		return 0, 0, nil
	}
	return stores, meta, bytewiseNames(ctx, tx, path)
}

// nameColumns are the columns that name a store, a record or an event,
// which every read and write compares with =, and the dump orders by.
var nameColumns = [][2]string{{"persist_stores", "name"}, {"persist_records", "store"}, {"persist_records", "collection"},
	{"persist_records", "key"}, {"persist_events", "store"}, {"persist_events", "stream"}}

// bytewiseNameSQL tells, of one of nameColumns, how many of 'a', 'A' and
// 'a ' its collation holds apart (three under BINARY, two under NOCASE or
// RTRIM), and the collation its table's primary key compares it by where
// that is not BINARY. The column's collation comes through the compound
// SELECT whose first arm reads it (no row), as SQLite takes a compound's
// collation from its leftmost arm. A collation of an application's own is
// one SQLite cannot load here: the statement fails, naming it.
const bytewiseNameSQL = `SELECT (SELECT count(DISTINCT c) FROM (SELECT %[2]s AS c FROM %[1]s WHERE 0
		UNION ALL SELECT 'a' UNION ALL SELECT 'A' UNION ALL SELECT 'a ')),
	coalesce((SELECT x.coll FROM pragma_index_list('%[1]s') l, pragma_index_xinfo(l.name) x
		WHERE l.origin = 'pk' AND x.key AND x.name = '%[2]s' AND x.coll <> 'BINARY'), '')`

// bytewiseNames refuses a file whose tables compare names by another
// collation than BINARY (a COLLATE NOCASE on persist_records.store, or on
// the primary key's column): store "a" would read and write store "A"'s
// rows as its own, and two stores that differ would sum alike. A table not
// there yet (persist_events of an early file, which the upgrade makes) is
// passed over. It runs once for each schema an adapter sees.
func bytewiseNames(ctx context.Context, tx *sql.Tx, path string) error {
	var there string // the name tables present, as one string
	err := tx.QueryRowContext(ctx, `SELECT coalesce(group_concat(name, ' '), '') FROM sqlite_master
		WHERE type = 'table' AND name IN ('persist_stores', 'persist_records', 'persist_events')`).Scan(&there)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	for _, c := range nameColumns {
		if !slices.Contains(strings.Fields(there), c[0]) {
			continue
		}
		var apart int
		var pk string
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(bytewiseNameSQL, c[0], c[1])).Scan(&apart, &pk); err != nil {
			return fmt.Errorf("read schema: the collation of %s.%s: %w", c[0], c[1], err)
		}
		what := ""
		switch {
		case apart != 3:
			what = fmt.Sprintf("column %s.%s compares text by a collation other than BINARY (a COLLATE in its declaration?)", c[0], c[1])
		case pk != "":
			what = fmt.Sprintf("the primary key of %s compares its column %s by collation %s", c[0], c[1], pk)
		default:
			continue
		}
		return hint.With(fmt.Errorf("%s: names that differ would be taken for one", what),
			"Persist's tables compare names byte for byte: make %s again declared as Persist makes it, without COLLATE, "+
				"and copy its rows into it (sqlite3 %s %s shows how it is declared now); then persist upgrade NAME --location %s "+
				"makes Persist's triggers and indexes on it again", c[0], hint.Quote(path), hint.Quote(".schema "+c[0]), hint.Quote("sqlite:"+path))
	}
	return nil
}

// persistTables are the names of Persist's tables, as SQLite compares
// names: without regard to case.
const persistTables = `'persist_meta', 'persist_stores', 'persist_records', 'persist_events', 'persist_clock',
	'persist_history', 'persist_removals', 'persist_sources', 'persist_prior'`

// notPlainTable selects the rows of sqlite_master that hold something else
// than a plain table under one of Persist's names.
const notPlainTable = `lower(name) IN (` + persistTables + `) AND type <> 'trigger'
	AND (type <> 'table' OR coalesce(sql, '') LIKE 'CREATE VIRTUAL %')`

// notPersistTables refuses a file that holds something else than a plain
// table under one of Persist's names: a view in place of persist_records
// (the table renamed away) would be read as the store, and its INSTEAD OF
// triggers would take the writes; a virtual table shows what its module
// makes up.
func notPersistTables(ctx context.Context, tx *sql.Tx) error {
	var name, kind string
	var virtual bool
	err := tx.QueryRowContext(ctx, `SELECT name, type, coalesce(sql, '') LIKE 'CREATE VIRTUAL %' FROM sqlite_master
		WHERE `+notPlainTable+` LIMIT 1`).Scan(&name, &kind, &virtual)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	what := "a " + kind
	switch {
	case virtual:
		what = "a virtual table"
	case kind == "index":
		what = "an index"
	}
	return hint.With(fmt.Errorf("%w: %s is %s, not a table: what it shows need not be the store", adapters.ErrNotPersistTable, name, what),
		"put Persist's table back under its name: drop what is there (DROP %s %s), then rename the table that holds the store to %s (ALTER TABLE … RENAME TO %[3]s)",
		strings.ToUpper(kind), name, strings.ToLower(name))
}

// writableVersion is readVersion, having refused a store's name kept as
// another type than text (storeTypes) in a schema this release knows; a
// newer one is the caller's to refuse, in its own words.
func (a *Adapter) writableVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	v, err := a.readVersion(ctx, tx)
	if err == nil && v > 0 && v <= schemaVersion {
		err = storeTypes(ctx, tx)
	}
	return v, err
}

// readableVersion is writableVersion for readers, which refuse a schema
// newer than this release's.
func (a *Adapter) readableVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	v, err := a.writableVersion(ctx, tx)
	if err == nil && v > schemaVersion {
		err = fmt.Errorf("schema version %d, this release reads up to %d (upgrade Persist): %w", v, schemaVersion, ErrSchemaVersion)
	}
	return v, err
}

// now is a store's created_at: canonical RFC 3339, like every stored time.
func now() string {
	return time.Now().UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

// newID is a database's random identity (persist_meta's id).
func newID() string {
	var id [16]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// newToken is a random history token (adapters.Mark).
func newToken() string {
	var b [adapters.TokenLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// trackingIntact reports whether every change-tracking trigger is there as
// this release or the one before made it (not one rewritten by hand: a
// trigger that records nothing would pass for one by its name), and the
// history holds an entry for the counter as it is.
func trackingIntact(ctx context.Context, q triggerReader) (bool, error) {
	theirs, err := fileTriggers(ctx, q)
	if err != nil {
		return false, err
	}
	ours, err := ownTriggerSQL()
	if err != nil {
		return false, err
	}
	earlier := earlierSet(theirs)
	for _, name := range ownTriggers {
		def, ok := theirs[name]
		if name == newTrigger && earlier {
			continue
		}
		if !ok || (def != ours[name] && !earlierTrigger(name, def)) {
			return false, nil
		}
	}
	var entries int
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM persist_history WHERE chg = (SELECT chg FROM persist_clock)`).Scan(&entries)
	return entries == 1, err
}

type triggerReader interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// fileTriggers is the SQL of each of Persist's triggers the file holds.
func fileTriggers(ctx context.Context, q triggerReader) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ('`+
		strings.Join(ownTriggers, "', '")+`')`)
	if err != nil {
		return nil, err
	}
	theirs := map[string]string{}
	for rows.Next() {
		var name string
		var def sql.NullString
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		theirs[name] = def.String
	}
	return theirs, errors.Join(rows.Err(), rows.Close())
}

// earlierTriggers are the SHA-256 digests of the triggers the two releases
// before this one made (the same version of the schema): a file of theirs
// keeps them until its first write by this one (refresh), and its cursors
// meanwhile are good. Neither made persist_records_pre.
var earlierTriggers = map[string][]string{
	"persist_records_ins": {"066a0b13cd5e3fa9cd13b96db8b3ccce9c603ac7585bd239c293d7d38b328be9",
		"d2838e21f770f3037a18bab13af5dacd1854e55d88c5d9f2aa39e124788f948f"},
	"persist_records_upd": {"483fa824886c3d898b39c82d0f610a6bc76cd39a0a6fe874195a6b516e72e183",
		"9c52fa113061930d6eb648317eebc27cdb1dd0165a02ed72e9db656faacc1df3"},
	"persist_records_del": {"01580359647818bf7fb40d0acb0cdb87e01ee788bc1bf20aa240f8f95b14c942",
		"134031b3e474773b621ecee5de392a30ea84135e68924691ce5d8cef19105e1d"},
	"persist_events_ins": {"5750e95fafb740dd2f488dd5922f57d19408ecd8ab8538e7f878bbcb22bdd1e8",
		"eafd0b375b8bb1b996d3550c29b52dd38bad2816dd46129de82b0f30d47007a7"},
	"persist_events_upd": {"fd418a1d805799c836cbe57c539b711d895429073d02eab2928d4716a3414e46",
		"c1c27487baab6bd7da74ba8a5815188343c0dc65d83bb4685ca306a2c3fcda5e"},
	"persist_events_del": {"824b8843c40177753387038a6d66622a99e1014804c75c2d5bca2cad0ca513a6",
		"6829c9935999b76289bbcb6189432cd9809468bad999f8c44da0e07ffa2ed3f8"},
}

// newTrigger is the trigger this release added: a file whose insert
// trigger is an earlier release's lacks it, as that release made it.
const newTrigger = "persist_records_pre"

func earlierTrigger(name, def string) bool {
	sum := sha256.Sum256([]byte(def))
	return slices.Contains(earlierTriggers[name], hex.EncodeToString(sum[:]))
}

// earlierSet reports whether theirs lacks newTrigger as an earlier
// release's triggers do: with the insert trigger that release made.
func earlierSet(theirs map[string]string) bool {
	_, has := theirs[newTrigger]
	return !has && earlierTrigger("persist_records_ins", theirs["persist_records_ins"])
}
