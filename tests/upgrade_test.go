package tests

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/cuitty/persist/internal/pgtest"
)

// A role that may only write the rows of a version 1 schema (made by
// another implementation: no persist_meta) cannot upgrade it: its load
// fails, saying who can and how; once the owner has run persist upgrade as
// the hint says, the same load goes through with no grant more, and the
// role's dumps have cursors that see hand edits.
func TestUpgradeHintForWriters(t *testing.T) {
	role := loginRole(t, "persist_w_")
	reader := loginRole(t, "persist_wr_") // both dropped after the database
	owner := pgtest.NewDatabase(t)
	db, err := sql.Open("postgres", owner)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v1, err := os.ReadFile("testdata/incremental.txtar")
	if err != nil {
		t.Fatal(err)
	}
	ddl := string(v1)[strings.Index(string(v1), "-- v1-postgres.sql --\n")+len("-- v1-postgres.sql --\n"):]
	ddl = ddl[:strings.Index(ddl, "\n-- ")]
	for _, q := range append(strings.Split(strings.TrimSpace(ddl), ";\n"),
		`GRANT USAGE ON SCHEMA public TO `+role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON persist_stores, persist_records, persist_events TO `+role) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, _ := url.Parse(owner)
	u.User = url.UserPassword(role, "pw-secret")
	asRole := u.String() + "#app"
	in := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(in, []byte(`{"kind":"record","collection":"c","key":"b","value":2}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, in, "persist-load", "-q", asRole)
	if r.code != 2 || !strings.Contains(r.stderr, "upgrading the Persist schema needs the owner of its tables") ||
		!strings.Contains(r.stderr, "hint: connect as the owner of the Persist tables and run persist upgrade NAME --location LOCATION once") {
		t.Fatalf("load as a role that may not upgrade: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "pw-secret") {
		t.Fatalf("the password shows: %s", r.stderr)
	}
	up := mustRun(t, "", "persist", "upgrade", "-v", "app", "--location", owner+"#app")
	if !strings.Contains(up.stderr, "schema version 1 → 3") {
		t.Fatalf("persist upgrade said: %s", up.stderr)
	}
	if r := run(t, in, "persist-load", "-q", asRole); r.code != 0 {
		t.Fatalf("load after the upgrade: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := db.Exec(`UPDATE persist_records SET value = '"hand"' WHERE key = 'a'`); err != nil {
		t.Fatal(err)
	}
	full := mustRun(t, "", "persist-dump", "-q", asRole)
	cur := full.stdout[strings.LastIndex(full.stdout, `"cursor":"`)+len(`"cursor":"`):]
	cur = cur[:strings.IndexByte(cur, '"')]
	if _, err := db.Exec(`UPDATE persist_records SET value = '"again"' WHERE key = 'b'`); err != nil {
		t.Fatal(err)
	}
	d := mustRun(t, "", "persist-dump", "-q", asRole, "--since", cur)
	if !strings.Contains(d.stdout, `"key":"b","version":2,`) || strings.Contains(d.stdout, `"key":"a"`) {
		t.Fatalf("delta as the role:\n%s", d.stdout)
	}
	// A reader granted the data tables alone, after the upgrade, dumps in
	// full; asked for a cursor, it is told the grant it lacks, and with it
	// has one.
	for _, q := range []string{`GRANT USAGE ON SCHEMA public TO ` + reader,
		`GRANT SELECT ON persist_stores, persist_records, persist_events TO ` + reader} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	u.User = url.UserPassword(reader, "pw-secret")
	asReader := u.String() + "#app"
	mustRun(t, "", "persist-dump", "-q", asReader, "-o", filepath.Join(t.TempDir(), "full.jsonl"))
	cursorFile := filepath.Join(t.TempDir(), "c")
	r = run(t, "", "persist-dump", "-q", asReader, "--cursor-file", cursorFile)
	grant := "GRANT SELECT ON persist_meta, persist_history TO " + reader
	if r.code != 2 || !strings.Contains(r.stderr, "hint: let the role read them, as the owner of the tables: "+grant+"\n") {
		t.Fatalf("a cursor for a reader without persist_meta: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := db.Exec(grant); err != nil { // the hint's statement, as it says
		t.Fatal(err)
	}
	mustRun(t, "", "persist-dump", "-q", asReader, "--cursor-file", cursorFile, "-o", filepath.Join(t.TempDir(), "full.jsonl"))
	if b, err := os.ReadFile(cursorFile); err != nil || !strings.HasPrefix(string(b), "c1.postgres.") {
		t.Fatalf("cursor file: %q, %v", b, err)
	}
}

// A role that may not read when the server started cannot tell one server
// from another: a comparison of a store with itself, the server named two
// ways, is refused as one that may be (diff and verify found it equal,
// exit 0), with
// the grant that lets it tell; once granted, it is refused as one store.
// Two databases of the server, whose oids differ, are compared as ever.
func TestSameStoreUnknownServer(t *testing.T) {
	role := loginRole(t, "persist_r_")
	var as [2]string
	for i := range as {
		owner := pgtest.NewDatabase(t)
		t.Setenv("PERSIST_URL", owner)
		mustRun(t, "", "persist", "put", "app", "c", "k", "1")
		db, err := sql.Open("postgres", owner)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{`REVOKE EXECUTE ON FUNCTION pg_catalog.pg_postmaster_start_time() FROM PUBLIC`,
			`GRANT USAGE ON SCHEMA public TO ` + role, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + role} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		u, _ := url.Parse(owner)
		u.User = url.UserPassword(role, "pw-secret")
		as[i] = u.String() + "#app"
	}
	other := strings.Replace(as[0], "127.0.0.1", "localhost", 1)
	if other == as[0] {
		t.Fatalf("no other spelling of %s", as[0])
	}
	grant := "GRANT EXECUTE ON FUNCTION pg_catalog.pg_postmaster_start_time() TO " + role
	for _, args := range [][]string{{"persist-diff", as[0], other}, {"persist", "verify", "app", "--source", as[0], "--target", other}} {
		r := run(t, "", args[0], args[1:]...)
		if r.code != 2 || !strings.Contains(r.stderr, `may be store "app" of one database, which their connections cannot tell`) ||
			!strings.Contains(r.stderr, "as a superuser, connected to database persist_t_") || !strings.Contains(r.stderr, ", "+grant+"\n") || strings.Contains(r.stderr, "pw-secret") {
			t.Fatalf("%s of one store named two ways, as a role that cannot tell: exit %d\n%s", args[0], r.code, r.stderr)
		}
	}
	if r := run(t, "", "persist-diff", "-q", as[0], as[1]); r.code == 2 { // two databases: compared
		t.Fatalf("two databases of one server, as a role that cannot tell servers apart: exit 2\n%s", r.stderr)
	}
	db, err := sql.Open("postgres", strings.Split(strings.Replace(as[0], role+":pw-secret", "postgres", 1), "#")[0])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(grant); err != nil { // the hint's statement, as it says
		t.Fatal(err)
	}
	if r := run(t, "", "persist-diff", as[0], other); r.code != 2 || !strings.Contains(r.stderr, `are store "app" of one database`) {
		t.Fatalf("after the grant: exit %d\n%s", r.code, r.stderr)
	}
}

// A role without the rights a tool needs is told the grant that gives
// them, naming itself; followed as they come, the hints let it read the
// store, load a dump (its cursor noted) and replace a store.
func TestRightsHintsFollowed(t *testing.T) {
	role := loginRole(t, "persist_g_")
	owner := pgtest.NewDatabase(t)
	db, err := sql.Open("postgres", owner)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dump := filepath.Join(t.TempDir(), "app.jsonl")
	mustRun(t, "../internal/record/testdata/vectors/stream-small.jsonl", "persist-load", "-q", owner+"#app")
	mustRun(t, "", "persist-dump", "-q", owner+"#app", "-o", dump)
	if _, err := db.Exec(`GRANT USAGE ON SCHEMA public TO ` + role); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(owner)
	u.User = url.UserPassword(role, "pw-secret")
	asRole := u.String()
	for _, args := range [][]string{{"persist-sum", asRole + "#app"}, {"persist-load", asRole + "#copy", "-i", dump},
		{"persist-load", "--mode", "replace", asRole + "#copy", "-i", dump}} {
		followGrants(t, db, role, args, true)
	}
	mustRun(t, "", "persist-diff", "-q", owner+"#app", owner+"#copy")
}

// followGrants runs args until they succeed, running as db each GRANT …
// TO role the hint gives on the way, as it is written (at most four);
// with needed, it must take one.
func followGrants(t *testing.T, db *sql.DB, role string, args []string, needed bool) {
	t.Helper()
	for grants := 0; ; grants++ {
		r := run(t, "", args[0], args[1:]...)
		if r.code == 0 && grants == 0 && needed {
			t.Fatalf("%v: done without a grant", args)
		}
		if r.code == 0 {
			return
		}
		_, h, _ := strings.Cut(r.stderr, "hint: as ")
		h, _, _ = strings.Cut(h, "\n")
		_, grant, ok := strings.Cut(h, ": GRANT ")
		grant, _, _ = strings.Cut("GRANT "+grant, "; or ")
		if !ok || grants == 4 || !strings.HasSuffix(grant, " TO "+role) {
			t.Fatalf("%s, after %d grants: exit %d\n%s", args[0], grants, r.code, r.stderr)
		}
		if _, err := db.Exec(grant); err != nil { // the hint's statement, as it says
			t.Fatalf("%s: %v", grant, err)
		}
	}
}

// A role that may not use the schema the search_path names is told so, and
// the grant that mends it, where it used to find no store (a read) or no
// schema (a load), or to make Persist's tables in the next schema of the
// path; one that may not create in it is told the grant before CREATE
// fails. Followed, the hints take it to the read and the load.
func TestSchemaRightsHintsFollowed(t *testing.T) {
	role := loginRole(t, "persist_s_")
	owner := pgtest.NewDatabase(t)
	db, err := sql.Open("postgres", owner)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`CREATE SCHEMA app`, `CREATE SCHEMA fresh`, `REVOKE ALL ON SCHEMA public FROM PUBLIC`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	in := func(who, schema string) string {
		u, _ := url.Parse(owner)
		if who != "" {
			u.User = url.UserPassword(who, "pw-secret")
		}
		q := u.Query()
		q.Set("options", "-c search_path="+schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	stream := "../internal/record/testdata/vectors/stream-small.jsonl"
	mustRun(t, stream, "persist-load", "-q", in("", "app,public")+"#app")

	r := run(t, "", "persist-dump", in(role, "app,public")+"#app")
	if r.code != 2 || !strings.Contains(r.stderr, "may not use schema app, which holds Persist's tables") {
		t.Fatalf("a read of a schema out of reach: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, stream, "persist-load", "-q", in(role, "app,public")+"#copy")
	if r.code != 2 || !strings.Contains(r.stderr, "may not use schema app, which holds Persist's tables") {
		t.Fatalf("a load beside a schema out of reach: exit %d\n%s", r.code, r.stderr)
	}
	followGrants(t, db, role, []string{"persist-sum", in(role, "app,public") + "#app"}, true)

	r = run(t, stream, "persist-load", "-q", in(role, "fresh")+"#app")
	if r.code != 2 || !strings.Contains(r.stderr, "no schema to make Persist's tables in: role "+role+" may not use schema fresh") {
		t.Fatalf("a load into a schema out of reach: exit %d\n%s", r.code, r.stderr)
	}
	followGrants(t, db, role, []string{"persist-load", in(role, "fresh") + "#app", "-i", stream}, true)
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'persist%'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("tables made in public: %d, %v", tables, err)
	}
	if _, err := db.Exec(`GRANT USAGE ON SCHEMA public TO ` + role); err != nil {
		t.Fatal(err)
	}
	r = run(t, stream, "persist-load", "-q", in(role, "public")+"#app")
	if r.code != 2 || !strings.Contains(r.stderr, "may not make tables in schema public, where Persist's go (it lacks CREATE on it)") {
		t.Fatalf("a load into a schema without CREATE: exit %d\n%s", r.code, r.stderr)
	}
	followGrants(t, db, role, []string{"persist-load", in(role, "public") + "#app", "-i", stream}, true)
	mustRun(t, "", "persist-diff", "-q", in("", "app")+"#app", in("", "public")+"#app")
	mustRun(t, "", "persist-diff", "-q", in("", "fresh")+"#app", in("", "public")+"#app")
}

// loginRole makes a role named prefix and a random suffix, with LOGIN and
// the password pw-secret, dropped when the test ends (after its
// databases).
func loginRole(t *testing.T, prefix string) string {
	t.Helper()
	admin, err := sql.Open("postgres", pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	role := prefix + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE ROLE ` + role + ` LOGIN PASSWORD 'pw-secret'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP ROLE IF EXISTS ` + role)
		admin.Close()
	})
	return role
}

// A load refused over one of Persist's triggers changed by hand names the
// persist upgrade to run for the database it loads into, by a store the
// database holds (the one loaded into does not exist yet); run as it is
// written, it lets the same load through.
func TestRefusedLoadNamesTheUpgrade(t *testing.T) {
	owner := pgtest.NewDatabase(t)
	stream := "../internal/record/testdata/vectors/stream-small.jsonl"
	mustRun(t, stream, "persist-load", "-q", owner+"#app")
	db, err := sql.Open("postgres", owner)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`ALTER FUNCTION persist_removed() SET search_path = public`); err != nil {
		t.Fatal(err)
	}
	r := run(t, stream, "persist-load", "-q", owner+"#copy")
	_, cmd, ok := strings.Cut(r.stderr, "hint: here: ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	if r.code != 2 || !ok || !strings.HasPrefix(cmd, "persist upgrade app --location ") {
		t.Fatalf("load over a changed trigger: exit %d\n%s", r.code, r.stderr)
	}
	bash := exec.Command("bash", "-c", cmd) // the hint's command, as it is written
	bash.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := bash.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	mustRun(t, stream, "persist-load", "-q", owner+"#copy")
}
