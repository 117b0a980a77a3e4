package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// writtenTables are the tables a load writes, itself or through Persist's
// triggers.
var writtenTables = []string{"persist_meta", "persist_stores", "persist_records", "persist_events", "persist_history",
	"persist_removals", "persist_sources"}

// ownTriggers are Persist's triggers, as codeOn passes them over: each on
// its table, calling its function (schema.go).
var ownTriggers = func() []string {
	own := make([]string, 0, len(trackedTriggers))
	for _, name := range trackedTriggers {
		table := "persist_records"
		if strings.HasPrefix(name, "persist_events_") {
			table = "persist_events"
		}
		fn := map[string]string{"_stamp": name, "_removed": "persist_removed", "_mark": "persist_mark"}[strings.TrimPrefix(name, table)]
		own = append(own, table+"."+name+"."+fn)
	}
	return own
}()

// callsQuery finds, on the tables named in $1, a column default, a
// constraint or an index that calls a function of another schema than
// pg_catalog: code of its own, run as a row goes in, which may write
// anywhere (Persist's own call none). It gives what it is, for the error,
// and the statement that takes it away, for the hint.
const callsQuery = `WITH t AS (
		SELECT c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname) AS tab
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))),
	part(classid, objid, what, undo) AS (
		SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, d.oid,
			pg_catalog.format('the default of %s.%I', t.tab, a.attname),
			pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', t.tab, a.attname)
		FROM t JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) t.oid
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.oid AND a.attnum OPERATOR(pg_catalog.=) d.adnum
		UNION ALL
		SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, k.oid,
			pg_catalog.format('constraint %I on %s', k.conname, t.tab),
			pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', t.tab, k.conname)
		FROM t JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) t.oid
		UNION ALL
		SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, i.indexrelid,
			pg_catalog.format('index %s on %s', i.indexrelid::pg_catalog.regclass, t.tab),
			pg_catalog.format('DROP INDEX %s', i.indexrelid::pg_catalog.regclass)
		FROM t JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) t.oid)
	SELECT p.what, p.undo, d.refobjid::pg_catalog.regprocedure::pg_catalog.text
	FROM part p JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) p.classid AND d.objid OPERATOR(pg_catalog.=) p.objid
		AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid
	JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) d.refobjid
	WHERE f.pronamespace OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.regnamespace::pg_catalog.oid
	ORDER BY 1 LIMIT 1`

func (t *writeTx) ForeignCode(ctx context.Context) error {
	kind, name, table, how, err := codeOn(ctx, t.tx, writtenTables, false, ownTriggers)
	switch {
	case err != nil:
		return fmt.Errorf("read the triggers and rules of Persist's tables: %w", err)
	case kind == "rule":
		return hint.With(adapters.ForeignCodeError("rule", name, table),
			"as the table's owner: DROP RULE %s ON %s, or for the load ALTER TABLE %[2]s DISABLE RULE %[1]s (%[3]s RULE %[1]s after it)", name, table, how)
	case kind == "trigger":
		return hint.With(adapters.ForeignCodeError("trigger", name, table),
			"as the table's owner: DROP TRIGGER %s ON %s, or for the load ALTER TABLE %[2]s DISABLE TRIGGER %[1]s (%[3]s TRIGGER %[1]s after it)", name, table, how)
	}
	var what, undo, fn string
	err = t.tx.QueryRowContext(ctx, callsQuery, pq.Array(writtenTables)).Scan(&what, &undo, &fn)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read the defaults, constraints and indexes of Persist's tables: %w", err)
	}
	return hint.With(fmt.Errorf("%w: %s calls %s, which runs as the store is written, and could change or delete rows written "+
		"and read back before it, where no read-back looks again", adapters.ErrForeignCode, what, fn),
		"as the table's owner: %s", undo)
}
