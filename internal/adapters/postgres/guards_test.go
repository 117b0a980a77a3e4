package postgres

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
)

// withPath is dsn with the session's search_path set to path.
func withPath(dsn, path string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("options", "-csearch_path="+path)
	u.RawQuery = q.Encode()
	return u.String()
}

// openAt opens an adapter on dsn, closed when the test ends.
func openAt(t *testing.T, dsn string, opt Options) *Adapter {
	t.Helper()
	a, err := Open(dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// stagedBatch overwrites items, which the staging tables always take, in
// a transaction of its own, reads them back and rolls back: it returns the
// problems the read-back named ("key: problem"), or its error.
func stagedBatch(t *testing.T, a *Adapter, items ...*record.Item) ([]string, error) {
	t.Helper()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	var problems []string
	err = tx.ReadBack(ctx, items, func(it *record.Item, p string) error {
		problems = append(problems, it.Key+": "+p)
		return nil
	})
	return problems, err
}

// wantHinted fails unless err says each of says, and its hint hints.
func wantHinted(t *testing.T, err error, says []string, hints ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one that says %q", says)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	all := strings.Join(hint.All(err), "\n")
	for _, h := range hints {
		if !strings.Contains(all, h) {
			t.Errorf("hint %q does not say %q", all, h)
		}
	}
}

// markTrigger makes a trigger function that adds a member to a value
// (twice the same as once), and puts it on persist_records.
const markTrigger = `CREATE FUNCTION public.mark() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN NEW.value := NEW.value || '{"x":1}'; RETURN NEW; END $$;
	CREATE TRIGGER mark BEFORE INSERT OR UPDATE ON persist_records FOR EACH ROW EXECUTE FUNCTION public.mark()`

// An event trigger that gives the staging table, as Persist creates it, a
// trigger that changes staged rows as the table's trigger changes the
// written ones would make the comparison pass: the staging tables are
// proven bare first, and the event trigger is named.
func TestStagingTriggerRefused(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `{"n":1}`))
	db := sqlDB(t, dsn)
	mustExec(t, db, markTrigger+`;
		CREATE FUNCTION hook() RETURNS event_trigger LANGUAGE plpgsql AS $$
		DECLARE r record;
		BEGIN
			FOR r IN SELECT object_identity FROM pg_event_trigger_ddl_commands()
				WHERE object_type = 'table' AND object_identity LIKE '%.persist_stage_records' LOOP
				EXECUTE format('CREATE TRIGGER mark BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.mark()', r.object_identity);
			END LOOP;
		END $$;
		CREATE EVENT TRIGGER hook ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION hook()`)
	problems, err := stagedBatch(t, a, rec("c", "a", 2, `{"n":2}`))
	wantHinted(t, err, []string{"trigger mark on persist_stage_records"}, "ALTER EVENT TRIGGER hook DISABLE")
	if len(problems) > 0 {
		t.Errorf("problems %q besides the error", problems)
	}
	mustExec(t, db, `ALTER EVENT TRIGGER hook DISABLE`)
	problems, err = stagedBatch(t, a, rec("c", "a", 2, `{"n":2}`))
	if err != nil || strings.Join(problems, "|") != "a: value differs" {
		t.Errorf("with the event trigger disabled: %q, %v; want the value named", problems, err)
	}
}

// A table of the staging tables' name in a schema the search_path lists
// before pg_temp is never used in their place.
func TestStagingTablesByPgTemp(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := sqlDB(t, dsn)
	a := openAt(t, withPath(dsn, "public,pg_temp"), Options{})
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `{"n":1}`))
	mustExec(t, db, markTrigger+`;
		CREATE TABLE public.persist_stage_records (ord bigint, collection text COLLATE "C", key text COLLATE "C",
			version bigint, updated_at timestamptz, deleted boolean, value jsonb);
		CREATE TRIGGER mark BEFORE INSERT ON public.persist_stage_records FOR EACH ROW EXECUTE FUNCTION public.mark()`)
	problems, err := stagedBatch(t, a, rec("c", "a", 2, `{"n":2}`))
	if err != nil || strings.Join(problems, "|") != "a: value differs" {
		t.Errorf("problems %q, %v; want the value named", problems, err)
	}
}

// No operator or function of a schema on the search_path answers for
// pg_catalog's in Persist's statements, wherever the schema is on the
// path: not in a read-back, a scan, a stream's last seq or the catalog's proof,
// which passes with the path put right.
func TestOtherSchemasDoNotAnswer(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := sqlDB(t, dsn)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 1, `{"n":1}`), event("s", 1, "t", `1`))
	put(t, openAt(t, dsn, Options{}), "other", adapters.Fresh, rec("c", "z", 1, `1`))
	mustExec(t, db, `CREATE SCHEMA shadow;
		CREATE FUNCTION shadow.yes(jsonb, jsonb) RETURNS boolean LANGUAGE sql AS 'SELECT true';
		CREATE OPERATOR shadow.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = shadow.yes);
		CREATE FUNCTION shadow.yes(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
		CREATE OPERATOR shadow.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.yes);
		CREATE FUNCTION shadow.unnest(text[]) RETURNS SETOF text LANGUAGE sql AS 'SELECT NULL::text WHERE false'`)
	a := openAt(t, withPath(dsn, "shadow,pg_catalog,public"), Options{})

	direct := directBatches.Load()
	tx, problems := readBatch(t, a, rec("c", "b", 1, `1`))
	if len(problems) > 0 || directBatches.Load() != direct+1 {
		why, _ := a.direct.why.Load().(string)
		t.Errorf("a fresh batch: problems %q, not proven (%s)", problems, why)
	}
	if m, err := tx.MaxSeq(ctx, []string{"s"}); err != nil || m["s"] != 1 {
		t.Errorf("MaxSeq: %v, %v; want s at 1", m, err)
	}
	tx.Rollback()

	if got := dump(t, a, "app", adapters.Filter{}); strings.Contains(got, `"key":"z"`) || !strings.Contains(got, `"key":"a"`) {
		t.Errorf("dump of app:\n%s", got)
	}

	mustExec(t, db, markTrigger)
	problems, err := stagedBatch(t, a, rec("c", "a", 2, `{"n":2}`))
	if err != nil || strings.Join(problems, "|") != "a: value differs" {
		t.Errorf("staged: problems %q, %v; want the value named", problems, err)
	}
}

