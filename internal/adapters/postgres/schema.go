package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// schemaVersion is the version of the tables below, kept in persist_meta so
// that a later release can tell what it finds and migrate it. Version 1 had
// no change tracking; a database with the tables but without persist_meta
// (another implementation of the contract) is version 1 too. Version 3 made
// the tracking triggers fire under session_replication_role = replica too,
// and added persist_history, which ties a cursor to the store's history.
const schemaVersion = 3

// schemaLock is the pg_advisory_xact_lock key that serialises schema creation
// between processes: concurrent CREATE TABLE IF NOT EXISTS can otherwise fail
// on the catalog's unique indexes. It is "persist1" read as a big-endian int64.
const schemaLock int64 = 0x7065727369737431

// tablesDDL is version 1's tables; upgradeDDL adds what version 2 tracks.
var tablesDDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   text COLLATE "C" PRIMARY KEY,
		value text NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       text COLLATE "C" PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      text COLLATE "C",
		collection text COLLATE "C",
		key        text COLLATE "C",
		version    bigint NOT NULL CHECK (version >= 1),
		updated_at timestamptz NOT NULL,
		deleted    boolean NOT NULL,
		value      jsonb,
		PRIMARY KEY (store, collection, key))`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  text COLLATE "C",
		stream text COLLATE "C",
		seq    bigint CHECK (seq >= 1),
		type   text NOT NULL,
		at     timestamptz NOT NULL,
		data   jsonb,
		PRIMARY KEY (store, stream, seq))`,
}

// Change tracking (docs/format.md, "Change tracking"). Neither a sequence
// nor a clock orders PostgreSQL's transactions as they commit, but snapshots
// do: chg on a row is the id of the transaction that last wrote it
// (txid_current(), the top-level id even inside a savepoint, with the epoch,
// so it never wraps), and a cursor is a snapshot's txid_current_snapshot().
// What changed after a cursor is what its snapshot did not see: chg ≥ xmin
// and (chg ≥ xmax or chg in xip), a transaction still open then included.
//
// Inserts get chg from the column's DEFAULT, set after the column was
// added, so the rows already there are not rewritten (they keep chg NULL,
// older than any cursor, and out of the partial index). A BEFORE UPDATE
// trigger stamps updates by any program; Persist's own set chg themselves,
// which the trigger's WHEN lets through without calling it. Deletes are
// logged per statement in persist_removals, with the store Persist names in
// persist.removing, or NULL (any store) for other programs.
//
// The functions are SECURITY DEFINER with the tables' schema as their
// search_path: a role with only DML rights on the tables can still write
// through them, and a session with another search_path finds the tables.
// markBody is persist_mark's body, the one trigger function a write of new
// rows runs: provenRows checks that the server still runs this text.
const markBody = `
		BEGIN
			INSERT INTO persist_history (txid, token) SELECT txid_current(), substr(md5(random()::text || clock_timestamp()::text), 1, 16)
				WHERE NOT EXISTS (SELECT 1 FROM persist_history WHERE txid = txid_current());
			RETURN NULL;
		END `

// removedBody is persist_removed's body, which logs a statement's deletes.
const removedBody = `
		DECLARE
			s text := CASE WHEN TG_OP = 'DELETE' THEN nullif(current_setting('persist.removing', true), '') END;
		BEGIN
			INSERT INTO persist_removals (store, chg) SELECT s, txid_current()
				WHERE NOT EXISTS (SELECT 1 FROM persist_removals WHERE store IS NOT DISTINCT FROM s AND chg = txid_current());
			RETURN NULL;
		END `

