package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// trackedStore writes the sample store, and returns a writer on it, a
// cursor, and another program's connection.
func trackedStore(t *testing.T) (*Adapter, string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{})
	t.Cleanup(func() { a.Close() })
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	t.Cleanup(func() { db.Close() })
	return a, cursor(t, a, "app"), db
}

func run(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// deltaErr is the error of a delta of store "app" since c.
func deltaErr(t *testing.T, a *Adapter, c string) error {
	t.Helper()
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = s.Count(t.Context(), adapters.Filter{Since: c})
	return err
}

// A tracking trigger dropped, a row changed meanwhile, and the trigger
// made again as it was leaves the triggers as Persist made them and the
// change unstamped: the file's schema cookie, which the cursor carries,
// tells. So does VACUUM, which bumps it too. A new chain then works.
func TestSchemaChangeEndsChain(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, db *sql.DB)
	}{
		{"trigger made again", func(t *testing.T, db *sql.DB) {
			var trigger string
			if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'persist_records_upd'`).Scan(&trigger); err != nil {
				t.Fatal(err)
			}
			run(t, db, `DROP TRIGGER persist_records_upd`, `UPDATE persist_records SET value = '{"hacked":1}' WHERE key = 'u1'`, trigger)
		}},
		{"VACUUM", func(t *testing.T, db *sql.DB) { run(t, db, `VACUUM`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, c, db := trackedStore(t)
			tc.do(t, db)
			err := deltaErr(t, a, c)
			if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "schema changed since the cursor") {
				t.Errorf("delta across a schema change: %v, want ErrCursor saying the schema changed", err)
			}
			if h := hint.All(err); len(h) == 0 || !strings.Contains(h[0], "full dump") || !strings.Contains(h[0], "VACUUM") {
				t.Errorf("hints %q, want a full dump, and what ends a chain", h)
			}
			c2 := cursor(t, a, "app")
			run(t, db, `UPDATE persist_records SET value = '"seen"' WHERE key = 'u1'`)
			if got := delta(t, a, "app", c2); len(got) != 1 || !strings.Contains(got[0], `"seen"`) {
				t.Errorf("delta of the new chain: %q", got)
			}
		})
	}
}

// A cursor of the release before the schema cookie (a history entry, no
// cookie) is refused once; the full dump's cursor then carries one.
func TestCursorOfEarlierRelease(t *testing.T) {
	a, c, db := trackedStore(t)
	parsed, err := adapters.ParseCursor(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Pos, _, _ = strings.Cut(parsed.Pos, ":")
	err = deltaErr(t, a, parsed.String())
	if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "earlier release") || len(hint.All(err)) == 0 {
		t.Errorf("delta since a cursor without the schema cookie: %v (hints %q), want ErrCursor naming an earlier release, and a hint", err, hint.All(err))
	}
	c2 := cursor(t, a, "app")
	run(t, db, `UPDATE persist_records SET value = '"seen"' WHERE key = 'u1'`)
	if err := deltaErr(t, a, c2); err != nil {
		t.Errorf("delta since the new cursor: %v", err)
	}
}

// earlierUpd is persist_records_upd as the release before this one made
// it: quiet = 1 silenced it for every row, and it bumped a version only
// when an edit left it as it was.
const earlierUpd = `CREATE TRIGGER persist_records_upd AFTER UPDATE ON persist_records
		WHEN (SELECT quiet FROM persist_clock) IS NOT 1
		BEGIN
			UPDATE persist_clock SET chg = chg + 1, quiet = 1;
			INSERT OR REPLACE INTO persist_history (chg, token) SELECT chg, lower(hex(randomblob(8))) FROM persist_clock;
			UPDATE persist_records SET chg = (SELECT chg FROM persist_clock), version = CASE WHEN NEW.version IS OLD.version AND (NEW.value IS NOT OLD.value
	OR NEW.deleted IS NOT OLD.deleted OR NEW.updated_at IS NOT OLD.updated_at) THEN OLD.version + 1 ELSE version END WHERE store = NEW.store AND collection = NEW.collection AND key = NEW.key;
			INSERT INTO persist_removals (store, chg) SELECT OLD.store, (SELECT chg FROM persist_clock) WHERE OLD.store IS NOT NEW.store OR OLD.collection IS NOT NEW.collection OR OLD.key IS NOT NEW.key
			ON CONFLICT (store) DO UPDATE SET chg = excluded.chg;
			UPDATE persist_clock SET quiet = 0;
		END`

// A file whose triggers an earlier release made gets this release's at
// the first write, in one transaction; a cursor taken before it (by a
// reader, which never writes) still gives a delta, as that change of the
// schema was Persist's own. A change after it still ends the chain.
func TestTriggersOfEarlierRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	defer db.Close()
	run(t, db, `DROP TRIGGER persist_records_upd`, earlierUpd)
	r := open(t, path, Options{ReadOnly: true})
	defer r.Close()
	c := cursor(t, r, "app")
	w := open(t, path, Options{})
	defer w.Close()
	want := putLines(t, w, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	if got := delta(t, r, "app", c); !slices.Equal(got, want) {
		t.Errorf("delta across Persist's own change of the triggers:\n%q\nwant\n%q", got, want)
	}
	ours, err := ownTriggerSQL()
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'persist_records_upd'`).Scan(&got); err != nil || got != ours["persist_records_upd"] {
		t.Errorf("persist_records_upd after the first write (%v):\n%s\nwant this release's:\n%s", err, got, ours["persist_records_upd"])
	}
	c2 := cursor(t, r, "app")
	run(t, db, `VACUUM`)
	if err := deltaErr(t, r, c); !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("delta across VACUUM after Persist's change: %v, want ErrCursor", err)
	}
	if err := deltaErr(t, r, c2); !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("delta across VACUUM: %v, want ErrCursor", err)
	}
}