// The catalog's proof compares no oid with a regclass or regtype: an
// operator on exactly those types, in any schema on the search_path, would
// answer for pg_catalog's oid equality, and hide what the tables carry.
func TestProofOperatorsExact(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	mark, err := readMarkVersion(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ change, want string }{
		{`CREATE FUNCTION public.no(oid, regclass) RETURNS boolean LANGUAGE sql AS 'SELECT false';
			CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = public.no);
			CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TRIGGER t BEFORE INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION f()`, "trigger t on persist_records"},
		{`CREATE FUNCTION public.no(oid, regtype) RETURNS boolean LANGUAGE sql AS 'SELECT false';
			CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regtype, FUNCTION = public.no);
			CREATE FUNCTION g(double precision) RETURNS text LANGUAGE sql AS 'SELECT ''x''';
			CREATE CAST (double precision AS text) WITH FUNCTION g(double precision)`, "a cast from double precision to text"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			mustTxExec(t, tx, tc.change)
			var why sql.NullString
			// As text, not prepared: a plan made before the operator
			// was would not show what the text resolves to.
			if err := tx.QueryRowContext(ctx, proofQuery, markBody, mark).Scan(&why); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(why.String, tc.want) {
				t.Errorf("proof: %q, want it to name %q", why.String, tc.want)
			}
		})
	}
}

// Row security that would hide rows from the reading role fails the
// snapshot (and a writer's transaction), naming the table; what the hint
// says makes the whole store readable. A policy turned on after the
// snapshot began fails its scan, as pg_dump's does.
func TestRowSecurityRefused(t *testing.T) {
	role := newRole(t)
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `1`), rec("c", "u5", 1, `5`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `GRANT USAGE ON SCHEMA public TO `+role+`;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO `+role+`;
		ALTER TABLE persist_records ENABLE ROW LEVEL SECURITY;
		CREATE POLICY p ON persist_records FOR SELECT USING (key <> 'u5')`)
	r := openAt(t, asRole(t, dsn, role), Options{})
	_, err := r.Snapshot(ctx, "app")
	wantHinted(t, err, []string{"row security policies on persist_records apply to role " + role},
		"BYPASSRLS", "ALTER TABLE persist_records DISABLE ROW LEVEL SECURITY")
	_, err = r.Begin(ctx, "app")
	wantHinted(t, err, []string{"row security policies on persist_records"}, "BYPASSRLS")

	mustExec(t, db, `ALTER TABLE persist_records DISABLE ROW LEVEL SECURITY`)
	if got := dump(t, r, "app", adapters.Filter{}); !strings.Contains(got, `"key":"u5"`) {
		t.Errorf("dump after the hint:\n%s", got)
	}

	s, err := r.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustExec(t, db, `ALTER TABLE persist_records ENABLE ROW LEVEL SECURITY`)
	err = s.Scan(ctx, adapters.Filter{}, func(*record.Item) error { return nil })
	wantHinted(t, err, []string{`row security policies on "persist_records"`}, "BYPASSRLS")
}

// A trigger or rule on the tables the note of a load's cursor writes, which
// would change the store after the load was verified, is refused before
// the note commits, by name; with it dropped, as the hint says, the note
// is made.
func TestNoteRefusesTriggers(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN UPDATE persist_records SET value = '99'; RETURN NULL; END $$`)
	for _, tc := range []struct{ make, says, hint string }{
		{`CREATE TRIGGER "Bump" AFTER INSERT OR UPDATE ON persist_sources FOR EACH ROW EXECUTE FUNCTION bump()`,
			`trigger "Bump" on public.persist_sources`, `DROP TRIGGER "Bump" ON public.persist_sources`},
		// An INSERT or UPDATE rule makes the server refuse the note's
		// INSERT … ON CONFLICT outright; any other is refused too.
		{`CREATE RULE bump AS ON DELETE TO persist_sources DO ALSO UPDATE persist_records SET value = '98'`,
			"rule bump on public.persist_sources", "DROP RULE bump ON public.persist_sources"},
	} {
		mustExec(t, db, tc.make)
		tx, err := a.Begin(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		err = tx.SetLoadedFrom(ctx, "postgres.0123456789abcdef", "a cursor")
		wantHinted(t, err, []string{tc.says}, tc.hint)
		tx.Rollback()
		mustExec(t, db, tc.hint)
	}
	// A disabled trigger on persist_sources runs nothing; a trigger on
	// persist_stores is no reason for SetLoadedFrom itself to refuse the
	// note (a load refuses it by ForeignCode, before the note commits).
	mustExec(t, db, `CREATE TRIGGER "Off" AFTER INSERT OR UPDATE ON persist_sources FOR EACH ROW EXECUTE FUNCTION bump();
		ALTER TABLE persist_sources DISABLE TRIGGER "Off"`)
	mustExec(t, db, `CREATE TABLE audit (at timestamptz);
		CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (now()); RETURN NULL; END $$;
		CREATE TRIGGER audit AFTER INSERT ON persist_stores FOR EACH STATEMENT EXECUTE FUNCTION audit()`)
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.SetLoadedFrom(ctx, "postgres.0123456789abcdef", "a cursor"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"value":1}`) {
		t.Errorf("the store changed:\n%s", got)
	}
}

