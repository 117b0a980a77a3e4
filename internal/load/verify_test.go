package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/testdb"
)

// alteration is a change a trigger makes to a value as it is written, which
// the read-back must catch.
var alterations = []struct {
	name     string
	sent, to string
}{
	{"sign", `{"n":5}`, `{"n":-5}`},
	{"array boundary", `{"a":[[1],2]}`, `{"a":[[1,2]]}`},
	{"string", `{"s":"abc"}`, `{"s":"abd"}`},
	{"digit", `{"d":1.25}`, `{"d":1.26}`},
}

// alter installs a trigger on db (the table of kind: records or events)
// that writes to instead of sent.
func alter(t *testing.T, kind, target, sent, to string) {
	t.Helper()
	table, col, key := "persist_records", "value", "collection = NEW.collection AND key = NEW.key"
	if kind == "events" {
		table, col, key = "persist_events", "data", "stream = NEW.stream AND seq = NEW.seq"
	}
	if strings.HasPrefix(target, "postgres") {
		db, err := sql.Open("postgres", target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.Exec(fmt.Sprintf(`CREATE FUNCTION persist_test_alter() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.%[1]s = %[2]s::jsonb THEN NEW.%[1]s := %[3]s::jsonb; END IF;
				RETURN NEW;
			END $$;
			CREATE TRIGGER persist_test_alter BEFORE INSERT OR UPDATE ON %[4]s
				FOR EACH ROW EXECUTE FUNCTION persist_test_alter()`, col, quoteSQL(sent), quoteSQL(to), table))
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite3", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, when := range []string{"INSERT", "UPDATE"} {
		_, err = db.Exec(fmt.Sprintf(`CREATE TRIGGER persist_test_alter_%[1]s AFTER %[1]s ON %[2]s
			WHEN NEW.%[3]s = %[4]s BEGIN
				UPDATE %[2]s SET %[3]s = %[5]s WHERE store = NEW.store AND %[6]s;
			END`, when, table, col, quoteSQL(sent), quoteSQL(to), key))
		if err != nil {
			t.Fatal(err)
		}
	}
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// A trigger that changes a value on its way into the store fails the
// batch, whatever the change (a sign, where an array ends, a letter, a
// digit), on the way a first load takes (fresh keys) and on the way of a
// merge (keys the store holds), for records and events, in every adapter:
// the trigger is named, and nothing of the batch is committed. (The
// read-back that would catch the change is held to it in the adapters'
// conformance suite; a load refuses the trigger before it.)
func TestVerifyCatchesTriggers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		for _, alt := range alterations {
			for _, path := range []string{"fresh", "merge"} {
				for _, kind := range []string{"records", "events"} {
					t.Run(alt.name+"/"+path+"/"+kind, func(t *testing.T) {
						a, target := db.Open(t)
						line, older := rec("c", "k", 2, alt.sent), rec("c", "k", 1, `{"old":true}`)
						if kind == "events" {
							line, older = ev("s", 2, "t", alt.sent), ev("s", 1, "t", `{"old":true}`)
						}
						// The schema first, and for a merge the key (or stream) too.
						before := []string{rec("other", "x", 1, `1`)}
						if path == "merge" {
							before = append(before, older)
						}
						mustLoad(t, a, Options{}, before...)
						alter(t, kind, target, alt.sent, alt.to)
						st, err := Load(context.Background(), a, testStore, reader(t, line), Options{Retries: 1})
						if !errors.Is(err, ErrVerify) || !errors.Is(err, adapters.ErrForeignCode) {
							t.Fatalf("load = %v (stats %+v), want a failed verification for the trigger", err, st)
						}
						if !strings.Contains(err.Error(), "persist_test_alter") {
							t.Errorf("the error does not name the trigger: %v", err)
						}
						if got, want := dump(t, a), sorted(t, before...); !slices.Equal(got, want) {
							t.Errorf("store\n got %q\nwant %q", got, want)
						}
					})
				}
			}
		}
	})
}

