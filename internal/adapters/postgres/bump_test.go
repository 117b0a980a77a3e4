package postgres

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
	"github.com/lib/pq"
)

// versionOf reads record c/key's version as the table holds it.
func versionOf(t *testing.T, dsn, key string) int64 {
	t.Helper()
	var v int64
	if err := sqlDB(t, dsn).QueryRow(`SELECT version FROM persist_records WHERE key = $1`, key).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// An edit by another program that lowers a record's version (a row put
// back from an old backup) gets the next version, as one that keeps it
// does: a copy would otherwise skip its line in the next delta as stale.
// At the last version the edit is refused. Persist's own writes are left
// alone.
func TestEditThatLowersVersion(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := openAt(t, dsn, Options{})
	put(t, a, "app", adapters.Fresh, rec("c", "a", 5, `1`), rec("c", "top", 9223372036854775807, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `UPDATE persist_records SET version = 1, value = '"old"' WHERE key = 'a'`)
	if v := versionOf(t, dsn, "a"); v != 6 {
		t.Errorf("an edit to version 1 of a record at 5: version %d, want 6", v)
	}
	mustExec(t, db, `UPDATE persist_records SET version = 2 WHERE key = 'a'`)
	if v := versionOf(t, dsn, "a"); v != 7 {
		t.Errorf("an edit of the version alone, lowered: version %d, want 7", v)
	}
	mustExec(t, db, `UPDATE persist_records SET version = 40 WHERE key = 'a'`)
	if v := versionOf(t, dsn, "a"); v != 40 {
		t.Errorf("an edit that raises the version: %d, want 40", v)
	}
	_, err := db.Exec(`UPDATE persist_records SET value = '2' WHERE key = 'top'`)
	if err == nil || !strings.Contains(err.Error(), "at the last version") {
		t.Errorf("an edit at the last version: %v", err)
	}
	// The second update of one transaction, which the first stamped,
	// puts the row back at a lower version: bumped all the same.
	mustExec(t, db, `BEGIN; UPDATE persist_records SET value = '"tx"' WHERE key = 'a';
		UPDATE persist_records SET version = 1, value = '"tx2"' WHERE key = 'a'; COMMIT`)
	if v := versionOf(t, dsn, "a"); v <= 40 {
		t.Errorf("two updates in one transaction, the second to version 1: version %d, want above 40", v)
	}
	put(t, a, "app", adapters.Overwrite, rec("c", "a", 3, `"persist"`))
	if v := versionOf(t, dsn, "a"); v != 3 {
		t.Errorf("Persist's own overwrite to version 3: %d", v)
	}
}

// A database whose records trigger an earlier release made (no test for a
// lowered version) gets this release's at the first write, as the earlier
// functions do.
func TestEarlierStampTriggerReplaced(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 5, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `DROP TRIGGER persist_records_stamp ON persist_records;
		CREATE TRIGGER persist_records_stamp BEFORE UPDATE ON persist_records FOR EACH ROW
			WHEN (NEW.chg IS DISTINCT FROM txid_current() OR `+movedTest("collection", "key")+`)
			EXECUTE FUNCTION persist_records_stamp();
		ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp`)
	if ok, err := stampsCurrent(ctx, db); err != nil || ok {
		t.Fatalf("stampsCurrent with an earlier trigger: %v, %v", ok, err)
	}
	// A reader in the middle of a long transaction (a dump) neither holds
	// up the write that replaces the trigger nor is held up by it.
	reader := readerOf(t, db, "persist_records")
	done := putBehind(openAt(t, dsn, Options{}), rec("c", "b", 1, `1`))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		reader.Rollback()
		<-done
		t.Errorf("the write that replaces the trigger waited for a reader")
	}
	reader.Rollback()
	if ok, err := stampsCurrent(ctx, db); err != nil || !ok {
		t.Fatalf("stampsCurrent after a write: %v, %v", ok, err)
	}
	mustExec(t, db, `BEGIN; UPDATE persist_records SET value = '"tx"' WHERE key = 'a';
		UPDATE persist_records SET version = 1 WHERE key = 'a'; COMMIT`)
	if v := versionOf(t, dsn, "a"); v <= 6 {
		t.Errorf("two updates in one transaction, the second to version 1: version %d, want above 6", v)
	}
}