// A version lowered or kept by hand, with anything changed, gets the
// version after the one it had: a delta line older than what a copy holds
// would be skipped there as stale. At the largest version there is, such
// an edit is refused.
func TestHandEditGetsNewerVersion(t *testing.T) {
	a, c, db := trackedStore(t) // u1 is at version 3
	for _, tc := range []struct{ edit, want string }{
		{`UPDATE persist_records SET version = 1, value = '"lowered"' WHERE key = 'u1'`, `"version":4,`},
		{`UPDATE persist_records SET version = 2 WHERE key = 'u1'`, `"version":5,`},
		{`UPDATE persist_records SET value = '"kept"' WHERE key = 'u1'`, `"version":6,`},
		{`UPDATE persist_records SET version = 10, value = '"raised"' WHERE key = 'u1'`, `"version":10,`},
		{`UPDATE persist_records SET value = value WHERE key = 'u1'`, `"version":10,`},
	} {
		run(t, db, tc.edit)
		if got := delta(t, a, "app", c); len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("after %s: delta %q, want %s", tc.edit, got, tc.want)
		}
	}
	run(t, db, `UPDATE persist_records SET version = 9223372036854775807 WHERE key = 'u1'`)
	_, err := db.Exec(`UPDATE persist_records SET value = '"one more"' WHERE key = 'u1'`)
	if err == nil || !strings.Contains(err.Error(), "9223372036854775807") || !strings.Contains(err.Error(), "new key") {
		t.Errorf("an edit at the largest version: %v, want it refused, saying why and what to do", err)
	}
	var version any
	if err := db.QueryRow(`SELECT version FROM persist_records WHERE key = 'u1'`).Scan(&version); err != nil || version != int64(9223372036854775807) {
		t.Errorf("version after the refused edit: %v (%T), %v", version, version, err)
	}
}

// Another program's insert that names chg itself (a row copied with its
// chg, NULL, or one past the clock) is stamped all the same, and reaches
// the next delta; the clock is not moved by a value it did not give.
func TestInsertNamingChgStamped(t *testing.T) {
	a, c, db := trackedStore(t)
	for i, chg := range []string{"1", "NULL", "1000000000"} {
		run(t, db, fmt.Sprintf(`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
			VALUES ('app', 'named', 'k%d', 1, '2026-11-25T12:00:00.000000Z', 0, '"v"', %s)`, i, chg))
		run(t, db, fmt.Sprintf(`INSERT INTO persist_events (store, stream, seq, type, at, data, chg)
			VALUES ('app', 'named', %d, 't', '2026-11-25T12:00:00.000000Z', '"v"', %s)`, i+1, chg))
	}
	got := strings.Join(delta(t, a, "app", c), "\n")
	for i := range 3 {
		for _, want := range []string{fmt.Sprintf(`"key":"k%d"`, i), fmt.Sprintf(`"stream":"named","seq":%d`, i+1)} {
			if !strings.Contains(got, want) {
				t.Errorf("delta lacks %s:\n%s", want, got)
			}
		}
	}
	var clock int64
	if err := db.QueryRow(`SELECT chg FROM persist_clock`).Scan(&clock); err != nil || clock >= 1000000000 {
		t.Errorf("the clock after the inserts: %d, %v", clock, err)
	}
}