func upgradeDDL(schema string) []string {
	path := `SECURITY DEFINER SET search_path = ` + pq.QuoteIdentifier(schema) + `, pg_temp`
	ddl := []string{
		`CREATE TABLE IF NOT EXISTS persist_removals (
			store text COLLATE "C",
			chg   bigint NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS persist_sources (
			store     text COLLATE "C",
			source    text COLLATE "C",
			cursor    text NOT NULL,
			loaded_at timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (store, source))`,
		// One row per writing transaction, with a random token: a cursor
		// carries the newest its snapshot saw, and a delta from it is
		// refused unless that row is still there. The key has the token
		// too: a logical replica that is sent the table's rows never
		// collides with the rows its own writes make.
		`CREATE TABLE IF NOT EXISTS persist_history (
			txid  bigint,
			token text,
			PRIMARY KEY (txid, token))`,
		`CREATE OR REPLACE FUNCTION persist_mark() RETURNS trigger LANGUAGE plpgsql ` + path + ` AS $$` + markBody + `$$`,
		`CREATE OR REPLACE FUNCTION persist_removed() RETURNS trigger LANGUAGE plpgsql ` + path + ` AS $$` + removedBody + `$$`,
		// The last outright delete in store s, or in any store, that a
		// snapshot (xmin, xmax, xip) did not see; NULL when none.
		`CREATE OR REPLACE FUNCTION persist_removed_since(text, bigint, bigint, bigint[]) RETURNS bigint
			LANGUAGE sql STABLE ` + path + ` AS $$
			SELECT max(chg) FROM persist_removals
			WHERE (store = $1 OR store IS NULL) AND chg >= $2 AND (chg >= $3 OR chg = ANY ($4))
		$$`,
	}
	for _, t := range []struct{ table, a, b, bump string }{
		{"persist_records", "collection", "key", recordBump},
		{"persist_events", "stream", "seq", ""},
	} {
		moved := movedTest(t.a, t.b)
		ddl = append(ddl,
			`ALTER TABLE `+t.table+` ADD COLUMN IF NOT EXISTS chg bigint`,
			`ALTER TABLE `+t.table+` ALTER COLUMN chg SET DEFAULT txid_current()`,
		)
		ddl = append(append(ddl, chgCheckDDL(t.table)...),
			// On chg alone: a delta finds the rows from xmin on and keeps
			// its store's; a bigint key costs a load less than (store, chg).
			`CREATE INDEX IF NOT EXISTS `+t.table+`_chg ON `+t.table+` (chg) WHERE chg IS NOT NULL`,
			stampFunction(path, t.table, t.bump, moved),
			`DROP TRIGGER IF EXISTS `+t.table+`_stamp ON `+t.table,
			stampTrigger(t.table, [2]string{t.a, t.b}, t.bump != ""),
			stampMark(t.table),
			`DROP TRIGGER IF EXISTS `+t.table+`_removed ON `+t.table,
			`CREATE TRIGGER `+t.table+`_removed AFTER DELETE OR TRUNCATE ON `+t.table+` FOR EACH STATEMENT
				EXECUTE FUNCTION persist_removed()`,
			`DROP TRIGGER IF EXISTS `+t.table+`_mark ON `+t.table,
			`CREATE TRIGGER `+t.table+`_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON `+t.table+` FOR EACH STATEMENT
				EXECUTE FUNCTION persist_mark()`,
		)
		// A session with session_replication_role = replica (pg_restore
		// --disable-triggers, logical replication's apply workers, some ETL
		// tools) skips triggers that are merely enabled: its writes would
		// reach no delta.
		for _, trg := range []string{"_stamp", "_removed", "_mark"} {
			ddl = append(ddl, `ALTER TABLE `+t.table+` ENABLE ALWAYS TRIGGER `+t.table+trg)
		}
	}
	// Roles that may write or read the records may do as much with the
	// new persist_sources, which loads read and write, and may read
	// persist_meta (new where another implementation made the tables),
	// where every tool reads the version and a cursor the store's identity:
	// rights granted on the version 1 tables keep working after the upgrade.
	ddl = append(ddl, `DO $$
	DECLARE r record;
	BEGIN
		FOR r IN SELECT a.grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
			WHERE c.oid = 'persist_records'::regclass AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
		LOOP
			EXECUTE format('GRANT %s ON persist_sources TO %s', r.privilege_type,
				CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
			IF r.privilege_type = 'SELECT' THEN
				EXECUTE format('GRANT SELECT ON persist_meta, persist_history TO %s',
					CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
			END IF;
		END LOOP;
	END $$`)
	return ddl
}

// chgCheck is the check on each table's chg, as pg_get_expr reads it back
// with pg_catalog first on the search_path: a row written is stamped with
// its transaction's id. The default gives it to every insert that leaves
// chg out, and the _stamp trigger to every update; an INSERT naming chg
// itself (a row copied with INSERT … SELECT *, pg_restore --data-only, a
// logical replica's apply) would keep a value no cursor sees as new, and
// reach no delta, so it is refused. NOT VALID: the rows already there are
// older than any cursor, and pg_dump puts such a check after the data.
// chgCheckDef is how it is made, bound to pg_catalog's operator and
// function whatever the search_path.
const (
	chgCheck    = `((chg IS NOT NULL) AND (chg = txid_current()))`
	chgCheckDef = `((chg IS NOT NULL) AND (chg OPERATOR(pg_catalog.=) pg_catalog.txid_current()))`
)

// chgTables are the tables with a chg check.
var chgTables = []string{"persist_records", "persist_events"}

// chgCheckName is the check's name on table, which an INSERT it refuses
// names in its error.
func chgCheckName(table string) string { return table + "_chg_stamped" }

// chgCheckDDL makes table's check this release's, in place of any of its
// name.
func chgCheckDDL(table string) []string {
	name := chgCheckName(table)
	return []string{
		`ALTER TABLE ` + table + ` DROP CONSTRAINT IF EXISTS ` + name,
		`ALTER TABLE ` + table + ` ADD CONSTRAINT ` + name + ` CHECK ` + chgCheckDef + ` NOT VALID`,
		`COMMENT ON CONSTRAINT ` + name + ` ON ` + table + ` IS 'Persist: chg is the writing transaction''s txid_current(), ` +
			`which its default gives: leave chg out of an INSERT (a row naming another would reach no incremental dump)'`,
	}
}

// recordBump gives a record that another program changed without raising
// its version the next version: a record's version tells its contents
// apart (a load merges by it, and calls equal versions with other contents
// a conflict), so a hand edit of a value would otherwise reach no copy, and
// one that lowered the version (a row put back from an old backup) would
// reach every copy as a stale line, skipped. At the last version there is
// no next one: the edit is refused.
const recordBump = `
				IF NEW.version <= OLD.version AND (NEW.value, NEW.deleted, NEW.updated_at, NEW.version)
						IS DISTINCT FROM (OLD.value, OLD.deleted, OLD.updated_at, OLD.version) THEN
					IF OLD.version = 9223372036854775807 THEN
						RAISE EXCEPTION 'persist: record %/% is at the last version, 9223372036854775807: an edit cannot be given a newer one',
							OLD.collection, OLD.key;
					END IF;
					NEW.version := OLD.version + 1;
				END IF;`