// Two identical loads at once into the same store report, together, what
// was written once: a batch whose rows the other load wrote first (with the
// same content) counts them unchanged, never written. Repeated, so that the
// loads meet in every phase of their batches.
func TestConcurrentLoadsCountOnce(t *testing.T) {
	const n = 20000
	data, _ := genStream(n, 1, "same")
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		for round := range 3 {
			a, _ := db.Open(t)
			var wg sync.WaitGroup
			stats := make([]Stats, 2)
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() {
					stats[i], errs[i] = Load(context.Background(), a, testStore, streamOf(t, data), Options{BatchSize: 1000})
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: load %d: %v", round, i, err)
				}
			}
			written := stats[0].Written + stats[1].Written
			events := stats[0].Events + stats[1].Events
			if written != n || events != n/10 {
				t.Errorf("round %d: written %d + %d = %d records, %d + %d = %d events; want %d and %d",
					round, stats[0].Written, stats[1].Written, written, stats[0].Events, stats[1].Events, events, n, n/10)
			}
			for i, st := range stats {
				if st.Written+st.Unchanged != n || st.Events+st.EventsUnchanged != n/10 {
					t.Errorf("round %d: load %d counts %d records and %d events, not %d and %d: %+v",
						round, i, st.Written+st.Unchanged, st.Events+st.EventsUnchanged, n, n/10, st)
				}
			}
			t.Logf("round %d: %+v / %+v", round, stats[0], stats[1])
		}
	})
}

// exec runs statements on the database at target.
func exec(t *testing.T, target, statements string) {
	t.Helper()
	driver := "sqlite3"
	if strings.HasPrefix(target, "postgres") {
		driver = "postgres"
	}
	db, err := sql.Open(driver, target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(statements); err != nil {
		t.Fatal(err)
	}
}

// A trigger that deletes a row of an earlier batch as a later one goes in
// would pass every batch's read-back: the load refuses to write with any
// trigger Persist did not make, names it, and commits nothing of the
// batch it found it in; once the hint's statement drops it, the same load
// lands every line. A trigger that is disabled (PostgreSQL) runs on
// nothing and is let be.
func TestLoadRefusesForeignTriggers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a, target := db.Open(t)
		mustLoad(t, a, Options{}, rec("other", "x", 1, `1`))
		lines := []string{rec("c", "k1", 1, `1`), rec("c", "k2", 1, `2`)}
		pg := strings.HasPrefix(target, "postgres")
		if pg {
			exec(t, target, `CREATE FUNCTION persist_test_evil() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					IF NEW.key = 'k2' THEN DELETE FROM persist_records WHERE store = NEW.store AND key = 'k1'; END IF;
					RETURN NEW;
				END $$;
				CREATE TRIGGER "evil one" AFTER INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION persist_test_evil()`)
		} else {
			exec(t, target, `CREATE TRIGGER "evil one" AFTER INSERT ON persist_records WHEN NEW.key = 'k2'
				BEGIN DELETE FROM persist_records WHERE store = NEW.store AND key = 'k1'; END`)
		}
		for _, opt := range []Options{{BatchSize: 1}, {BatchSize: 1, Atomic: true}} {
			st, err := Load(context.Background(), a, testStore, reader(t, lines...), opt)
			if !errors.Is(err, ErrVerify) || !errors.Is(err, adapters.ErrForeignCode) || !strings.Contains(err.Error(), `"evil one"`) {
				t.Fatalf("load (%+v) with a trigger that deletes an earlier batch's row: %v (stats %+v), want the trigger refused by name", opt, err, st)
			}
		}
		if got, want := dump(t, a), sorted(t, rec("other", "x", 1, `1`)); !slices.Equal(got, want) {
			t.Errorf("store after the refused loads\n got %q\nwant %q", got, want)
		}
		_, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{BatchSize: 1})
		h := strings.Join(hint.All(err), " ")
		// The hint's own statement, as it gives it; on SQLite the command
		// that shows the trigger first shows it.
		drop := regexp.MustCompile(`DROP TRIGGER "evil one"`).FindString(h)
		if !pg && !strings.Contains(h, "'.schema persist_records' shows it first") {
			t.Errorf("hints %q do not show the trigger before it is dropped", h)
		}
		if pg {
			drop = regexp.MustCompile(`ALTER TABLE \S+ DISABLE TRIGGER "evil one"`).FindString(h)
		}
		if drop == "" {
			t.Fatalf("hints %q give no statement that takes the trigger away", h)
		}
		exec(t, target, drop)
		mustLoad(t, a, Options{BatchSize: 1}, lines...)
		if got, want := dump(t, a), sorted(t, rec("other", "x", 1, `1`), lines[0], lines[1]); !slices.Equal(got, want) {
			t.Errorf("store after the trigger was taken away\n got %q\nwant %q", got, want)
		}

		// A harmless trigger of another's (an audit log): a load that
		// writes nothing (every line unchanged) is refused too, its
		// transaction having run it; one write of the Go API's (Apply,
		// OwnRowsOnly, as a dual-write's secondary takes it) checks its
		// own rows only.
		if pg {
			exec(t, target, `CREATE TABLE audit (k text);
				CREATE FUNCTION persist_test_audit() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN INSERT INTO audit VALUES (NEW.key); RETURN NEW; END $$;
				CREATE TRIGGER audit AFTER INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION persist_test_audit()`)
		} else {
			exec(t, target, `CREATE TABLE audit (k TEXT);
				CREATE TRIGGER audit AFTER INSERT ON persist_records BEGIN INSERT INTO audit VALUES (NEW.key); END`)
		}
		if _, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{}); !errors.Is(err, adapters.ErrForeignCode) {
			t.Fatalf("a load of lines the store holds, with an audit trigger: %v, want ErrForeignCode", err)
		}
		if _, err := Apply(context.Background(), a, testStore, parseItems(t, rec("c", "k3", 1, `3`)), Options{OwnRowsOnly: true}); err != nil {
			t.Fatalf("Apply of one write with an audit trigger: %v", err)
		}
		// A backfill's batch (Apply without OwnRowsOnly) is a load's.
		if _, err := Apply(context.Background(), a, testStore, parseItems(t, rec("c", "k4", 1, `4`)), Options{}); !errors.Is(err, adapters.ErrForeignCode) {
			t.Fatalf("Apply of a backfill's batch with an audit trigger: %v, want ErrForeignCode", err)
		}
	})
}

