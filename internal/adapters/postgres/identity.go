package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lib/pq"
)

// identityQuery names the database as the server knows it, whatever the
// connection string said: the instant the server started (to the
// microsecond, in UTC, so that no session's TimeZone or float digits
// change it), the database's oid, and the schema Persist's tables are in
// (persistSchema).
// Nothing in it depends on the role: the system identifier would, as only
// some roles may read it. The schema is NULL where the search_path names
// none that exists.
const identityQuery = `SELECT pg_catalog.to_char(pg_catalog.pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')
	OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) d.oid::pg_catalog.text, ` + persistSchema + `
	FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()`

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
// where no store can be, and where the role may not read when the server
// started (EXECUTE revoked from PUBLIC, as a hardened server may): a
// database's oid alone would make the first database of two servers one.
func (a *Adapter) Identity(ctx context.Context) (string, error) {
	// Asked first: the server checks a function's rights before running
	// the query, whatever branch of it would call the function.
	var may bool
	if err := a.db.QueryRowContext(ctx, `SELECT pg_catalog.has_function_privilege('pg_catalog.pg_postmaster_start_time()', 'EXECUTE')`).Scan(&may); err != nil {
		return "", fmt.Errorf("read which database this is: %w", explain(err))
	}
	if !may {
		return "", nil
	}
	var db, schema sql.NullString
	if err := a.db.QueryRowContext(ctx, identityQuery).Scan(&db, &schema); err != nil {
		return "", fmt.Errorf("read which database this is: %w", explain(err))
	}
	if !db.Valid || !schema.Valid {
		return "", nil
	}
	return adapterName + ":" + db.String + " " + pq.QuoteIdentifier(schema.String), nil
}