// stampTrigger creates table's _stamp trigger. Persist's own writes set chg
// themselves, which its WHEN lets through without calling the function; so
// does every update after the first in another program's transaction,
// which the first stamped. For records, an update that lowers the version
// calls it all the same (a second UPDATE in one transaction putting a row
// back from an old backup), unless Persist's own transaction wrote it
// (persist.writer, which txSetup sets: a replace or a patch writes the
// versions it is given).
func stampTrigger(table string, key [2]string, records bool) string {
	// The key's columns one by one, not as a row: the server keeps a row
	// comparison as a nested OR, which pg_dump writes out and a restore
	// reads back flat, and the condition's fingerprint (stampMark) would
	// change with it.
	when := `NEW.chg IS DISTINCT FROM txid_current() OR NEW.store IS DISTINCT FROM OLD.store OR NEW.` + key[0] +
		` IS DISTINCT FROM OLD.` + key[0] + ` OR NEW.` + key[1] + ` IS DISTINCT FROM OLD.` + key[1]
	if records {
		when += ` OR ` + loweredTest
	}
	return `CREATE TRIGGER ` + table + `_stamp BEFORE UPDATE ON ` + table + ` FOR EACH ROW
				WHEN (` + when + `)
				EXECUTE FUNCTION ` + table + `_stamp()`
}

// loweredTest is the records trigger's test for a version lowered by
// another program; stampsCurrent finds it by writerSetting.
const (
	writerSetting = "persist.writer"
	loweredTest   = `(NEW.version < OLD.version AND pg_catalog.current_setting('` + writerSetting + `', true) IS DISTINCT FROM 'on')`
)

// movedTest is true in a tracking trigger when an update moved the row to
// another primary key (a, b are the table's key columns after store).
func movedTest(a, b string) string {
	return `(NEW.store, NEW.` + a + `, NEW.` + b + `) IS DISTINCT FROM (OLD.store, OLD.` + a + `, OLD.` + b + `)`
}

// stampFunction makes table's _stamp function; path is its security and
// search_path clause.
func stampFunction(path, table, bump, moved string) string {
	return `CREATE OR REPLACE FUNCTION ` + table + `_stamp() RETURNS trigger LANGUAGE plpgsql ` + path + ` AS $$` + stampBody(bump, moved) + `$$`
}

// refreshStamps gives a database of this release's version whose _stamp
// functions an earlier release made (one that let an edit lower a version
// unbumped), or that lacks the chg checks (made before them, or dropped),
// this release's. The history stays: a cursor taken before is refused all
// the same, by the functions' and checks' changed row versions in its
// digest (triggers.go), so the next dump of each store is a full one. A
// write by a role that may write the tables but not replace their
// functions keeps the earlier ones, as they were, and goes on (but a
// load's look for code of another's, and a snapshot's cursor, refuse
// them): persist upgrade, as the owner, brings them; it refuses to go on
// without.
func refreshStamps(ctx context.Context, tx *sql.Tx, u adapters.Upgraded, create bool) (adapters.Upgraded, error) {
	ddl, err := refreshDDL(ctx, tx, create)
	if err != nil || len(ddl) == 0 {
		return u, err
	}
	if err := lockSchema(ctx, tx); err != nil {
		return u, err
	}
	// What is read and made from here on is read with the tables' schema
	// alone on the search_path, as upgrade makes it: a schema of the
	// session's path neither answers for pg_catalog nor receives what is
	// made. Another process may have brought it all up to date meanwhile.
	if err := tablesPath(ctx, tx); err != nil {
		return u, err
	}
	if ddl, err = refreshDDL(ctx, tx, create); err != nil || len(ddl) == 0 {
		return u, err
	}
	for _, q := range ddl {
		if _, err = tx.ExecContext(ctx, q); err != nil {
			break
		}
	}
	if err == nil {
		if err = checksMade(ctx, tx); err != nil && create {
			return u, nil // a write goes on; the store gives no cursor, and persist upgrade says why
		}
	}
	if err != nil {
		// The deferred rollback keeps what was there.
		return u, refreshFailed(err, create)
	}
	if err := tx.Commit(); err != nil {
		return u, fmt.Errorf("bring the change tracking up to date: %w", err)
	}
	u.Refreshed = true
	return u, nil
}

// refreshFailed is refreshStamps' error for err, nil where a write goes on
// without the refresh (laterCode), until a write finds the tables free.
func refreshFailed(err error, create bool) error {
	var perr *pq.Error
	switch {
	case create && errors.As(err, &perr) && laterCode[string(perr.Code)]:
		return nil
	case errors.As(err, &perr) && perr.Code == "42501":
		return hint.With(fmt.Errorf("bring the change tracking up to date: %w (%w)", ErrUpgradeRights, err),
			"connect as the owner of the Persist tables and run persist upgrade NAME --location LOCATION once (docs/persist.md)")
	case errors.As(err, &perr) && (perr.Code == "55P03" || perr.Code == "40P01"):
		return hint.With(fmt.Errorf("bring the change tracking up to date: another transaction holds the tables (%w)", err),
			"run it again when no dump or long transaction holds them; SELECT pid, xact_start, query FROM pg_stat_activity WHERE datname = current_database() shows what runs there")
	}
	return fmt.Errorf("bring the change tracking up to date: %w", err)
}

// laterCode are the errors that leave a write's refresh for later: the
// role may not replace the functions or alter the tables (42501), a table
// was not free (55P03: within the lock timeout, or at once), or waiting
// for one deadlocked with another's writes (40P01).
var laterCode = map[string]bool{"42501": true, "55P03": true, "40P01": true}

