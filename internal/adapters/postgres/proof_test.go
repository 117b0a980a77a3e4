package postgres

import (
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A first load's batches go straight into the tables, and the catalog
// proves each: nothing is staged, nothing is read back.
func TestFreshBatchesGoDirect(t *testing.T) {
	a, _ := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `{"n":1}`)) // the schema
	direct, rows := directBatches.Load(), readBackRows.Load()
	items := []*record.Item{rec("c", "b", 1, `{"n":-5,"a":[[1],2]}`), rec("c", "c", 2, `"x"`), event("s", 1, "t", `[1,2]`)}
	tx, problems := readBatch(t, a, items...)
	if tx.direct == nil || tx.staged != nil {
		t.Fatalf("the batch was staged (direct %d items, staged %d)", len(tx.direct), len(tx.staged))
	}
	for _, p := range problems {
		t.Error(p)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := directBatches.Load() - direct; n != 1 {
		t.Errorf("%d batches proven, want 1", n)
	}
	if n := readBackRows.Load() - rows; n != 0 {
		t.Errorf("%d batches read back, want none", n)
	}
	got := dump(t, a, "app", adapters.Filter{})
	for _, want := range []string{`"key":"b","version":1,`, `"value":{"a":[[1],2],"n":-5}`, `"stream":"s","seq":1`} {
		if !strings.Contains(got, want) {
			t.Errorf("the store lacks %s:\n%s", want, got)
		}
	}
}

