package postgres

import (
	"context"
	"fmt"
)

// identityQuery names the database as the server knows it, whatever the
// connection string said: the instant the server started (to the
// microsecond, as a number, so that no session's TimeZone changes it),
// the database's oid and the schema Persist's tables are in. Nothing in
// it depends on the role: the system identifier would, as only some roles
// may read it.
const identityQuery = `SELECT extract(epoch FROM pg_catalog.pg_postmaster_start_time())::text
	|| ' ' || d.oid::text || ' ' || coalesce(pg_catalog.quote_ident(pg_catalog.current_schema()), '')
	FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`

// Identity is the server's, the database's and the schema's (identityQuery).
func (a *Adapter) Identity(ctx context.Context) (string, error) {
	var id string
	if err := a.db.QueryRowContext(ctx, identityQuery).Scan(&id); err != nil {
		return "", fmt.Errorf("read which database this is: %w", explain(err))
	}
	return adapterName + ":" + id, nil
}