// replaceStampTriggers makes the _stamp triggers this release's, marked
// (stampMark), and firing always:
// CREATE OR REPLACE TRIGGER (PostgreSQL 14 on) locks out writers only, where
// DROP TRIGGER locks out readers too (a dump running then would hold up the
// first write, and every reader queued behind it).
func replaceStampTriggers(ctx context.Context, tx *sql.Tx) []string {
	var v int
	replace := tx.QueryRowContext(ctx, `SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4`).Scan(&v) == nil && v >= 140000
	var ddl []string
	for _, t := range []struct {
		table   string
		key     [2]string
		records bool
	}{{"persist_records", [2]string{"collection", "key"}, true}, {"persist_events", [2]string{"stream", "seq"}, false}} {
		def := stampTrigger(t.table, t.key, t.records)
		if replace {
			ddl = append(ddl, strings.Replace(def, "CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1))
		} else {
			ddl = append(ddl, `DROP TRIGGER IF EXISTS `+t.table+`_stamp ON `+t.table, def)
		}
		ddl = append(ddl, stampMark(t.table), `ALTER TABLE `+t.table+` ENABLE ALWAYS TRIGGER `+t.table+`_stamp`)
	}
	return ddl
}

// stampWhenSQL is a fingerprint of trigger g's condition as the server
// keeps it (its node tree, where each part stands in the statement left
// out): the same for the condition stampTrigger makes on any server of one
// major version, and after pg_dump and a restore, another for any other
// (and for the same where a restore numbered the table's columns anew,
// after one dropped: an owner's write, or persist upgrade, marks it again).
const stampWhenSQL = `pg_catalog.md5(pg_catalog.regexp_replace(g.tgqual::pg_catalog.text, E' :location -?[0-9]+', '', 'g'))`

// stampMark notes, as the comment of table's _stamp trigger just made,
// the fingerprint of its condition (stampWhenSQL): the server keeps no
// text of a condition to compare with this release's, and a condition
// changed by hand (WHEN (false), or one that lets some updates by) would
// let changes go unrecorded. Made again, a trigger loses its comment; a
// condition replaced in place no longer matches it.
func stampMark(table string) string {
	return `DO $$ BEGIN EXECUTE pg_catalog.format('COMMENT ON TRIGGER %I ON %I IS %L', '` + table + `_stamp', '` + table + `',
		'persist: ' OPERATOR(pg_catalog.||) (SELECT ` + stampWhenSQL + ` FROM pg_catalog.pg_trigger g
			WHERE g.tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('` + table + `')::pg_catalog.oid
				AND g.tgname OPERATOR(pg_catalog.=) '` + table + `_stamp')); END $$`
}

// stampMarked is true of trigger g whose comment is its condition's
// fingerprint (stampMark).
const stampMarked = `pg_catalog.obj_description(g.oid, 'pg_trigger') OPERATOR(pg_catalog.=) ('persist: ' OPERATOR(pg_catalog.||) ` + stampWhenSQL + `)`

// stampBody is the body of a table's _stamp function, bump what it does
// to a record's version: stampsCurrent checks that the server runs this
// text, so that a database made by an earlier release gets this one's.
func stampBody(bump, moved string) string {
	return `
			BEGIN
				NEW.chg := txid_current();` + bump + `
				IF ` + moved + ` THEN
					INSERT INTO persist_removals (store, chg) SELECT OLD.store, txid_current()
						WHERE NOT EXISTS (SELECT 1 FROM persist_removals WHERE store = OLD.store AND chg = txid_current());
				END IF;
				RETURN NEW;
			END `
}

// refreshDDL is what brings the change tracking up to this release's: the
// _stamp functions and trigger where stampsCurrent finds an earlier
// release's, the chg checks of the tables that lack them; nothing where
// all are this release's. A check locks out readers too while it is made,
// which replacing the trigger does not: the tables it goes on are locked
// first, all at once, by a write only if they are free at that moment.
func refreshDDL(ctx context.Context, tx *sql.Tx, create bool) ([]string, error) {
	stamps, err := stampsCurrent(ctx, tx)
	if err != nil {
		return nil, err
	}
	missing, err := uncheckedTables(ctx, tx)
	if err != nil || stamps && len(missing) == 0 {
		return nil, err
	}
	// A long transaction of another's is not waited for, from a write.
	ddl := []string{`SET LOCAL lock_timeout = '2s'`}
	if len(missing) > 0 {
		lock := `LOCK TABLE ` + strings.Join(missing, ", ") + ` IN ACCESS EXCLUSIVE MODE`
		if create {
			lock += ` NOWAIT`
		}
		ddl = append(ddl, lock)
	}
	if !stamps {
		var schema string
		err := tx.QueryRowContext(ctx, `SELECT n.nspname FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
			WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_records')::pg_catalog.oid`).Scan(&schema)
		if err != nil {
			return nil, err
		}
		path := `SECURITY DEFINER SET search_path = ` + pq.QuoteIdentifier(schema) + `, pg_temp`
		ddl = slices.Concat(ddl, []string{stampFunction(path, "persist_records", recordBump, movedTest("collection", "key")),
			stampFunction(path, "persist_events", "", movedTest("stream", "seq"))}, replaceStampTriggers(ctx, tx))
	}
	for _, t := range missing {
		ddl = append(ddl, chgCheckDDL(t)...)
	}
	return ddl, nil
}

// tablesPath puts the schema of the tables the search_path finds alone on
// it, for the rest of tx (pg_catalog, not named, comes first).
func tablesPath(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_catalog.set_config('search_path', pg_catalog.quote_ident(n.nspname), true)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_records')::pg_catalog.oid`)
	return err
}

// checksMade is the error for chg checks that, once made, do not read back
// as this release's: chg is then not the bigint column Persist made, and
// no write can make them right (each would try again).
func checksMade(ctx context.Context, tx *sql.Tx) error {
	missing, err := uncheckedTables(ctx, tx)
	if err != nil || len(missing) == 0 {
		return err
	}
	return fmt.Errorf("the chg check made on %s does not read back as %s: its chg column is not the bigint Persist made (ALTER TABLE … ALTER COLUMN chg TYPE bigint)",
		strings.Join(missing, ", "), chgCheck)
}

// stampsCurrent reports whether the _stamp functions are this release's,
// word for word and with its settings (SECURITY DEFINER, PL/pgSQL, the
// tables' schema alone on the search_path), the records' trigger tests
// for a lowered version, and both triggers' conditions are as made
// (stampMark): refreshStamps replaces an earlier release's.
func stampsCurrent(ctx context.Context, q querier) (bool, error) {
	var n int
	var lowered bool
	err := q.QueryRowContext(ctx, `SELECT pg_catalog.count(*), EXISTS (SELECT FROM pg_catalog.pg_trigger g
			WHERE g.tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_records')::pg_catalog.oid
				AND g.tgname OPERATOR(pg_catalog.=) 'persist_records_stamp'
				AND pg_catalog.strpos(pg_catalog.pg_get_triggerdef(g.oid), $3) OPERATOR(pg_catalog.>) 0)
			AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger g
				WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('persist_records'),
						pg_catalog.to_regclass('persist_events')]::pg_catalog.oid[])
					AND g.tgname OPERATOR(pg_catalog.=) ANY (ARRAY['persist_records_stamp', 'persist_events_stamp']::pg_catalog.name[])
					AND `+stampMarked+`) OPERATOR(pg_catalog.=) 2
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) p.pronamespace
		WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_records')::pg_catalog.oid
			AND ((p.proname OPERATOR(pg_catalog.=) 'persist_records_stamp' AND p.prosrc OPERATOR(pg_catalog.=) $1)
				OR (p.proname OPERATOR(pg_catalog.=) 'persist_events_stamp' AND p.prosrc OPERATOR(pg_catalog.=) $2))
			AND p.prosecdef AND p.prolang OPERATOR(pg_catalog.=) (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname OPERATOR(pg_catalog.=) 'plpgsql')
			AND p.proconfig OPERATOR(pg_catalog.=) ARRAY[pg_catalog.format('search_path=%s, pg_temp',
				pg_catalog.quote_ident((SELECT nspname FROM pg_catalog.pg_namespace WHERE oid OPERATOR(pg_catalog.=) p.pronamespace)::pg_catalog.text))]`,
		stampBody(recordBump, movedTest("collection", "key")), stampBody("", movedTest("stream", "seq")), "'"+writerSetting+"'").Scan(&n, &lowered)
	return n == 2 && lowered, err
}

// ensureSchema creates or upgrades the tables once per Adapter, in a
// transaction of its own. When they exist at the current version it runs no
// DDL at all, so a role with only DML privileges can write to a prepared
// database.
func (a *Adapter) ensureSchema(ctx context.Context) error {
	a.schemaMu.Lock()
	defer a.schemaMu.Unlock()
	if a.schemaReady {
		return nil
	}
	if err := a.writable(ctx); err != nil {
		return err
	}
	// A connection lost half-way (a backend terminated, a restart) rolled
	// the whole schema transaction back: it is safe to run again.
	var err error
	for range 3 {
		if _, err = a.migrate(ctx, true); err == nil || !isConnLoss(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return err
	}
	if err := valueTypes(ctx, a.db); err != nil {
		return err
	}
	a.schemaReady = true
	return nil
}

// valueTypes refuses a writer the tables whose value or data column is
// not jsonb (changed by hand, to json or text): a load compares what it
// wrote with jsonb's operators, which such a column does not take, and its
// merge failed on the server's error alone.
func valueTypes(ctx context.Context, q querier) error {
	var cols []string // table, column, type, of each
	err := q.QueryRowContext(ctx, `SELECT ARRAY(SELECT u.e FROM (VALUES (1, 'persist_records', 'value'), (2, 'persist_events', 'data')) v(i, t, c)
		JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) v.c::pg_catalog.name
			AND NOT a.attisdropped
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[pg_catalog.format('%I.%I', n.nspname, c.relname), v.c,
			pg_catalog.format_type(a.atttypid, a.atttypmod)]) WITH ORDINALITY u(e, k)
		WHERE a.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.jsonb'::pg_catalog.regtype::pg_catalog.oid ORDER BY v.i, u.k)`).Scan((*pq.StringArray)(&cols))
	if err != nil || len(cols) < 3 {
		return err
	}
	var what, fix []string
	for i := 0; i+2 < len(cols); i += 3 {
		table, col := cols[i], cols[i+1]
		what = append(what, fmt.Sprintf("column %s.%s is %s", table, col, cols[i+2]))
		fix = append(fix, fmt.Sprintf("ALTER TABLE %[1]s ALTER COLUMN %[2]s TYPE jsonb USING %[2]s::text::jsonb", table, col))
	}
	return hint.With(fmt.Errorf("%s, not jsonb, as Persist makes it: a load's check of what it wrote needs jsonb", strings.Join(what, "; ")),
		"as the owner of the tables: %s", strings.Join(fix, "; "))
}

// Upgrade brings an existing schema to this release's version, or repairs
// its change tracking.
func (a *Adapter) Upgrade(ctx context.Context) (adapters.Upgraded, error) {
	if a.opt.ReadOnly {
		return adapters.Upgraded{}, fmt.Errorf("upgrade schema: %w", ErrReadOnly)
	}
	a.schemaMu.Lock()
	defer a.schemaMu.Unlock()
	if err := a.writable(ctx); err != nil {
		return adapters.Upgraded{}, err
	}
	u, err := a.migrate(ctx, false)
	if err == nil && u.To == schemaVersion {
		a.schemaReady = true
	}
	return u, err
}

// writable is a writer's check before the schema step, before anything
// is made or changed: the database must take writes (readOnlyCheck), and
// the tables the search_path finds be Persist's (tablesCheck).
func (a *Adapter) writable(ctx context.Context) error {
	var odd, ro, rounded, types []string
	err := a.db.QueryRowContext(ctx, `SELECT `+tablesCheck+`, `+readOnlyCheck+`, `+roundedTimesCheck+`, `+columnTypesCheck).Scan(
		(*pq.StringArray)(&odd), (*pq.StringArray)(&ro), (*pq.StringArray)(&rounded), (*pq.StringArray)(&types))
	if err != nil {
		return fmt.Errorf("read the schema: %w", err)
	}
	if err := readOnly(ro); err != nil {
		return err
	}
	if err := notPersistTable(odd); err != nil {
		return err
	}
	if err := columnTypes(types); err != nil {
		return err
	}
	return roundedTimes(rounded)
}

// roundedTimesCheck finds the time columns of Persist's tables declared
// with fewer than six fractional digits (timestamptz(3), or a domain over
// it), three entries each: table, column, type.
const roundedTimesCheck = `(SELECT pg_catalog.array_agg(u.e ORDER BY v.i, u.k)
		FROM (VALUES ('persist_records', 'updated_at', 1), ('persist_events', 'at', 2)) v(t, c, i)
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
			AND a.attname OPERATOR(pg_catalog.=) v.c::pg_catalog.name AND NOT a.attisdropped
		JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) a.atttypid
		CROSS JOIN LATERAL (SELECT CASE WHEN y.typtype OPERATOR(pg_catalog.=) 'd' THEN y.typtypmod ELSE a.atttypmod END,
			CASE WHEN y.typtype OPERATOR(pg_catalog.=) 'd' THEN y.typbasetype ELSE a.atttypid END) m(typmod, base)
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[v.t, v.c, pg_catalog.format_type(a.atttypid, a.atttypmod)]) WITH ORDINALITY u(e, k)
		WHERE m.base OPERATOR(pg_catalog.=) 'pg_catalog.timestamptz'::pg_catalog.regtype::pg_catalog.oid
			AND m.typmod OPERATOR(pg_catalog.>=) 0 AND m.typmod OPERATOR(pg_catalog.<) 6
			AND pg_catalog.to_regclass('persist_stores') IS NOT NULL)`

// roundedTimes is the error for what roundedTimesCheck found, nil for
// nothing: such a column rounds the microseconds of every time a load
// writes, and its read-back would find each of them changed.
func roundedTimes(cols []string) error {
	if len(cols) < 3 {
		return nil
	}
	var what, fix []string
	for i := 0; i+2 < len(cols); i += 3 {
		what = append(what, fmt.Sprintf("column %s.%s is %s", cols[i], cols[i+1], cols[i+2]))
		fix = append(fix, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE timestamptz", cols[i], cols[i+1]))
	}
	return hint.With(fmt.Errorf("%s: it rounds the microseconds of every time written, and a load's read-back would find them changed",
		strings.Join(what, "; ")), "as the owner of the tables, give it microseconds again (no time it holds changes): %s", strings.Join(fix, "; "))
}

// ErrUpgradeRights is wrapped when the schema needs an upgrade that the
// connected role may not make.
var ErrUpgradeRights = adapters.ErrUpgradeRights

// migrate creates (with create) or upgrades the schema in one transaction,
// holding the schema lock: what another process started meanwhile is
// either all there or not at all. Only Upgrade (not create) repairs
// tracking that someone turned off (ALTER TABLE … DISABLE TRIGGER, or
// ENABLE TRIGGER ALL after it, which makes an ALWAYS trigger an ordinary
// one again).
func (a *Adapter) migrate(ctx context.Context, create bool) (adapters.Upgraded, error) {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return adapters.Upgraded{}, fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	from, work, err := plan(ctx, tx, create)
	if err == nil && (from != schemaVersion || work == adapters.SchemaRepair) {
		if err = lockSchema(ctx, tx); err != nil {
			return adapters.Upgraded{From: from, To: from}, err
		}
		// Another process may have made it, or repaired it, while this
		// one waited.
		from, work, err = plan(ctx, tx, create)
	}
	u := adapters.Upgraded{From: from, To: from}
	switch {
	case err != nil:
		return u, err
	case work == adapters.SchemaAsIs && from == schemaVersion:
		return refreshStamps(ctx, tx, u, create)
	case work == adapters.SchemaAsIs:
		return u, nil
	case work == adapters.SchemaTooNew:
		return u, fmt.Errorf("the database's Persist schema is version %d; this release knows up to version %d: upgrade Persist",
			from, schemaVersion)
	}
	if err := upgrade(ctx, tx); err != nil {
		var perr *pq.Error
		if from > 0 && errors.As(err, &perr) && perr.Code == "42501" {
			err = hint.With(fmt.Errorf("%w (%w)", ErrUpgradeRights, err),
				"connect as the owner of the Persist tables and run persist upgrade NAME --location LOCATION once (docs/persist.md); then this works as any role that may write the tables")
		}
		return u, fmt.Errorf("upgrade schema from version %d to %d: %w", from, schemaVersion, err)
	}
	if err := tx.Commit(); err != nil {
		return u, fmt.Errorf("upgrade schema from version %d to %d: %w", from, schemaVersion, err)
	}
	return adapters.Upgraded{From: from, To: schemaVersion, Repaired: work == adapters.SchemaRepair}, nil
}

// noForeignTables refuses to make Persist's schema where the schema it
// would go in (current_schema) already has a table, index or function
// whose name begins with persist_, and no persist_stores: another
// application's, which CREATE TABLE IF NOT EXISTS would take for Persist's
// and CREATE OR REPLACE FUNCTION replace, mixing its rows and triggers
// with Persist's.
func noForeignTables(ctx context.Context, tx *sql.Tx) error {
	var found []string
	err := tx.QueryRowContext(ctx, `SELECT pg_catalog.array_agg(u.n ORDER BY u.n) FROM (
			SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class c
				WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace(pg_catalog.quote_ident(pg_catalog.current_schema()))
					AND c.relname::pg_catalog.text OPERATOR(pg_catalog.~~) E'persist\\_%'
			UNION ALL
			SELECT p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '()' FROM pg_catalog.pg_proc p
				WHERE p.pronamespace OPERATOR(pg_catalog.=) pg_catalog.to_regnamespace(pg_catalog.quote_ident(pg_catalog.current_schema()))
					AND p.proname::pg_catalog.text OPERATOR(pg_catalog.~~) E'persist\\_%') u(n)`).Scan((*pq.StringArray)(&found))
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if len(found) == 0 || slices.Contains(found, "persist_stores") {
		// Another process made Persist's schema since this one read its
		// version (a statement ago, before the schema lock): the read
		// under the lock finds it.
		return nil
	}
	return hint.With(fmt.Errorf("the schema Persist's tables would go in has %s and no persist_stores: not Persist's, which it will not take for its own nor change",
		strings.Join(found, ", ")),
		"name another database, or a schema of Persist's own: CREATE SCHEMA persist, then name it in the location (%s)", pathOption("persist"))
}

// plan reads the schema's version and decides what migrate does with it.
func plan(ctx context.Context, tx *sql.Tx, create bool) (int, adapters.SchemaWork, error) {
	from, err := storedVersion(ctx, tx)
	if err != nil {
		return 0, adapters.SchemaAsIs, err
	}
	work, err := adapters.PlanSchema(from, schemaVersion, create, func() (bool, error) { return trackingIntact(ctx, tx) })
	if err != nil {
		return from, work, fmt.Errorf("read schema: %w", err)
	}
	if from == 0 && work != adapters.SchemaAsIs {
		return from, work, noForeignTables(ctx, tx)
	}
	return from, work, nil
}

// lockSchema takes the schema lock for the rest of tx, in a UTF8 database
// only.
func lockSchema(ctx context.Context, tx *sql.Tx) error {
	if err := utf8Database(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLock); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

func utf8Database(ctx context.Context, tx *sql.Tx) error {
	var enc, db string
	if err := tx.QueryRowContext(ctx, `SELECT pg_catalog.current_setting('server_encoding'),
			pg_catalog.current_database()::pg_catalog.text`).Scan(&enc, &db); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if enc != "UTF8" {
		// A database's encoding is set when it is made, and kept.
		name := db + "_utf8"
		if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(name) {
			name = pq.QuoteIdentifier(name) // not an identifier SQL reads as written
		}
		return hint.With(fmt.Errorf("create schema: the database's encoding is %s; Persist needs a UTF8 database", enc),
			"make a UTF8 database and name it in the location instead: CREATE DATABASE %s ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0", name)
	}
	return nil
}

// schemaOf is the schema Persist's tables are in, or go in
// (persistSchema), or an error that says the search_path names none.
func schemaOf(ctx context.Context, tx *sql.Tx) (string, error) {
	var schema, path sql.NullString
	var found bool
	if err := tx.QueryRowContext(ctx, `SELECT `+persistSchema+`, pg_catalog.current_setting('search_path'),
			pg_catalog.to_regclass('persist_stores') IS NOT NULL`).Scan(&schema, &path, &found); err != nil {
		return "", err
	}
	if found {
		return schema.String, nil
	}
	schemas, role, err := pathSchemas(ctx, tx)
	if err != nil {
		return "", err
	}
	if err := unusable(schemas, role, !schema.Valid); err != nil {
		return "", err
	}
	if !schema.Valid {
		return "", hint.With(fmt.Errorf("no schema to make Persist's tables in: the search_path (%s) names none that exists", path.String),
			"create one of its schemas (CREATE SCHEMA name), or name one that exists in the location (%s)", pathOption("SCHEMA"))
	}
	return schema.String, mayCreate(schemas, role, schema.String)
}

// upgrade makes any older schema (or none) version 2 inside tx. Adding a
// column without a default, then giving it one, changes the catalog only:
// the rows stay where they are.
func upgrade(ctx context.Context, tx *sql.Tx) error {
	schema, err := schemaOf(ctx, tx)
	if err != nil {
		return err
	}
	// What is made goes beside what is there, which may be in a later
	// schema of the search_path than the one CREATE would pick.
	if _, err := tx.ExecContext(ctx, `SELECT pg_catalog.set_config('search_path', pg_catalog.quote_ident($1), true)`, schema); err != nil {
		return err
	}
	for _, q := range slices.Concat(tablesDDL, upgradeDDL(schema)) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(q)[0]+" "+strings.Fields(q)[1], err)
		}
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	// A new history: a cursor from before (when tracking may have been
	// off) finds no entry of its own in it, and is refused.
	_, err = tx.ExecContext(ctx, `DELETE FROM persist_history`)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_history (txid, token) VALUES (txid_current(), $1)`, newToken())
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_meta (key, value) VALUES ('id', $1) ON CONFLICT (key) DO NOTHING`,
			hex.EncodeToString(id[:]))
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO persist_meta (key, value) VALUES ('schema_version', $1)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, strconv.Itoa(schemaVersion))
	}
	return err
}