// A key column whose collation is not "C" would put a dump out of byte
// order: the snapshot fails, and what the hint says puts it right.
func TestOtherCollationRefused(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "B", 1, `1`), rec("c", "a", 1, `2`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `DROP TRIGGER persist_records_stamp ON persist_records;
		ALTER TABLE persist_records ALTER COLUMN key TYPE text COLLATE "und-x-icu"`)
	if _, err := a.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := a.Snapshot(ctx, "app")
	const fix = `DROP TRIGGER IF EXISTS persist_records_stamp ON persist_records; ALTER TABLE persist_records ALTER COLUMN key TYPE text COLLATE "C"`
	wantHinted(t, err, []string{`column persist_records.key is text COLLATE "und-x-icu"`}, fix, "persist upgrade")
	// Operators of a schema before pg_catalog on the path, on exactly the
	// check's types, do not answer for the catalog's.
	mustExec(t, db, `CREATE SCHEMA shadow;
		CREATE FUNCTION shadow.no(oid, oid) RETURNS boolean LANGUAGE sql AS 'SELECT false';
		CREATE OPERATOR shadow.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = shadow.no);
		CREATE OPERATOR shadow.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = shadow.no)`)
	_, err = openAt(t, withPath(dsn, "shadow,pg_catalog,public"), Options{}).Snapshot(ctx, "app")
	wantHinted(t, err, []string{`column persist_records.key is text COLLATE "und-x-icu"`}, fix)
	mustExec(t, db, `DROP SCHEMA shadow CASCADE`)
	mustExec(t, db, fix)
	if _, err := a.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	got := dump(t, a, "app", adapters.Filter{})
	if i, j := strings.Index(got, `"key":"B"`), strings.Index(got, `"key":"a"`); i < 0 || j < i {
		t.Errorf("dump after the hint:\n%s", got)
	}
}

// Every column out of byte order is named at once, and the hint's
// statements put them all right, on a schema without Persist's triggers
// too (another implementation's): run as given, then upgrade, the store
// dumps in order.
func TestOtherCollationAllInOneHint(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "B", 1, `1`), rec("c", "a", 1, `2`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `DROP TRIGGER persist_records_stamp ON persist_records; DROP TRIGGER persist_events_stamp ON persist_events;
		ALTER TABLE persist_records ALTER COLUMN store TYPE text COLLATE "und-x-icu", ALTER COLUMN key TYPE text COLLATE "und-x-icu";
		ALTER TABLE persist_events ALTER COLUMN stream TYPE text COLLATE "und-x-icu"`)
	_, err := a.Snapshot(ctx, "app")
	const fix = `DROP TRIGGER IF EXISTS persist_records_stamp ON persist_records; DROP TRIGGER IF EXISTS persist_events_stamp ON persist_events; ` +
		`ALTER TABLE persist_records ALTER COLUMN store TYPE text COLLATE "C", ALTER COLUMN key TYPE text COLLATE "C"; ` +
		`ALTER TABLE persist_events ALTER COLUMN stream TYPE text COLLATE "C"`
	wantHinted(t, err, []string{`column persist_records.store is text COLLATE "und-x-icu"; column persist_records.key is text COLLATE "und-x-icu"; column persist_events.stream is text COLLATE "und-x-icu", not text COLLATE "C"`}, fix)
	mustExec(t, db, fix)
	if _, err := a.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	got := dump(t, a, "app", adapters.Filter{})
	if i, j := strings.Index(got, `"key":"B"`), strings.Index(got, `"key":"a"`); i < 0 || j < i {
		t.Errorf("dump after the hint:\n%s", got)
	}
}

// A time column changed to timestamp without time zone (in a session in
// UTC, as ALTER TABLE … TYPE timestamp converts) is refused before a
// snapshot reads a row, not at the first row with a word about years; the
// hint's statements, run as given, put the times back as they were.
func TestTimeWithoutZoneRefused(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `1`), event("s", 1, "t", `2`))
	want := dump(t, a, "app", adapters.Filter{})
	db := sqlDB(t, dsn)
	mustExec(t, db, `SET TimeZone = 'UTC'; ALTER TABLE persist_records ALTER COLUMN updated_at TYPE timestamp;
		ALTER TABLE persist_events ALTER COLUMN at TYPE timestamp; RESET TimeZone`)
	_, err := a.Snapshot(ctx, "app")
	const fix = `ALTER TABLE persist_records ALTER COLUMN updated_at TYPE timestamptz USING updated_at AT TIME ZONE 'UTC'; ` +
		`ALTER TABLE persist_events ALTER COLUMN at TYPE timestamptz USING at AT TIME ZONE 'UTC'`
	wantHinted(t, err, []string{"column persist_records.updated_at is timestamp without time zone; " +
		"column persist_events.at is timestamp without time zone, not timestamp with time zone"}, fix)
	// Run in a session of another zone, as an administrator's psql may be:
	// the USING clause, not the session, puts the times back.
	mustExec(t, db, `SET TimeZone = 'Pacific/Auckland'; `+fix+`; RESET TimeZone`)
	if got := dump(t, a, "app", adapters.Filter{}); got != want {
		t.Errorf("dump after the hint:\n%s\nwant:\n%s", got, want)
	}
}