// An application's trigger that writes Persist's tables when Persist
// writes them makes a change of its own: its rows are stamped, and a
// changed record gets a newer version, as any other program's writes are.
func TestAppTriggerWritesTracked(t *testing.T) {
	a, _, db := trackedStore(t)
	putLines(t, a, "app", `{"kind":"record","collection":"stats","key":"orders","version":1,"updated_at":"2026-11-25T12:00:00Z","value":{"n":0}}`)
	run(t, db, `CREATE TRIGGER app_count AFTER INSERT ON persist_records WHEN NEW.collection = 'orders' BEGIN
			UPDATE persist_records SET value = json_set(value, '$.n', json_extract(value, '$.n') + 1)
				WHERE store = NEW.store AND collection = 'stats' AND key = 'orders';
			INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
				VALUES (NEW.store, 'audit', NEW.key, 1, NEW.updated_at, 0, '"seen"');
		END`)
	c := cursor(t, a, "app")
	put := putLines(t, a, "app", `{"kind":"record","collection":"orders","key":"o1","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
	want := []string{
		`{"kind":"record","collection":"audit","key":"o1","version":1,"updated_at":"2026-11-25T12:00:00.000000Z","value":"seen"}`,
		put[0],
		`{"kind":"record","collection":"stats","key":"orders","version":2,"updated_at":"2026-11-25T12:00:00.000000Z","value":{"n":1}}`,
	}
	if got := delta(t, a, "app", c); !slices.Equal(got, want) {
		t.Errorf("delta after a write that set off the application's trigger:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var quiet int
	if err := db.QueryRow(`SELECT quiet FROM persist_clock`).Scan(&quiet); err != nil || quiet != 0 {
		t.Errorf("quiet after the write: %d, %v", quiet, err)
	}
}

// A tracking trigger rewritten by hand (one that records nothing, under
// Persist's name) gives no cursor: a delta from one taken then would miss
// every edit made meanwhile, even once Persist's next write put the
// trigger back. Upgrade's repair makes it again.
func TestTriggerRewrittenByHand(t *testing.T) {
	a, c, db := trackedStore(t)
	run(t, db, `DROP TRIGGER persist_records_upd`,
		`CREATE TRIGGER persist_records_upd AFTER UPDATE ON persist_records WHEN 0 BEGIN SELECT 1; END`)
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Cursor(t.Context())
	s.Close()
	if !errors.Is(err, adapters.ErrNoCursor) || !strings.Contains(err.Error(), "not as Persist makes it") {
		t.Fatalf("cursor with a trigger rewritten by hand: %v, want ErrNoCursor", err)
	}
	// A cursor of before the rewrite does not pass the write that puts
	// the trigger back.
	run(t, db, `UPDATE persist_records SET value = '"unseen"' WHERE key = 'u1'`)
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"u8","version":1,"updated_at":"2026-11-25T12:00:00Z","value":8}`)
	if err := deltaErr(t, a, c); !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("a delta across a trigger rewritten by hand and put back: %v, want ErrCursor", err)
	}
	if _, err := a.Upgrade(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := cursor(t, a, "app"); c == "" {
		t.Fatal("no cursor after the repair")
	}
}

