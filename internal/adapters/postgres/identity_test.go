package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

func identityOf(t *testing.T, dsn string) string {
	t.Helper()
	a := openAt(t, dsn, Options{})
	id, err := a.Identity(context.Background())
	if err != nil {
		t.Fatalf("Identity of %s: %v", dsn, err)
	}
	return id
}

// The identity names the schema Persist's tables are found in, which
// need not be the search_path's first: an empty schema before it (one
// named after the role, before public) changes nothing. Two schemas that
// each hold a store are two; a search_path naming no schema that exists
// has no identity, and a write there says why.
func TestIdentitySearchPath(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "k", 1, "1"))
	db := sqlDB(t, dsn)
	mustExec(t, db, `CREATE SCHEMA empty1`)
	mustExec(t, db, `CREATE SCHEMA s1`)
	mustExec(t, db, `CREATE SCHEMA s2`)

	public := identityOf(t, dsn)
	if got := identityOf(t, withPath(dsn, "empty1,public")); got != public {
		t.Errorf("tables in public found through an empty schema before it: %q, want %q", got, public)
	}
	for _, s := range []string{"s1", "s2"} {
		put(t, openAt(t, withPath(dsn, s), Options{}), "app", adapters.Guarded, rec("c", "k", 1, "1"))
	}
	s1, s2 := identityOf(t, withPath(dsn, "empty1,s1")), identityOf(t, withPath(dsn, "empty1,s2"))
	if s1 == s2 || s1 == public {
		t.Errorf("stores in schemas s1, s2 and public: identities %q, %q, %q; want three", s1, s2, public)
	}
	if got := identityOf(t, withPath(dsn, "nosuch")); got != "" {
		t.Errorf("a search_path naming no schema: identity %q, want none", got)
	}
	tx, err := openAt(t, withPath(dsn, "nosuch"), Options{}).Begin(context.Background(), "app")
	if err == nil {
		tx.Rollback()
		t.Fatal("Begin with no schema to make the tables in: no error")
	}
	if !strings.Contains(err.Error(), "no schema to make Persist's tables in: the search_path (nosuch) names none that exists") || len(hint.All(err)) == 0 {
		t.Errorf("Begin with no schema: %v (hints %q)", err, hint.All(err))
	}
	if errors.Is(err, adapters.ErrNoStore) {
		t.Errorf("Begin with no schema: %v, taken for a missing store", err)
	}
}

// A repair through a search_path whose first schema is empty leaves
// nothing there: what it makes goes beside the tables, in public, and the
// store works on after it, deletes and deltas included.
func TestRepairBesideTheTables(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	db := sqlDB(t, dsn)
	mustExec(t, db, `CREATE SCHEMA empty1`)
	mustExec(t, db, `ALTER TABLE persist_records DISABLE TRIGGER ALL`)
	mustExec(t, db, `ALTER TABLE persist_records ENABLE TRIGGER ALL`)
	b := openAt(t, withPath(dsn, "empty1,public"), Options{})
	if u, err := b.Upgrade(context.Background()); err != nil || !u.Repaired {
		t.Fatalf("Upgrade through empty1 = %+v, %v; want a repair", u, err)
	}
	var made int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'empty1'::regnamespace)
		+ (SELECT count(*) FROM pg_proc WHERE pronamespace = 'empty1'::regnamespace)`).Scan(&made); err != nil || made != 0 {
		t.Errorf("the repair made %d objects in empty1 (%v), want none", made, err)
	}
	c := cursorOf(t, b, "app")
	put(t, b, "app", adapters.Guarded, rec("c", "b", 1, "2"))
	if got := dump(t, b, "app", adapters.Filter{Since: c}); !strings.Contains(got, `"key":"b"`) {
		t.Errorf("delta after the repair:\n%s", got)
	}
}

// A role that may not read when the server started (EXECUTE revoked from
// PUBLIC, as a hardened server may) gets no identity, and no error: its
// checks are skipped, not failed, and a database's oid alone never makes
// two servers' first databases one. Its dumps work.
func TestIdentityWithoutStartTime(t *testing.T) {
	role := newRole(t)
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "k", 1, "1"))
	db := sqlDB(t, dsn)
	mustExec(t, db, `REVOKE EXECUTE ON FUNCTION pg_catalog.pg_postmaster_start_time() FROM PUBLIC`)
	mustExec(t, db, `GRANT USAGE ON SCHEMA public TO `+role)
	mustExec(t, db, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO `+role)
	grant := "GRANT EXECUTE ON FUNCTION pg_catalog.pg_postmaster_start_time() TO " + role
	id := identityOf(t, asRole(t, dsn, role))
	if r, why := adapters.Relate(id+"\x00app", id+"\x00app"); r != adapters.Unknown || !strings.Contains(why, "as a superuser, connected to database persist_t_") || !strings.HasSuffix(why, ", "+grant) {
		t.Errorf("identity without the server's start: %q (%v, %q), want it unknown, with the grant that lets it be known", id, r, why)
	}
	// Its snapshots, which note the start to explain a lost connection,
	// read as any other role's: a reader needs no more than SELECT.
	if got := dump(t, openAt(t, asRole(t, dsn, role), Options{}), "app", adapters.Filter{}); !strings.Contains(got, `"key":"k"`) {
		t.Errorf("dump as a role without the server's start:\n%s", got)
	}
	if id := identityOf(t, dsn); id == "" {
		t.Errorf("the superuser's identity is empty")
	}
	// The hint's grant, as it says, makes the role's identity the
	// superuser's: one database.
	mustExec(t, db, grant)
	if got, want := identityOf(t, asRole(t, dsn, role)), identityOf(t, dsn); got != want {
		t.Errorf("after the grant: identity %q, the superuser's %q", got, want)
	}
}