// A database whose tracking functions an earlier release made gives no
// cursor until the first write brings this release's, as a repair: the
// lowered edit is then bumped, and a cursor from before is refused (the
// functions changed).
func TestEarlierStampReplaced(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 5, `1`))
	cursor := cursorOf(t, openAt(t, dsn, Options{}), "app")
	db := sqlDB(t, dsn)
	earlier := `
				IF NEW.version = OLD.version AND (NEW.value, NEW.deleted, NEW.updated_at)
						IS DISTINCT FROM (OLD.value, OLD.deleted, OLD.updated_at) THEN
					NEW.version := OLD.version + 1;
				END IF;`
	mustExec(t, db, `CREATE OR REPLACE FUNCTION persist_records_stamp() RETURNS trigger LANGUAGE plpgsql
		SECURITY DEFINER SET search_path = public, pg_temp AS $$`+stampBody(earlier, movedTest("collection", "key"))+`$$`)
	if ok, err := stampsCurrent(ctx, db); err != nil || ok {
		t.Fatalf("stampsCurrent with an earlier function: %v, %v", ok, err)
	}
	// A role that may write the tables, not replace their functions,
	// writes on with the earlier ones; its persist upgrade says who can.
	role := newRole(t)
	mustExec(t, db, `GRANT USAGE ON SCHEMA public TO `+role+`;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO `+role)
	dml := openAt(t, asRole(t, dsn, role), Options{})
	put(t, dml, "app", adapters.Fresh, rec("c", "d", 1, `1`))
	if ok, err := stampsCurrent(ctx, db); err != nil || ok {
		t.Fatalf("after a write by a role that may not replace them: stampsCurrent %v, %v", ok, err)
	}
	if _, err := dml.Upgrade(ctx); !errors.Is(err, ErrUpgradeRights) {
		t.Fatalf("persist upgrade by that role: %v, want ErrUpgradeRights", err)
	}
	a := openAt(t, dsn, Options{})
	_, err := cursorErr(t, a, "app")
	if !errors.Is(err, adapters.ErrNoCursor) || !strings.Contains(err.Error(), "_stamp function or trigger") {
		t.Fatalf("a cursor with an earlier _stamp function: %v, want ErrNoCursor naming it", err)
	}
	put(t, a, "app", adapters.Fresh, rec("c", "b", 1, `1`))
	cursorOf(t, a, "app") // given again
	if ok, err := stampsCurrent(ctx, db); err != nil || !ok {
		t.Fatalf("after a write: stampsCurrent %v, %v", ok, err)
	}
	mustExec(t, db, `UPDATE persist_records SET version = 1 WHERE key = 'a'`)
	if v := versionOf(t, dsn, "a"); v != 6 {
		t.Errorf("a lowered edit after the repair: version %d, want 6", v)
	}
	snap, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	err = snap.Scan(ctx, adapters.Filter{Since: cursor}, func(*record.Item) error { return nil })
	if !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("a delta from a cursor taken before the functions changed: %v, want ErrCursor", err)
	}
}

// persist upgrade of a database whose functions an earlier release made
// says so, and brings them; a second run finds nothing to do.
func TestUpgradeRefreshesStamps(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := openAt(t, dsn, Options{})
	put(t, a, "app", adapters.Fresh, rec("c", "a", 5, `1`))
	mustExec(t, sqlDB(t, dsn), `CREATE OR REPLACE FUNCTION persist_records_stamp() RETURNS trigger LANGUAGE plpgsql
		SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN RETURN NEW; END $$`)
	u, err := openAt(t, dsn, Options{}).Upgrade(ctx)
	if err != nil || u != (adapters.Upgraded{From: schemaVersion, To: schemaVersion, Refreshed: true}) {
		t.Fatalf("Upgrade = %+v, %v; want refreshed", u, err)
	}
	u, err = openAt(t, dsn, Options{}).Upgrade(ctx)
	if err != nil || u != (adapters.Upgraded{From: schemaVersion, To: schemaVersion}) {
		t.Fatalf("Upgrade again = %+v, %v; want nothing done", u, err)
	}
}

// readerOf starts a transaction that has read table, and so holds a lock
// on it until rolled back (as a dump would); the test's end rolls it back.
func readerOf(t *testing.T, db *sql.DB, table string) *sql.Tx {
	t.Helper()
	reader, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Rollback() })
	if _, err := reader.Exec(`SELECT count(*) FROM ` + table); err != nil {
		t.Fatal(err)
	}
	return reader
}

// putBehind puts it into store "app" with w on a goroutine of its own, in
// a transaction it commits, and sends the outcome.
func putBehind(w *Adapter, it *record.Item) <-chan error {
	done := make(chan error, 1)
	go func() {
		tx, err := w.Begin(ctx, "app")
		if err == nil {
			defer tx.Rollback()
			if err = tx.Put(ctx, []*record.Item{it}, adapters.Guarded); err == nil {
				err = tx.Commit()
			}
		}
		done <- err
	}()
	return done
}

