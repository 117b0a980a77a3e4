package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
)

// identityQuery names the database as the server knows it, whatever the
// connection string said: the database's oid and the schema Persist's
// tables are in (persistSchema), or NULL where the search_path names none
// that exists; and whether the role may read the instant the server
// started, with the role's name for a hint where it may not. startQuery
// reads that instant, to the microsecond, in UTC, so that no session's
// TimeZone or float digits change it. Nothing depends on the role: the
// system identifier would, as only some roles may read it.
const identityQuery = `SELECT d.oid::pg_catalog.text, ` + persistSchema + `,
		pg_catalog.has_function_privilege('pg_catalog.pg_postmaster_start_time()', 'EXECUTE'),
		pg_catalog.quote_ident(current_user::pg_catalog.text), pg_catalog.quote_ident(d.datname::pg_catalog.text)
	FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()`

const startQuery = `SELECT pg_catalog.to_char(pg_catalog.pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')`

// persistSchema is the schema Persist's tables are in: where the
// search_path finds persist_stores, which need not be its first schema
// (an empty schema named after the role, before public), else the one a
// first write would make them in (current_schema). NULL when neither is.
const persistSchema = `coalesce((SELECT n.nspname::pg_catalog.text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_stores')),
	pg_catalog.current_schema()::pg_catalog.text)`

// Identity is the server's, the database's and the schema's
// (identityQuery); "" where the search_path names no schema that exists,
// where no store can be. Where the role may not read when the server
// started (EXECUTE revoked from PUBLIC, as a hardened server may), it is
// unknown (adapters.UnknownIdentity): a database's oid alone would make
// the first database of two servers one, and no identity at all would
// make one database two.
func (a *Adapter) Identity(ctx context.Context) (string, error) {
	var oid, schema sql.NullString
	var may bool
	var role, name string
	if err := a.db.QueryRowContext(ctx, identityQuery).Scan(&oid, &schema, &may, &role, &name); err != nil {
		return "", fmt.Errorf("read which database this is: %w", explain(err))
	}
	if !oid.Valid || !schema.Valid {
		return "", nil
	}
	database := oid.String + " " + pq.QuoteIdentifier(schema.String)
	if !may {
		// A function's rights are the database's own: the grant is made
		// in the database the location names.
		return adapters.UnknownIdentity(adapterName, database, fmt.Sprintf("role %s may not call pg_catalog.pg_postmaster_start_time(), "+
			"which tells one server from another: as a superuser, connected to database %s, "+
			"GRANT EXECUTE ON FUNCTION pg_catalog.pg_postmaster_start_time() TO %[1]s", role, name)), nil
	}
	// Asked apart: the server checks a function's rights before it runs
	// a query, whatever branch of it would call the function.
	var start string
	if err := a.db.QueryRowContext(ctx, startQuery).Scan(&start); err != nil {
		return "", fmt.Errorf("read which database this is: %w", explain(err))
	}
	return adapterName + ":" + start + " " + database, nil
}