// Another program's INSERT OR REPLACE over a record at the same or a newer
// version gets the version after the one replaced, as an update does: the
// delta carried the lower version, which a copy skipped as stale.
func TestReplaceGetsNewerVersion(t *testing.T) {
	a, c, db := trackedStore(t) // u1 is at version 3
	replace := func(version int64, deleted int, value any) string {
		return fmt.Sprintf(`INSERT OR REPLACE INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'users', 'u1', %d, '2026-12-05T00:00:00.000000Z', %d, %s)`, version, deleted, value)
	}
	for _, tc := range []struct{ edit, want string }{
		{replace(1, 0, `'"hand"'`), `"version":4,`},
		{replace(4, 0, `'"same version, other value"'`), `"version":5,`},
		{replace(5, 0, `'"same version, other value"'`), `"version":5,`}, // the row as it is: no change
		{replace(2, 1, `NULL`), `"version":6,`},
		{`REPLACE INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'users', 'u1', 1, '2026-12-05T00:00:00.000000Z', 0, '"back"')`, `"version":7,`},
		{replace(20, 0, `'"raised"'`), `"version":20,`},
		// An upsert goes the update's way; the next replace finds no
		// copy of it left behind.
		{`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'users', 'u1', 1, '2026-12-05T00:00:00.000000Z', 0, '"upsert"')
			ON CONFLICT (store, collection, key) DO UPDATE SET value = excluded.value`, `"version":21,`},
		{replace(1, 0, `'"again"'`), `"version":22,`},
	} {
		run(t, db, tc.edit)
		if got := delta(t, a, "app", c); len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("after %s: delta %q, want %s", tc.edit, got, tc.want)
		}
	}
	prior := func(when string) {
		t.Helper()
		var left int
		if err := db.QueryRow(`SELECT count(*) FROM persist_prior`).Scan(&left); err != nil || left != 0 {
			t.Errorf("persist_prior holds %d rows %s (%v), want none", left, when, err)
		}
	}
	prior("after inserts")
	// An upsert that goes the update's way, and an insert a conflict
	// stops, leave nothing behind them either for long.
	run(t, db, `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES ('app', 'users', 'u1', 1, '2026-12-05T00:00:00.000000Z', 0, '"upsert again"')
		ON CONFLICT (store, collection, key) DO UPDATE SET value = excluded.value`)
	prior("after an upsert")
	run(t, db, `INSERT OR IGNORE INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES ('app', 'users', 'u1', 1, '2026-12-05T00:00:00.000000Z', 0, '"ignored"')`)
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"other","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
	prior("after Persist's write")
	run(t, db, `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES ('app', 'users', 'new', 1, '2026-12-05T00:00:00.000000Z', 0, '1')`)
	if got := delta(t, a, "app", c); len(got) != 3 || !strings.Contains(got[0], `"key":"new","version":1,`) {
		t.Errorf("a new key inserted by hand: delta %q, want it at version 1", got)
	}
	run(t, db, `UPDATE persist_records SET version = 9223372036854775807 WHERE key = 'u1'`)
	_, err := db.Exec(replace(1, 0, `'"one more"'`))
	if err == nil || !strings.Contains(err.Error(), "9223372036854775807") {
		t.Errorf("a replace of a record at the largest version: %v, want it refused", err)
	}
}

// A file whose triggers the release before this one made (no
// persist_records_pre, no persist_prior) is tracked as it was: its cursors
// are good, and this release's first write brings the new trigger, which a
// cursor from before passes (Persist's own step).
func TestTriggersOfPreviousRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	defer db.Close()
	run(t, db, `DROP TRIGGER persist_records_pre`, `DROP TABLE persist_prior`,
		triggers("persist_records", "collection", "key", trackParts{bump: recordBump, limit: recordLimit}))
	for _, name := range []string{"persist_records_ins", "persist_records_upd", "persist_records_del"} {
		var def string
		if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, name).Scan(&def); err != nil || !earlierTrigger(name, def) {
			t.Fatalf("the previous release's %s is not among earlierTriggers (%v):\n%s", name, err, def)
		}
	}
	r := open(t, path, Options{ReadOnly: true})
	defer r.Close()
	c := cursor(t, r, "app")
	w := open(t, path, Options{})
	defer w.Close()
	want := putLines(t, w, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	if got := delta(t, r, "app", c); !slices.Equal(got, want) {
		t.Errorf("delta across Persist's own step:\n%q\nwant\n%q", got, want)
	}
	run(t, db, `INSERT OR REPLACE INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		VALUES ('app', 'users', 'u9', 1, '2026-12-05T00:00:00.000000Z', 0, '"hand"')`)
	if got := delta(t, r, "app", c); len(got) != 1 || !strings.Contains(got[0], `"version":2,`) {
		t.Errorf("a replace after the step: delta %q, want u9 at version 2", got)
	}
}