// A value or data column changed from jsonb by hand (to json, to text)
// is refused a writer, with the ALTER that puts it back, where a load's
// merge failed on the server's error; followed, the hint lets it write.
func TestValueNotJSONBRefused(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `{"a":1}`), event("s", 1, "t", `2`))
	want := dump(t, a, "app", adapters.Filter{})
	db := sqlDB(t, dsn)
	mustExec(t, db, `ALTER TABLE persist_records ALTER COLUMN value TYPE json USING value::json;
		ALTER TABLE persist_events ALTER COLUMN data TYPE text`)
	w := openAt(t, dsn, Options{})
	_, err := w.Begin(ctx, "app")
	const fix = `ALTER TABLE public.persist_records ALTER COLUMN value TYPE jsonb USING value::text::jsonb; ` +
		`ALTER TABLE public.persist_events ALTER COLUMN data TYPE jsonb USING data::text::jsonb`
	wantHinted(t, err, []string{"column public.persist_records.value is json, not jsonb; column public.persist_events.data is text, not jsonb"}, fix)
	mustExec(t, db, fix)
	put(t, w, "app", adapters.Guarded, rec("c", "u1", 1, `{"a":1}`))
	if got := dump(t, w, "app", adapters.Filter{}); got != want {
		t.Errorf("dump after the hint:\n%s\nwant:\n%s", got, want)
	}

	// In a schema whose name needs quotes, the hint quotes it.
	mustExec(t, db, `CREATE SCHEMA "my app"`)
	spaced := withPath(dsn, `"my\ app"`) // the server splits options at white space
	put(t, openAt(t, spaced, Options{}), "app", adapters.Fresh, rec("c", "u1", 1, `{"a":1}`))
	mustExec(t, db, `ALTER TABLE "my app".persist_records ALTER COLUMN value TYPE json USING value::json`)
	_, err = openAt(t, spaced, Options{}).Begin(ctx, "app")
	const fixSpaced = `ALTER TABLE "my app".persist_records ALTER COLUMN value TYPE jsonb USING value::text::jsonb`
	wantHinted(t, err, []string{`column "my app".persist_records.value is json, not jsonb`}, fixSpaced)
	mustExec(t, db, fixSpaced)
	put(t, openAt(t, spaced, Options{}), "app", adapters.Guarded, rec("c", "u1", 1, `{"a":1}`))
}

func mustTxExec(t *testing.T, tx *sql.Tx, q string) {
	t.Helper()
	if _, err := tx.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// An empty search_path stays a path without the user's schemas: the
// snapshot says the store is out of reach, not that the path it built is
// invalid.
func TestEmptySearchPath(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	put(t, openAt(t, dsn, Options{}), "app", adapters.Fresh, rec("c", "a", 1, `1`))
	a := openAt(t, withPath(dsn, ""), Options{})
	_, err := a.Snapshot(ctx, "app")
	if !errors.Is(err, adapters.ErrNoStore) {
		t.Fatalf("snapshot with an empty search_path: %v, want ErrNoStore", err)
	}
}

// Key columns of the database's default collation are byte order where
// the database's locale is C, and read; elsewhere they are refused.
func TestDefaultCollationOfCDatabase(t *testing.T) {
	const ddl = `CREATE TABLE persist_stores (name text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE persist_records (store text, collection text, key text,
			version bigint NOT NULL CHECK (version >= 1), updated_at timestamptz NOT NULL, deleted boolean NOT NULL, value jsonb,
			PRIMARY KEY (store, collection, key));
		CREATE TABLE persist_events (store text, stream text, seq bigint CHECK (seq >= 1),
			type text NOT NULL, at timestamptz NOT NULL, data jsonb, PRIMARY KEY (store, stream, seq));
		INSERT INTO persist_stores (name) VALUES ('app');
		INSERT INTO persist_records VALUES ('app', 'c', 'B', 1, '2026-11-25T12:00:00Z', false, '1'), ('app', 'c', 'a', 1, '2026-11-25T12:00:00Z', false, '2')`
	admin := sqlDB(t, pgtest.AdminURL(t))
	name := "persist_t_c_" + strings.ReplaceAll(t.Name(), "/", "_")
	name = strings.ToLower(name)
	mustExec(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	mustExec(t, admin, `CREATE DATABASE `+name+` TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8'`)
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	u, _ := url.Parse(pgtest.AdminURL(t))
	u.Path = "/" + name
	cdb := u.String()
	mustExec(t, sqlDB(t, cdb), ddl)
	if got := dump(t, openAt(t, cdb, Options{}), "app", adapters.Filter{}); strings.Index(got, `"key":"B"`) > strings.Index(got, `"key":"a"`) {
		t.Errorf("dump of a C database:\n%s", got)
	}

	// A database whose default collation is ICU's, even with LC_COLLATE C.
	icu := name + "_icu"
	mustExec(t, admin, `DROP DATABASE IF EXISTS `+icu+` WITH (FORCE)`)
	mustExec(t, admin, `CREATE DATABASE `+icu+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8'`)
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + icu + ` WITH (FORCE)`) })
	u.Path = "/" + icu
	other := u.String()
	mustExec(t, sqlDB(t, other), ddl)
	_, err := openAt(t, other, Options{}).Snapshot(ctx, "app")
	wantHinted(t, err, []string{`column persist_records.store is text COLLATE "default"`}, `COLLATE "C"`)
}