// On PostgreSQL, code runs as a row goes in by more ways than a trigger
// of a name of its own: Persist's trigger's name on another function, a
// rule, a column default, generation expression, check or exclusion
// constraint that calls a function of its own (through an operator or a
// domain too, or made in pg_catalog), a foreign key of another table that
// cascades into it, a trigger on persist_stores (which every batch's
// transaction writes, even one whose lines the store holds). Each is refused by name, with the
// statement that takes it away, which, followed, lets the load land; a
// trigger that fires only for replication's sessions is named with the
// ENABLE that puts it back as it was.
func TestLoadRefusesCodeOfAnothers(t *testing.T) {
	const upgrade = "persist upgrade" // the hint's statement is persist upgrade, run as Upgrade
	const evil = `CREATE FUNCTION persist_test_evil() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.key = 'k2' THEN DELETE FROM persist_records WHERE store = NEW.store AND key = 'k1'; END IF;
				RETURN NEW;
			END $$;
		CREATE FUNCTION persist_test_stores() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN DELETE FROM persist_records WHERE key = 'k1'; RETURN NEW; END $$;
		CREATE FUNCTION persist_test_zero(k text) RETURNS boolean LANGUAGE plpgsql AS $$
			BEGIN
				IF k = 'k2' THEN DELETE FROM persist_records WHERE key = 'k1'; END IF;
				RETURN true;
			END $$;
		CREATE FUNCTION persist_test_op(a text, b text) RETURNS boolean LANGUAGE sql AS $$ SELECT persist_test_zero(a) $$;
		CREATE OPERATOR #@# (FUNCTION = persist_test_op, LEFTARG = text, RIGHTARG = text);
		CREATE DOMAIN persist_test_d AS text CHECK (persist_test_zero(VALUE));
		CREATE FUNCTION persist_test_len(k text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT length(k) $$;
		CREATE FUNCTION persist_test_diff(a text, b text) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$ SELECT 0::float8 $$;
		CREATE TYPE persist_test_mood AS ENUM ('ok');
		ALTER TABLE persist_records ADD COLUMN persist_test_m persist_test_mood;`
	for _, c := range []struct {
		name, code, says, undo string
		first                  bool // the lines are loaded before the code is made
	}{
		{"Persist's trigger's name", `CREATE OR REPLACE TRIGGER persist_records_mark AFTER INSERT ON persist_records
			FOR EACH ROW EXECUTE FUNCTION persist_test_evil(); ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_mark`,
			"trigger persist_records_mark on public.persist_records is one of Persist's by name", upgrade, false},
		{"Persist's function's text", `CREATE OR REPLACE FUNCTION persist_mark() RETURNS trigger LANGUAGE plpgsql
				SECURITY DEFINER SET search_path = public, pg_temp AS $$
				BEGIN
					IF pg_trigger_depth() = 1 THEN DELETE FROM persist_records WHERE key = 'k1'; END IF;
					RETURN NULL;
				END $$`,
			"trigger persist_events_mark on public.persist_events is one of Persist's by name", upgrade, false},
		{"Persist's function's search_path", `CREATE SCHEMA persist_test_s; CREATE TABLE persist_test_s.persist_removals (store text, chg bigint);
			ALTER FUNCTION persist_removed() SET search_path = persist_test_s, public`,
			"trigger persist_events_removed on public.persist_events is one of Persist's by name", upgrade, true},
		{"Persist's trigger with a condition", `CREATE OR REPLACE TRIGGER persist_records_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
				ON persist_records FOR EACH STATEMENT WHEN (persist_test_len('k2') > 0) EXECUTE FUNCTION persist_mark();
			ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_mark`,
			"trigger persist_records_mark on public.persist_records is one of Persist's by name", upgrade, false},
		{"Persist's stamp with a condition of another's", `DROP TRIGGER persist_records_stamp ON persist_records;
			CREATE TRIGGER persist_records_stamp BEFORE UPDATE ON persist_records FOR EACH ROW
				WHEN (persist_test_len(NEW.key) > 0 AND NEW.chg IS DISTINCT FROM txid_current()) EXECUTE FUNCTION persist_records_stamp();
			ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp`,
			"trigger persist_records_stamp on public.persist_records is one of Persist's by name", upgrade, false},
		{"Persist's stamp with a condition of its own", `DROP TRIGGER persist_records_stamp ON persist_records;
			CREATE TRIGGER persist_records_stamp BEFORE UPDATE ON persist_records FOR EACH ROW
				WHEN (pg_catalog.current_setting('persist.writer', true) = 'never') EXECUTE FUNCTION persist_records_stamp();
			ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp`,
			"trigger persist_records_stamp on public.persist_records is one of Persist's by name", upgrade, false},
		{"Persist's trigger on other events", `DROP TRIGGER persist_records_stamp ON persist_records;
			CREATE TRIGGER persist_records_stamp BEFORE INSERT OR UPDATE ON persist_records FOR EACH ROW EXECUTE FUNCTION persist_records_stamp();
			ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp`,
			"trigger persist_records_stamp on public.persist_records is one of Persist's by name", upgrade, false},
		{"rule", `CREATE RULE persist_test_rule AS ON INSERT TO persist_records WHERE NEW.key = 'k2'
			DO ALSO DELETE FROM persist_records WHERE key = 'k1'`,
			"rule persist_test_rule on public.persist_records", `DROP RULE persist_test_rule ON public.persist_records`, false},
		{"default", `ALTER TABLE persist_records ADD COLUMN extra boolean DEFAULT persist_test_zero('k2')`,
			"the default of public.persist_records.extra uses function persist_test_zero(text)",
			`ALTER TABLE public.persist_records ALTER COLUMN extra DROP DEFAULT`, false},
		{"check", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_check CHECK (persist_test_zero(key)) NOT VALID`,
			"constraint persist_test_check on public.persist_records uses function persist_test_zero(text)",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_check`, false},
		{"check through an operator", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_opc CHECK (key #@# 'x') NOT VALID`,
			"constraint persist_test_opc on public.persist_records uses operator #@#(text,text)",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_opc`, false},
		{"check through a domain", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_dom CHECK ((key::persist_test_d) IS NOT NULL) NOT VALID`,
			"constraint persist_test_dom on public.persist_records uses type persist_test_d",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_dom`, false},
		{"a function made in pg_catalog", `CREATE FUNCTION pg_catalog.persist_test_cat(k text) RETURNS boolean LANGUAGE plpgsql SET search_path = public AS $$
				BEGIN IF k = 'k2' THEN DELETE FROM persist_records WHERE key = 'k1'; END IF; RETURN true; END $$;
			ALTER TABLE persist_records ADD CONSTRAINT persist_test_cat CHECK (pg_catalog.persist_test_cat(key)) NOT VALID`,
			"constraint persist_test_cat on public.persist_records uses function",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_cat`, false},
		{"generated column", `ALTER TABLE persist_records ADD COLUMN persist_test_g integer GENERATED ALWAYS AS (persist_test_len(key)) STORED`,
			"the generation expression of public.persist_records.persist_test_g uses function persist_test_len(text)",
			`ALTER TABLE public.persist_records ALTER COLUMN persist_test_g DROP EXPRESSION`, false},
		{"exclusion constraint", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_ex EXCLUDE USING btree (persist_test_len(key) WITH =) WHERE (false)`,
			"persist_test_ex on public.persist_records uses function persist_test_len(text)",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_ex`, false},
		{"foreign key that cascades", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_ver UNIQUE (store, collection, key, version);
			CREATE TABLE audit_x (store text COLLATE "C", collection text COLLATE "C", key text COLLATE "C", version bigint,
				CONSTRAINT persist_test_fk FOREIGN KEY (store, collection, key, version)
				REFERENCES persist_records (store, collection, key, version) ON UPDATE CASCADE ON DELETE CASCADE);
			CREATE TRIGGER persist_test_x AFTER UPDATE ON audit_x FOR EACH ROW EXECUTE FUNCTION persist_test_stores()`,
			"foreign key persist_test_fk on public.audit_x, which cascades changes of public.persist_records into its table",
			`ALTER TABLE public.audit_x DROP CONSTRAINT persist_test_fk`, false},
		{"a column of a type with code", `CREATE TYPE persist_test_r AS RANGE (subtype = text, subtype_diff = persist_test_diff);
			ALTER TABLE persist_records ADD COLUMN persist_test_c persist_test_r`,
			"column public.persist_records.persist_test_c uses type persist_test_r",
			`ALTER TABLE public.persist_records DROP COLUMN persist_test_c`, false},
		{"a check that runs SQL given as text", `ALTER TABLE persist_records ADD CONSTRAINT persist_test_xml
				CHECK (query_to_xml('SELECT persist_test_zero(' || quote_literal(key) || ')', false, false, '') IS NOT NULL) NOT VALID`,
			"constraint persist_test_xml on public.persist_records uses function query_to_xml(text,boolean,boolean,text)",
			`ALTER TABLE public.persist_records DROP CONSTRAINT persist_test_xml`, false},
		{"replica trigger", `CREATE TRIGGER r AFTER INSERT ON persist_records FOR EACH ROW EXECUTE FUNCTION persist_test_evil();
			ALTER TABLE persist_records ENABLE REPLICA TRIGGER r`,
			"trigger r on public.persist_records", `ALTER TABLE public.persist_records DISABLE TRIGGER r`, false},
		{"trigger on persist_stores", `CREATE TRIGGER s BEFORE INSERT ON persist_stores FOR EACH ROW EXECUTE FUNCTION persist_test_stores()`,
			"trigger s on public.persist_stores", `DROP TRIGGER s ON public.persist_stores`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, target := testdb.All[1].Open(t)
			mustLoad(t, a, Options{}, rec("other", "x", 1, `1`))
			lines := []string{rec("c", "k1", 1, `1`), rec("c", "k2", 1, `2`)}
			if c.first {
				mustLoad(t, a, Options{}, lines...)
			}
			exec(t, target, evil+c.code)
			_, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{BatchSize: 1})
			if !errors.Is(err, adapters.ErrForeignCode) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("load: %v, want ErrForeignCode saying %q", err, c.says)
			}
			h := strings.Join(hint.All(err), " ")
			if c.undo != upgrade && !strings.Contains(h, c.undo) {
				t.Fatalf("hints %q do not give %q", h, c.undo)
			}
			if c.name == "replica trigger" && !strings.Contains(h, "ENABLE REPLICA TRIGGER r after it") {
				t.Errorf("hints %q do not say how to put the trigger back as it was", h)
			}
			if c.undo == upgrade {
				if !strings.Contains(h, "persist upgrade NAME --location LOCATION") {
					t.Fatalf("hints %q do not give persist upgrade", h)
				}
				if _, err := a.Upgrade(context.Background()); err != nil {
					t.Fatalf("persist upgrade, as the hint says: %v", err)
				}
			} else {
				exec(t, target, c.undo)
			}
			mustLoad(t, a, Options{BatchSize: 1}, lines...)
			if got, want := dump(t, a), sorted(t, rec("other", "x", 1, `1`), lines[0], lines[1]); !slices.Equal(got, want) {
				t.Errorf("store after the hint\n got %q\nwant %q", got, want)
			}
		})
	}
}
