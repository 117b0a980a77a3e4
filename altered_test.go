package persist_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/testdb"
)

// A trigger that changes a write on its way in is no concurrent writer:
// Put and PutMany say so at once (ErrAltered, naming the record and what
// differs), write nothing, and do not spend their retries on a race that
// is not there.
func TestWriteAlteredByTrigger(t *testing.T) {
	audit := map[string][]string{
		"sqlite": {`CREATE TRIGGER audit AFTER INSERT ON persist_records BEGIN
			UPDATE persist_records SET value = json_set(value, '$.audited', json('true'))
			WHERE store = NEW.store AND collection = NEW.collection AND key = NEW.key; END`},
		"postgres": {`CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN NEW.value := NEW.value || '{"audited":true}'; RETURN NEW; END $$`,
			`CREATE TRIGGER audit BEFORE INSERT OR UPDATE ON persist_records FOR EACH ROW EXECUTE FUNCTION audit()`},
	}
	drop := map[string][]string{
		"sqlite": {`DROP TRIGGER audit`, `CREATE TRIGGER keep BEFORE UPDATE ON persist_records WHEN NEW.key = 'u0' BEGIN SELECT RAISE(IGNORE); END`},
		"postgres": {`DROP TRIGGER audit ON persist_records`, `CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
			`CREATE TRIGGER keep BEFORE UPDATE ON persist_records FOR EACH ROW WHEN (NEW.key = 'u0') EXECUTE FUNCTION keep()`},
	}
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t)
		s := open(t, loc+"#app")
		if _, err := s.Put(ctx, "users", "u0", map[string]any{"n": 0}); err != nil {
			t.Fatal(err)
		}
		driver, dsn := "postgres", loc
		if db.Name == "sqlite" {
			driver, dsn = "sqlite3", strings.TrimPrefix(loc, "sqlite:")
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		run := func(qs []string) {
			for _, q := range qs {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}
		run(audit[db.Name])
		_, err = s.Put(ctx, "users", "u1", map[string]any{"n": 1})
		if !errors.Is(err, persist.ErrAltered) || !strings.Contains(err.Error(), "users/u1") {
			t.Errorf("Put through the trigger: %v, want ErrAltered naming users/u1", err)
		}
		_, err = s.PutMany(ctx, []persist.Put{{Collection: "users", Key: "u2", Value: map[string]any{"n": 2}}})
		if !errors.Is(err, persist.ErrAltered) {
			t.Errorf("PutMany through the trigger: %v, want ErrAltered", err)
		}
		for _, k := range []string{"u1", "u2"} {
			if _, err := s.Get(ctx, "users", k); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("Get(%s) after the refused write: %v, want ErrNotFound", k, err)
			}
		}
		// A rule or trigger that drops an update leaves the old version
		// in place: no race either.
		run(drop[db.Name])
		_, err = s.Put(ctx, "users", "u0", map[string]any{"n": 9})
		if !errors.Is(err, persist.ErrAltered) || !strings.Contains(err.Error(), "the store kept version 1 in place of version 2") {
			t.Errorf("Put of an update the database drops: %v, want ErrAltered naming the versions", err)
		}
	})
}