// A role that may hold one connection at a time reads and writes through
// one: no statement of a transaction takes a second.
func TestOneConnectionRole(t *testing.T) {
	role := newRole(t)
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `1`))
	admin := sqlDB(t, pgtest.AdminURL(t))
	mustExec(t, admin, `ALTER ROLE `+role+` CONNECTION LIMIT 1`)
	mustExec(t, sqlDB(t, dsn), `GRANT USAGE ON SCHEMA public TO `+role+`;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO `+role)
	r := openAt(t, asRole(t, dsn, role), Options{})
	if got := dump(t, r, "app", adapters.Filter{}); !strings.Contains(got, `"key":"u1"`) {
		t.Errorf("dump as the role:\n%s", got)
	}
	put(t, r, "app", adapters.Fresh, rec("c", "u2", 1, `2`))
	if got := dump(t, r, "app", adapters.Filter{}); !strings.Contains(got, `"key":"u2"`) {
		t.Errorf("dump after a write as the role:\n%s", got)
	}
}

// A role allowed one connection loads on it alone: one writer, and the
// proof of a fresh batch prepared before the transaction takes the
// connection (prepared in the batch, it waited for a second one).
func TestOneConnectionRoleLoads(t *testing.T) {
	role := newRole(t)
	_, dsn := open(t)
	mustExec(t, sqlDB(t, dsn), `GRANT ALL ON SCHEMA public TO `+role)
	mustExec(t, sqlDB(t, pgtest.AdminURL(t)), `ALTER ROLE `+role+` CONNECTION LIMIT 1`)
	r := openAt(t, asRole(t, dsn, role), Options{})
	if r.Writers() != 1 {
		t.Errorf("Writers() = %d for a role allowed one connection, want 1", r.Writers())
	}
	var items []*record.Item
	for i := range 3000 {
		items = append(items, rec("c", fmt.Sprintf("k%05d", i), 1, `{"i":1}`))
	}
	for _, batch := range [][]*record.Item{items[:1000], items[1000:]} {
		tx, err := r.Begin(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Put(ctx, batch, adapters.Fresh); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.ReadBack(ctx, batch, func(it *record.Item, problem string) error {
			return fmt.Errorf("%s/%s: %s", it.Collection, it.Key, problem)
		}); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Count(dump(t, r, "app", adapters.Filter{}), "\n"); got != len(items) {
		t.Errorf("the role's load dumps %d lines, want %d", got, len(items))
	}
}

// Without a limit, or with one that leaves room for two, a load writes two
// batches at once.
func TestWritersWithoutLimit(t *testing.T) {
	role := newRole(t)
	_, dsn := open(t)
	mustExec(t, sqlDB(t, pgtest.AdminURL(t)), `ALTER ROLE `+role+` CONNECTION LIMIT 5`)
	if w := openAt(t, asRole(t, dsn, role), Options{}).Writers(); w != 2 {
		t.Errorf("Writers() = %d for a role allowed five connections, want 2", w)
	}
	a, _ := open(t)
	if a.Writers() != 2 {
		t.Errorf("Writers() = %d without a limit, want 2", a.Writers())
	}
	// A superuser is held to no database's limit.
	su := newRole(t)
	mustExec(t, sqlDB(t, pgtest.AdminURL(t)), `ALTER ROLE `+su+` SUPERUSER CONNECTION LIMIT 1`)
	if w := openAt(t, asRole(t, dsn, su), Options{}).Writers(); w != 2 {
		t.Errorf("Writers() = %d for a superuser, want 2", w)
	}
}

// A relation the search_path finds under the name of a Persist table that
// is not that table (a view in a schema listed first, a view in the
// table's place, a table with a child) is refused by snapshots (each) and
// writers (once an adapter, before its first write), by name: a dump, sum or diff would have
// read what it shows as the store. Each hint, followed, reads the store
// whole again; a partitioned table is a table.
func TestNotPersistTablesRefused(t *testing.T) {
	a, dsn := open(t)
	dsnOf := dsn
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `1`), rec("c", "u2", 1, `2`))
	db := sqlDB(t, dsn)
	whole := func(t *testing.T, a *Adapter) {
		t.Helper()
		if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"key":"u2"`) || !strings.Contains(got, `"key":"u1"`) {
			t.Errorf("dump after the hint:\n%s", got)
		}
	}
	// An adapter's snapshots check every time; its writers once, before
	// the first write (a new adapter here).
	refused := func(t *testing.T, dsn string, says []string, hints ...string) {
		t.Helper()
		r := a
		if dsn != "" {
			r = openAt(t, dsn, Options{})
		}
		if s, err := r.Snapshot(ctx, "app"); err == nil {
			s.Close()
			t.Errorf("snapshot: no error, want ErrNotPersistTable")
		} else if !errors.Is(err, ErrNotPersistTable) {
			t.Errorf("snapshot: %v, want ErrNotPersistTable", err)
		} else {
			wantHinted(t, err, says, hints...)
		}
		if dsn == "" {
			dsn = withPath(dsnOf, "public")
		}
		if tx, err := openAt(t, dsn, Options{}).Begin(ctx, "app"); err == nil {
			tx.Rollback()
			t.Errorf("begin: no error, want ErrNotPersistTable")
		} else if !errors.Is(err, ErrNotPersistTable) {
			t.Errorf("begin: %v, want ErrNotPersistTable", err)
		}
	}

	t.Run("view in a schema first on the path", func(t *testing.T) {
		mustExec(t, db, `CREATE SCHEMA shadow;
			CREATE VIEW shadow.persist_records AS SELECT * FROM public.persist_records WHERE key <> 'u2'`)
		defer mustExec(t, db, `DROP SCHEMA shadow CASCADE`)
		refused(t, withPath(dsn, "shadow,public"),
			[]string{"the search_path finds persist_records in schema shadow, and persist_stores in public"},
			"options=-c%20search_path%3Dpublic in place of any options= there", "drop or rename what is not Persist's (shadow.persist_records)")
		whole(t, openAt(t, withPath(dsn, "public"), Options{}))
		// The hint followed as written, on the URL's own text: its options=
		// in place of the one there, read by libpq's rules as by lib/pq's.
		bad := withPath(dsn, "shadow,public")
		_, err := openAt(t, bad, Options{}).Snapshot(ctx, "app")
		m := regexp.MustCompile(`in a URL's query, (options=\S+) in place of any options= there`).FindStringSubmatch(strings.Join(hint.All(err), "\n"))
		if m == nil {
			t.Fatalf("no URL form in the hints of %v", err)
		}
		u, _ := url.Parse(bad)
		var q []string
		for _, p := range strings.Split(u.RawQuery, "&") {
			if strings.HasPrefix(p, "options=") {
				p = m[1]
			}
			q = append(q, p)
		}
		u.RawQuery = strings.Join(q, "&")
		whole(t, openAt(t, u.String(), Options{}))
	})
	t.Run("view in the table's place", func(t *testing.T) {
		mustExec(t, db, `ALTER TABLE persist_records RENAME TO persist_records_all;
			CREATE VIEW persist_records AS SELECT * FROM persist_records_all WHERE key <> 'u2'`)
		refused(t, "", []string{"public.persist_records is a view, not a table"}, "drop or rename public.persist_records")
		mustExec(t, db, `DROP VIEW persist_records; ALTER TABLE persist_records_all RENAME TO persist_records`)
		whole(t, a)
	})
	// Partitions that are the table's own: old events kept in an archive
	// schema, under another name, or under the same name where that schema
	// shows no store.
	for _, part := range []string{"persist_events_p0", "persist_events"} {
		t.Run("an archive partition named "+part, func(t *testing.T) {
			rename := func(from, to string) string {
				if from == to {
					return ""
				}
				return `ALTER TABLE archive.` + from + ` RENAME TO ` + to + `;`
			}
			mustExec(t, db, `CREATE SCHEMA archive; ALTER TABLE persist_events SET SCHEMA archive;
				`+rename("persist_events", part)+`
				CREATE TABLE public.persist_events (LIKE archive.`+part+`) PARTITION BY LIST (store);
				ALTER TABLE public.persist_events ATTACH PARTITION archive.`+part+` DEFAULT`)
			if s, err := a.Snapshot(ctx, "app"); err != nil {
				t.Errorf("snapshot of a store whose events lie in a partition of an archive schema: %v", err)
			} else {
				s.Close()
			}
			mustExec(t, db, `ALTER TABLE public.persist_events DETACH PARTITION archive.`+part+`; DROP TABLE public.persist_events;
				`+rename(part, "persist_events")+` ALTER TABLE archive.persist_events SET SCHEMA public;
				DROP SCHEMA archive`)
			whole(t, a)
		})
	}
	t.Run("child table", func(t *testing.T) {
		mustExec(t, db, `CREATE TABLE kid () INHERITS (persist_records);
			INSERT INTO kid (store, collection, key, version, updated_at, deleted, value) VALUES ('app', 'c', 'u1', 9, now(), false, '9')`)
		refused(t, "", []string{"public.persist_records has a child table, public.kid"}, "ALTER TABLE public.kid NO INHERIT public.persist_records")
		mustExec(t, db, `ALTER TABLE public.kid NO INHERIT public.persist_records`)
		whole(t, a)
	})
	t.Run("columns of other types", func(t *testing.T) {
		// Read as Persist's, a version 1.5 or a deleted 'yes' failed at
		// its row with the driver's words, naming no record.
		// The change needs the tracking triggers out of the way.
		mustExec(t, db, `DROP TRIGGER persist_records_stamp ON persist_records; DROP TRIGGER persist_events_stamp ON persist_events;
			ALTER TABLE persist_records ALTER COLUMN version TYPE numeric;
			ALTER TABLE persist_records ALTER COLUMN deleted TYPE text; ALTER TABLE persist_events ALTER COLUMN data TYPE json`)
		// An earlier release's upgrade made the triggers again since.
		mustExec(t, db, `CREATE TRIGGER persist_records_stamp BEFORE UPDATE ON persist_records FOR EACH ROW
				WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION persist_mark();
			CREATE TRIGGER persist_events_stamp BEFORE UPDATE ON persist_events FOR EACH ROW
				WHEN (NEW.seq IS DISTINCT FROM OLD.seq) EXECUTE FUNCTION persist_mark()`)
		refused(t, "", []string{"column public.persist_records.version is numeric, not bigint; column public.persist_records.deleted is text, not boolean; " +
			"column public.persist_events.data is json, not jsonb"},
			"DROP TRIGGER IF EXISTS persist_records_stamp ON public.persist_records; "+
				"ALTER TABLE public.persist_records ALTER COLUMN version TYPE bigint USING version::text::bigint; "+
				"ALTER TABLE public.persist_records ALTER COLUMN deleted TYPE boolean USING deleted::text::boolean; "+
				"ALTER TABLE public.persist_events ALTER COLUMN data TYPE jsonb USING data::text::jsonb (", "then run persist upgrade")
		_, err := openAt(t, withPath(dsn, "public"), Options{}).Snapshot(ctx, "app")
		m := regexp.MustCompile(`give it that type back: (.*) \(a value the type`).FindStringSubmatch(strings.Join(hint.All(err), "\n"))
		if m == nil {
			t.Fatalf("no statement in the hints of %v", err)
		}
		mustExec(t, db, m[1])
		whole(t, a)
		// And the upgrade the hint names after it makes the triggers again.
		up := openAt(t, withPath(dsn, "public"), Options{})
		if _, err := up.Upgrade(ctx); err != nil {
			t.Fatalf("upgrade after the hint's statements: %v", err)
		}
		put(t, up, "app", adapters.Guarded, rec("c", "u3", 1, `3`))
	})
	t.Run("partitioned tables over the store's, in a schema of their own", func(t *testing.T) {
		// Under search_path=evil, the same rows as under public: diff and
		// verify would take the two for two stores, equal whatever they
		// hold. Two levels down (evil.T over evil.T_mid over public.T) as
		// well as one.
		mustExec(t, db, `CREATE SCHEMA evil; DO $$ DECLARE t text; k name; BEGIN
			FOREACH t IN ARRAY ARRAY['persist_stores', 'persist_records', 'persist_events', 'persist_sources',
					'persist_history', 'persist_removals', 'persist_meta'] LOOP
				k := (SELECT attname FROM pg_attribute WHERE attrelid = ('public.' || t)::regclass AND attnum = 1);
				EXECUTE format('CREATE TABLE evil.%I (LIKE public.%I) PARTITION BY LIST (%I)', t, t, k);
				IF t = 'persist_stores' THEN
					EXECUTE format('CREATE TABLE evil.%I (LIKE public.%I) PARTITION BY LIST (%I)', t || '_mid', t, k);
					EXECUTE format('ALTER TABLE evil.%I ATTACH PARTITION evil.%I DEFAULT', t, t || '_mid');
					EXECUTE format('ALTER TABLE evil.%I ATTACH PARTITION public.%I DEFAULT', t || '_mid', t);
				ELSE
					EXECUTE format('ALTER TABLE evil.%I ATTACH PARTITION public.%I DEFAULT', t, t);
				END IF;
			END LOOP; END $$`)
		evil := withPath(dsn, "evil")
		refused(t, evil, []string{"evil.persist_stores is partitioned, and public.persist_stores, a table of the same name in another schema, is one of its partitions"},
			"ALTER TABLE evil.persist_stores_mid DETACH PARTITION public.persist_stores (public.persist_stores keeps its rows)",
			"put it first on the search_path (in a URL's query, options=-c%20search_path%3Dpublic")
		whole(t, a)
		// The hint followed, table after table, as each is named.
		for range 7 {
			s, err := openAt(t, evil, Options{}).Snapshot(ctx, "app")
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrNotPersistTable) {
				break
			}
			m := regexp.MustCompile(`ALTER TABLE \S+ DETACH PARTITION \S+`).FindString(strings.Join(hint.All(err), "\n"))
			if m == "" {
				t.Fatalf("no statement in the hints of %v", err)
			}
			mustExec(t, db, m)
		}
		if s, err := openAt(t, evil, Options{}).Snapshot(ctx, "app"); errors.Is(err, ErrNotPersistTable) {
			t.Errorf("after each hint's statement: %v", err)
		} else if err == nil {
			s.Close()
		}
		// Dropped with partitions still attached, the store's tables
		// would go with them.
		mustExec(t, db, `DO $$ DECLARE r record; BEGIN
			FOR r IN SELECT i.inhparent::regclass AS p, i.inhrelid::regclass AS c FROM pg_inherits i
					JOIN pg_class c ON c.oid = i.inhparent JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'evil' LOOP
				EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', r.p, r.c);
			END LOOP; END $$; DROP SCHEMA evil CASCADE`)
		whole(t, a)
	})
}