// Whatever the catalog shows that Persist did not make, and that could
// change a row on its way in, is named, and the batch is not taken as
// proven. Each change is made inside a transaction that is rolled back.
func TestProofNamesWhatItCannotProve(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	db := sqlDB(t, dsn)
	mark, err := readMarkVersion(ctx, db)
	if err != nil || mark == "" {
		t.Fatalf("persist_mark's version: %q, %v", mark, err)
	}
	// Prepared, as the adapter runs it: the cases below, each a transaction
	// on the same few connections, run it often enough for the server to
	// plan it once and keep the plan.
	proof, err := db.PrepareContext(ctx, proofQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer proof.Close()
	if why, err := provenRows(ctx, proof, mark); err != nil || why != "" {
		t.Fatalf("a store as Persist made it: %q, %v; want it proven", why, err)
	}
	for _, tc := range []struct{ change, want string }{
		{`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TRIGGER t BEFORE INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION f()`, "trigger t on persist_records"},
		{`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
			CREATE TRIGGER t AFTER INSERT ON persist_events FOR EACH STATEMENT EXECUTE FUNCTION f()`, "trigger t on persist_events"},
		{`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TRIGGER t BEFORE INSERT ON persist_history FOR EACH ROW EXECUTE FUNCTION f()`, "trigger t on persist_history"},
		{`CREATE OR REPLACE FUNCTION persist_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
			"persist_mark is not this release's"},
		{`ALTER FUNCTION persist_mark() SET search_path = pg_temp, public`, "persist_mark is not this release's"},
		{`CREATE RULE r AS ON INSERT TO persist_records DO ALSO NOTIFY x`, "persist_records has rules"},
		{`CREATE RULE r AS ON INSERT TO persist_history DO ALSO NOTIFY x`, "persist_history has rules"},
		{`ALTER TABLE persist_events ENABLE ROW LEVEL SECURITY`, "persist_events has row security"},
		{`ALTER TABLE persist_records ALTER COLUMN chg SET DEFAULT 0`, "the default of persist_records.chg"},
		{`ALTER TABLE persist_records ALTER COLUMN value SET DEFAULT '{}'`, "the default of persist_records.value"},
		{`ALTER TABLE persist_history ADD COLUMN x int DEFAULT 1`, "the default of persist_history.x"},
		{`ALTER TABLE persist_records ADD CONSTRAINT k CHECK (length(key) < 100000)`, "constraint k on persist_records"},
		{`ALTER TABLE persist_events ALTER COLUMN data TYPE json`, "column persist_events.data is json, not jsonb"},
		{`CREATE DOMAIN d AS jsonb; ALTER TABLE persist_records ALTER COLUMN value TYPE d`, "column persist_records.value is d, not jsonb"},
		{`ALTER TABLE persist_records RENAME COLUMN value TO v`, "column persist_records.value is missing"},
		{`CREATE SCHEMA s; CREATE DOMAIN s.jsonb AS pg_catalog.jsonb;
			ALTER TABLE persist_records ALTER COLUMN value TYPE s.jsonb`, "column persist_records.value is s.jsonb, not jsonb"},
		{`DROP TABLE persist_history CASCADE`, "table persist_history is missing"},
		{`CREATE TEMP TABLE persist_records (LIKE persist_records)`, "persist_records is a temporary table"},
		// Begin writes persist_stores in the batch's transaction: a trigger
		// there could queue a deferred one that runs at COMMIT, after the proof.
		{`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
			CREATE TRIGGER t AFTER INSERT ON persist_stores FOR EACH STATEMENT EXECUTE FUNCTION f()`, "trigger t on persist_stores"},
		// The proof's own operators and functions, overloaded more exactly
		// in a schema on the search_path, or the path itself.
		{`CREATE FUNCTION public.zero(smallint, integer) RETURNS integer LANGUAGE sql AS 'SELECT 0';
			CREATE OPERATOR public.& (LEFTARG = smallint, RIGHTARG = integer, FUNCTION = public.zero);
			CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TRIGGER t BEFORE INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION f()`, "trigger t on persist_records"},
		{`CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE sql AS 'SELECT $1[1]';
			CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
			CREATE TRIGGER t BEFORE INSERT ON persist_events FOR EACH ROW EXECUTE FUNCTION f()`, "trigger t on persist_events"},
		{`SET LOCAL search_path = public, pg_catalog`, "the search_path puts public before pg_catalog"},
		// What persist_mark's INSERT into persist_history runs.
		{`CREATE FUNCTION g() RETURNS boolean LANGUAGE sql AS 'SELECT true';
			CREATE DOMAIN tok AS text CHECK (g()); ALTER TABLE persist_history ALTER COLUMN token TYPE tok`,
			"column persist_history.token is tok, not text"},
		{`CREATE FUNCTION g(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
			CREATE INDEX i ON persist_history (token) WHERE g(token)`, "index i on persist_history uses function g(text)"},
		{`CREATE FUNCTION g(double precision) RETURNS text LANGUAGE sql AS 'SELECT ''x''';
			CREATE CAST (double precision AS text) WITH FUNCTION g(double precision)`, "a cast from double precision to text"},
		{`CREATE TABLE p (txid bigint, token text) PARTITION BY LIST (token);
			ALTER TABLE p ATTACH PARTITION persist_history DEFAULT`, "persist_history is not a plain table"},
		// Columns the COPY does not name, and other tables' columns.
		{`CREATE DOMAIN d AS bigint; DROP TRIGGER persist_records_stamp ON persist_records;
			ALTER TABLE persist_records DROP CONSTRAINT persist_records_chg_stamped;
			ALTER TABLE persist_records ALTER COLUMN chg TYPE d`, "column persist_records.chg is d, not bigint"},
		// Another check beside Persist's own is code of another's.
		{`ALTER TABLE persist_events ADD CONSTRAINT x CHECK ((chg IS NOT NULL) AND (chg = txid_current()) AND (seq < 10))`,
			"constraint x on persist_events"},
		{`CREATE DOMAIN d AS integer DEFAULT 1; ALTER TABLE persist_events ADD COLUMN x d`, "column persist_events.x is of type d"},
		{`CREATE COLLATION k FROM "C"; DROP TRIGGER persist_records_stamp ON persist_records;
			ALTER TABLE persist_records ALTER COLUMN key TYPE text COLLATE k`,
			"column key of table persist_records on persist_records uses collation k"},
		{`ALTER TABLE persist_stores ALTER COLUMN name TYPE varchar`, "column persist_stores.name is character varying, not text"},
		// persist_mark as it was, made again (as code that ran and put it
		// back would), and any other catalog change this transaction made.
		{upgradeDDL("public")[3], "function persist_mark changed during the load"},
		{`CREATE TABLE z (); DROP TABLE z`, "this transaction changed the catalog"},
		{`CREATE FUNCTION g(double precision) RETURNS text LANGUAGE sql AS 'SELECT ''x''';
			CREATE CAST (double precision AS text) WITH FUNCTION g(double precision);
			DROP CAST (double precision AS text)`, "this transaction changed the catalog"},
		{`SET LOCAL client_encoding = 'LATIN1'`, "client_encoding is not UTF8"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, tc.change); err != nil {
				t.Fatal(err)
			}
			why, err := provenRows(ctx, tx.StmtContext(ctx, proof), mark)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(why, tc.want) {
				t.Errorf("proof: %q, want it to name %q", why, tc.want)
			}
		})
	}
}

// A trigger that changes a value fails the batch on both ways: the first
// batch, copied straight in, is read back row by row when the catalog
// shows the trigger, and the batches after it are staged and compared on
// the server.
func TestTriggerFailsBothWays(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	_, err := sqlDB(t, dsn).Exec(`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN NEW.value := jsonb_set(NEW.value, '{n}', to_jsonb(-(NEW.value->>'n')::int)); RETURN NEW; END $$;
		CREATE TRIGGER t BEFORE INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION f()`)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"direct", "staged"} {
		problems := putBatch(t, a, want, rec("c", string(rune('b'+i)), 1, `{"n":5}`))
		if len(problems) != 1 || !strings.Contains(problems[0], "value") {
			t.Errorf("batch %d: problems %q, want the value named", i+1, problems)
		}
	}
	if why, _ := a.direct.why.Load().(string); !strings.Contains(why, "trigger t on persist_records") {
		t.Errorf("the adapter stopped copying straight in because %q", why)
	}
}

// A row COPY did not write (here a trigger's doing, which the catalog
// shows too) is named missing, by the read-back row by row.
func TestDirectRowNotWritten(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	_, err := sqlDB(t, dsn).Exec(`CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.key = 'c' THEN RETURN NULL; END IF; RETURN NEW; END $$;
		CREATE TRIGGER t BEFORE INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION f()`)
	if err != nil {
		t.Fatal(err)
	}
	tx, problems := readBatch(t, a, rec("c", "b", 1, `1`), rec("c", "c", 1, `2`))
	if s := tx.directShort; s != "COPY wrote 1 records of 2" {
		t.Errorf("short: %q", s)
	}
	if want := []string{"c: " + adapters.ProblemMissing}; strings.Join(problems, "|") != strings.Join(want, "|") {
		t.Errorf("problems %q, want %q", problems, want)
	}
}

// A deferred trigger runs at COMMIT, after any read-back: one queued from
// a trigger on persist_stores, which Begin writes, changes the batch's rows
// there unless it is made to run before the batch is compared.
func TestDeferredTriggerRunsBeforeReadBack(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Fresh, rec("c", "a", 1, `1`))
	_, err := sqlDB(t, dsn).Exec(`CREATE TABLE side (x int);
		CREATE FUNCTION queue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO side VALUES (1); RETURN NULL; END $$;
		CREATE TRIGGER queue AFTER INSERT ON persist_stores FOR EACH STATEMENT EXECUTE FUNCTION queue();
		CREATE FUNCTION flip() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN UPDATE persist_records SET value = '-5' WHERE chg = txid_current(); RETURN NULL; END $$;
		CREATE CONSTRAINT TRIGGER flip AFTER INSERT ON side DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION flip()`)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"direct", "staged"} {
		problems := putBatch(t, a, want, rec("c", string(rune('b'+i)), 1, `5`))
		if len(problems) != 1 || !strings.Contains(problems[0], "value") {
			t.Errorf("batch %d: problems %q, want the value named", i+1, problems)
		}
	}
}

// putBatch puts items as new keys in a transaction of their own, checks
// that they went the way want says ("direct" or "staged"), reads them back
// and rolls back: it returns the problems the read-back named.
func putBatch(t *testing.T, a *Adapter, want string, items ...*record.Item) []string {
	t.Helper()
	tx, problems := readBatch(t, a, items...)
	defer tx.Rollback()
	if got := map[bool]string{true: "direct", false: "staged"}[tx.direct != nil]; got != want {
		t.Errorf("the batch went %s, want %s", got, want)
	}
	return problems
}

// readBatch begins a transaction, puts items as new keys and reads them
// back: it returns the transaction, rolled back when the test ends unless
// committed, and the problems the read-back named ("key: problem").
func readBatch(t *testing.T, a *Adapter, items ...*record.Item) (*writeTx, []string) {
	t.Helper()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if err := tx.Put(ctx, items, adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	var problems []string
	err = tx.ReadBack(ctx, items, func(it *record.Item, p string) error {
		problems = append(problems, it.Key+": "+p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx.(*writeTx), problems
}
