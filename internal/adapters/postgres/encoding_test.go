package postgres

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/pgtest"
)

// A database of another encoding than UTF8 is refused before anything is
// made in it, with the statement that makes one Persist can use; made as
// the hint says, it takes the store.
func TestNotUTF8Database(t *testing.T) {
	admin := sqlDB(t, pgtest.AdminURL(t))
	dsn := pgtest.NewDatabase(t)
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	mustExec(t, admin, `DROP DATABASE `+name)
	mustExec(t, admin, `CREATE DATABASE `+name+` ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`)
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + `_utf8 WITH (FORCE)`) })
	_, err := openAt(t, dsn, Options{}).Begin(ctx, "app")
	want := "CREATE DATABASE " + name + "_utf8 ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0"
	h := strings.Join(hint.All(err), " ")
	if err == nil || !strings.Contains(err.Error(), "Persist needs a UTF8 database") || !strings.HasSuffix(h, want) {
		t.Fatalf("a SQL_ASCII database: %v (hints %q), want the refusal with %q", err, h, want)
	}
	var made bool
	if err := sqlDB(t, dsn).QueryRow(`SELECT to_regclass('persist_stores') IS NOT NULL`).Scan(&made); err != nil || made {
		t.Fatalf("tables made in the refused database: %v, %v", made, err)
	}
	mustExec(t, admin, want) // the hint's statement, as it says
	u.Path += "_utf8"
	put(t, openAt(t, u.String(), Options{}), "app", adapters.Fresh, rec("c", "k", 1, `1`))
}