// storedVersion is the schema version of the database: 0 without the
// Persist tables, 1 with them but without a version record. It and
// trackingIntact run in the schema's transaction too, which has the
// session's search_path as it is (txSetup): their operators are named with
// pg_catalog.
func storedVersion(ctx context.Context, q querier) (int, error) {
	var stores, meta bool
	if err := q.QueryRowContext(ctx, `SELECT pg_catalog.to_regclass('persist_stores') IS NOT NULL,
			pg_catalog.to_regclass('persist_meta') IS NOT NULL`).Scan(&stores, &meta); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !stores {
		return 0, nil
	}
	if !meta {
		return 1, nil
	}
	var s string
	err := q.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key OPERATOR(pg_catalog.=) 'schema_version'`).Scan(&s)
	if err == sql.ErrNoRows {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("read schema version: persist_meta holds %q", s)
	}
	return v, nil
}

// trackedTriggers are the change-tracking triggers, on each of
// persist_records and persist_events.
var trackedTriggers = []string{"persist_records_stamp", "persist_records_removed", "persist_records_mark",
	"persist_events_stamp", "persist_events_removed", "persist_events_mark"}

// stampText finds a _stamp function's MD5 and settings in a trigger's key
// (ownKey): refreshStamps' to bring up to date (stampsCurrent).
const stampText = `(_stamp\.\d+\.[nwx]\.)[0-9a-f]{32}\.[tf]$`

// intactKeys are ownTriggers with each _stamp function's MD5 and settings
// as "*", as trackingIntact reads the triggers.
var intactKeys = func() []string {
	keys := make([]string, 0, len(ownTriggers))
	stamp := regexp.MustCompile(stampText)
	for _, k := range ownTriggers {
		keys = append(keys, stamp.ReplaceAllString(k, "${1}*"))
	}
	return keys
}()

// trackingIntact reports whether every change-tracking trigger is there,
// fires always, whatever session_replication_role says, and runs its
// function as schema.go makes it (a _stamp function's text and settings
// aside: refreshStamps brings those up to date), and whether each
// table's chg still has the default that stamps every insert: without it
// (DROP DEFAULT, SET DEFAULT 0, a schema tool's sync), new rows keep chg
// NULL or older than any cursor, and no delta would hold them.
func trackingIntact(ctx context.Context, q querier) (bool, error) {
	var triggers, defaults int
	err := q.QueryRowContext(ctx, `SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger g
			JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) g.tgrelid
		WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('persist_records'),
				pg_catalog.to_regclass('persist_events')]::pg_catalog.oid[])
			AND g.tgenabled OPERATOR(pg_catalog.=) 'A'
			AND pg_catalog.regexp_replace(`+triggerKeySQL+`, $1, E'\\1*') OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[])),
		(SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_attrdef d
				ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum
			WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY[pg_catalog.to_regclass('persist_records'),
					pg_catalog.to_regclass('persist_events')]::pg_catalog.oid[])
				AND a.attname OPERATOR(pg_catalog.=) 'chg'
				AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) OPERATOR(pg_catalog.=) 'txid_current()')`,
		stampText, pq.Array(intactKeys)).Scan(&triggers, &defaults)
	return triggers == len(trackedTriggers) && defaults == 2, err
}

// uncheckedTables are the tables of chgTables without their chg check, or
// with another under its name.
func uncheckedTables(ctx context.Context, q querier) ([]string, error) {
	var missing, names []string
	for _, t := range chgTables {
		names = append(names, chgCheckName(t))
	}
	err := q.QueryRowContext(ctx, `SELECT pg_catalog.array_agg(v.t ORDER BY v.i)
		FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[])) WITH ORDINALITY v(t, n, i)
		WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
			WHERE k.conrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
				AND k.conname OPERATOR(pg_catalog.=) v.n::pg_catalog.name
				AND k.contype OPERATOR(pg_catalog.=) 'c'
				AND pg_catalog.pg_get_expr(k.conbin, k.conrelid) OPERATOR(pg_catalog.=) $1)`,
		chgCheck, pq.Array(chgTables), pq.Array(names)).Scan((*pq.StringArray)(&missing))
	return missing, err
}

// newToken is a random history token (adapters.Mark).
func newToken() string {
	var b [adapters.TokenLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