// A database or role an administrator set read-only
// (default_transaction_read_only, which the driver's BEGIN READ WRITE
// would override) takes no write from Persist: the schema is not made,
// a store is not written, and the error says where the setting comes
// from; the hint's statement, run, lets writes through again. Reads go on.
func TestReadOnlyDatabaseRefused(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := sqlDB(t, pgtest.AdminURL(t))
	db := pq.QuoteIdentifier(dbName(t, dsn))
	mustExec(t, admin, `ALTER DATABASE `+db+` SET default_transaction_read_only = on`)
	a := openAt(t, dsn, Options{})
	_, err := a.Begin(ctx, "app")
	if !errors.Is(err, ErrDatabaseReadOnly) {
		t.Fatalf("begin in a read-only database: %v, want ErrDatabaseReadOnly", err)
	}
	wantHinted(t, err, []string{"set by the database"}, "ALTER DATABASE "+db+" RESET default_transaction_read_only")
	var made bool
	if err := sqlDB(t, dsn).QueryRow(`SELECT pg_catalog.to_regclass('persist_stores') IS NOT NULL`).Scan(&made); err != nil || made {
		t.Errorf("schema made in a read-only database: %v, %v", made, err)
	}
	mustExec(t, admin, `ALTER DATABASE `+db+` RESET default_transaction_read_only`)
	a = openAt(t, dsn, Options{})
	put(t, a, "app", adapters.Fresh, rec("c", "k", 1, `1`))

	// Set again while the adapter, its schema made, writes on: each write
	// transaction reads the setting, in the sessions opened since.
	mustExec(t, admin, `ALTER DATABASE `+db+` SET default_transaction_read_only = on`)
	a.db.SetMaxIdleConns(0)
	if _, err := a.Begin(ctx, "app"); !errors.Is(err, ErrDatabaseReadOnly) {
		t.Errorf("begin after the setting, the schema made: %v, want ErrDatabaseReadOnly", err)
	}
	mustExec(t, admin, `ALTER DATABASE `+db+` RESET default_transaction_read_only`)

	// Set on a role in the database: its writers are refused, its
	// readers read, and the hint's statement lets it write again.
	role := newRole(t)
	mustExec(t, sqlDB(t, dsn), `GRANT USAGE ON SCHEMA public TO `+role+`;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO `+role)
	mustExec(t, admin, `ALTER ROLE `+role+` IN DATABASE `+db+` SET default_transaction_read_only = on`)
	r := openAt(t, asRole(t, dsn, role), Options{})
	_, err = r.Begin(ctx, "app")
	fix := "ALTER ROLE " + pq.QuoteIdentifier(role) + " IN DATABASE " + db + " RESET default_transaction_read_only"
	wantHinted(t, err, []string{"set by the database user"}, fix)
	if got := dump(t, r, "app", adapters.Filter{}); !strings.Contains(got, `"key":"k"`) {
		t.Errorf("dump in a read-only database:\n%s", got)
	}
	mustExec(t, admin, fix)
	put(t, openAt(t, asRole(t, dsn, role), Options{}), "app", adapters.Guarded, rec("c", "k2", 1, `2`))
}