// A database whose sessions read backslashes in plain literals as escapes
// (standard_conforming_strings off, as an old application may set it)
// reads the catalog as any other: its tracking is intact, persist upgrade
// finds nothing to do, and a check that runs SQL given as text is found.
func TestEscapeStringsOff(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET standard_conforming_strings = off', current_database()); END $$`)
	off := sqlDB(t, dsn)
	var scs string
	if err := off.QueryRow(`SHOW standard_conforming_strings`).Scan(&scs); err != nil || scs != "off" {
		t.Fatalf("standard_conforming_strings %q, %v", scs, err)
	}
	if ok, err := trackingIntact(ctx, off); err != nil || !ok {
		t.Fatalf("trackingIntact: %v, %v", ok, err)
	}
	a := openAt(t, dsn, Options{})
	cursorOf(t, a, "app")
	if u, err := a.Upgrade(ctx); err != nil || u != (adapters.Upgraded{From: schemaVersion, To: schemaVersion}) {
		t.Fatalf("Upgrade = %+v, %v; want nothing done", u, err)
	}
	mustExec(t, db, `ALTER TABLE persist_records ADD CONSTRAINT persist_test_xml CHECK (query_to_xml('SELECT 1', false, false, '') IS NOT NULL) NOT VALID`)
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.ForeignCode(ctx); !errors.Is(err, adapters.ErrForeignCode) || !strings.Contains(err.Error(), "query_to_xml") {
		t.Errorf("ForeignCode with a check calling query_to_xml: %v", err)
	}
}

// A _stamp function whose settings were changed by hand (its search_path,
// where a table of another's named persist_removals would get the log of a
// row moved away) is not this release's: no cursor is given until persist
// upgrade brings it back, the history kept.
func TestStampSettingsChanged(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := openAt(t, dsn, Options{})
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `CREATE SCHEMA persist_test_evil; CREATE TABLE persist_test_evil.persist_removals (store text, chg bigint)`)
	mustExec(t, db, `ALTER FUNCTION persist_records_stamp() SET search_path = persist_test_evil, public, pg_temp`)
	if ok, err := stampsCurrent(ctx, db); err != nil || ok {
		t.Fatalf("stampsCurrent with another search_path: %v, %v", ok, err)
	}
	_, err := cursorErr(t, openAt(t, dsn, Options{}), "app")
	if !errors.Is(err, adapters.ErrNoCursor) {
		t.Fatalf("a cursor with the _stamp function's search_path changed: %v, want ErrNoCursor", err)
	}
	if u, err := openAt(t, dsn, Options{}).Upgrade(ctx); err != nil || !u.Refreshed {
		t.Fatalf("Upgrade = %+v, %v; want refreshed", u, err)
	}
	cursorOf(t, openAt(t, dsn, Options{}), "app")
}

// A _stamp trigger made again by hand with another condition, one that
// calls nothing of another's (here: never true), would let every update
// go unrecorded: its condition no longer matches the fingerprint noted
// when Persist made it, and no cursor is given until persist upgrade
// makes it again.
func TestStampConditionChanged(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 1, `1`))
	cursorOf(t, openAt(t, dsn, Options{}), "app")
	mustExec(t, sqlDB(t, dsn), `DROP TRIGGER persist_events_stamp ON persist_events;
		CREATE TRIGGER persist_events_stamp BEFORE UPDATE ON persist_events FOR EACH ROW
			WHEN (pg_catalog.current_setting('persist.writer', true) = 'never') EXECUTE FUNCTION persist_events_stamp();
		ALTER TABLE persist_events ENABLE ALWAYS TRIGGER persist_events_stamp`)
	_, err := cursorErr(t, openAt(t, dsn, Options{}), "app")
	if !errors.Is(err, adapters.ErrNoCursor) {
		t.Fatalf("a cursor with the events' _stamp trigger made again by hand: %v, want ErrNoCursor", err)
	}
	if _, err := openAt(t, dsn, Options{}).Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	cursorOf(t, openAt(t, dsn, Options{}), "app")
}

// pg_dump writes a _stamp trigger's condition out as text and a restore
// reads it back: the trigger made again so, with its comment, is still
// Persist's, and a cursor is given.
func TestStampConditionRestored(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	for _, table := range []string{"persist_records", "persist_events"} {
		var def, comment string
		if err := db.QueryRow(`SELECT pg_get_triggerdef(oid), obj_description(oid, 'pg_trigger') FROM pg_trigger
			WHERE tgrelid = $1::regclass AND tgname = $1 || '_stamp'`, table).Scan(&def, &comment); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `DROP TRIGGER `+table+`_stamp ON `+table)
		mustExec(t, db, def)
		mustExec(t, db, `ALTER TABLE `+table+` ENABLE ALWAYS TRIGGER `+table+`_stamp`)
		mustExec(t, db, `COMMENT ON TRIGGER `+table+`_stamp ON `+table+` IS `+pq.QuoteLiteral(comment))
	}
	if ok, err := stampsCurrent(ctx, db); err != nil || !ok {
		t.Fatalf("stampsCurrent after the triggers were made again from their definitions: %v, %v", ok, err)
	}
	cursorOf(t, openAt(t, dsn, Options{}), "app")
}