// Each place the setting can come from gets the statement that undoes it
// there, naming the database and the session's role, quoted.
func TestReadOnlyHint(t *testing.T) {
	for source, fix := range map[string]string{
		"database":           `ALTER DATABASE "d b" RESET default_transaction_read_only`,
		"user":               `ALTER ROLE "R" RESET default_transaction_read_only`,
		"database user":      `ALTER ROLE "R" IN DATABASE "d b" RESET default_transaction_read_only`,
		"global":             `ALTER ROLE ALL RESET default_transaction_read_only`,
		"client":             `leave -c default_transaction_read_only=on out of the connection's options`,
		"command line":       `start the server without -c default_transaction_read_only=on`,
		"configuration file": `set default_transaction_read_only = off where it is set (configuration file) and reload the server`,
	} {
		err := readOnly([]string{"on", source, "d b", "R"})
		wantHinted(t, err, []string{"set by the " + source}, fix)
	}
	if err := readOnly([]string{"off", "database", "d", "r"}); err != nil {
		t.Errorf("off: %v", err)
	}
}

// The search_path hint works as written for a schema whose name needs
// quoting, escaping or both, in both forms it gives: the URL's query and
// the key=value string.
func TestPathOptionFollowed(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := sqlDB(t, dsn)
	urlForm := regexp.MustCompile(`in a URL's query, (options=\S+) in place of`)
	kvForm := regexp.MustCompile(`in a key=value location, (options='(?:[^'\\]|\\.)*')$`)
	for _, name := range []string{"plain", "my schema", `back\slash`, "it's", `Up"per`, `two  spaces\ and\\`} {
		mustExec(t, db, `CREATE SCHEMA `+pq.QuoteIdentifier(name))
		h := pathOption(name)
		u, kv := urlForm.FindStringSubmatch(h), kvForm.FindStringSubmatch(h)
		if u == nil || kv == nil {
			t.Fatalf("%q: no URL or key=value form in %s", name, h)
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		base := keyValues(t, dsn)
		for _, loc := range []string{dsn + sep + u[1], base + " " + kv[1]} {
			var got string
			if err := sqlDB(t, loc).QueryRow(`SELECT current_schema()`).Scan(&got); err != nil || got != name {
				t.Errorf("%q: the hint's %s gives current_schema %q, %v", name, loc, got, err)
			}
		}
	}
}

// keyValues is dsn, a URL, as a key=value connection string.
func keyValues(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{"host": u.Hostname(), "port": u.Port(), "user": u.User.Username(), "dbname": strings.TrimPrefix(u.Path, "/")}
	if pw, ok := u.User.Password(); ok {
		kv["password"] = pw
	}
	for k, v := range u.Query() {
		kv[k] = v[0]
	}
	var b []string
	for k, v := range kv {
		if v != "" {
			b = append(b, k+"='"+kvEscaper.Replace(v)+"'")
		}
	}
	return strings.Join(b, " ")
}

// The time check is of Persist's tables only: another application's
// persist_records (no persist_stores beside it) with a timestamp column is
// not refused with a hint to alter it; the snapshot finds no store there.
// A domain over timestamptz reads as timestamptz does.
func TestTimeCheckOnlyPersistTables(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := sqlDB(t, dsn)
	mustExec(t, db, `CREATE TABLE persist_records (store text, collection text, key text, version bigint,
		updated_at timestamp, deleted boolean, value jsonb)`)
	_, err := openAt(t, dsn, Options{}).Snapshot(ctx, "app")
	if err == nil || strings.Contains(err.Error(), "timestamp") || strings.Contains(strings.Join(hint.All(err), " "), "ALTER TABLE") {
		t.Errorf("another application's table: %v (hints %q), want no store and no ALTER", err, hint.All(err))
	}

	a, dsn2 := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "u1", 1, `1`))
	want := dump(t, a, "app", adapters.Filter{})
	mustExec(t, sqlDB(t, dsn2), `CREATE DOMAIN instant AS timestamptz;
		ALTER TABLE persist_records ALTER COLUMN updated_at TYPE instant`)
	if got := dump(t, a, "app", adapters.Filter{}); got != want {
		t.Errorf("a domain over timestamptz:\n%s\nwant:\n%s", got, want)
	}
}
