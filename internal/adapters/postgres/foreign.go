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

// callsQuery finds, on the tables named in $1, what runs code that is not
// the server's own as a row goes in: a column default or generation
// expression, a constraint, an index, or a column's type, that depends on
// a function, an operator, a type (a domain's check), an operator class or
// family, or a collation made after the server's own objects (an oid from
// 16384 on, wherever it was made: a superuser's function in pg_catalog is
// one), as proofQuery judges them; and a foreign key of another table that
// cascades a change of Persist's rows into that table, whose triggers run
// then. Persist's own use none. It gives what it is, for the error, and the
// statement that takes it away, for the hint.
const callsQuery = `WITH t AS (
		SELECT c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname) AS tab
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))),
	part(classid, objid, subid, what, undo) AS (
		SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, d.oid, 0,
			pg_catalog.format(CASE WHEN a.attgenerated OPERATOR(pg_catalog.<>) '' THEN 'the generation expression of %s.%I' ELSE 'the default of %s.%I' END, t.tab, a.attname),
			pg_catalog.format(CASE WHEN a.attgenerated OPERATOR(pg_catalog.<>) '' THEN 'ALTER TABLE %s ALTER COLUMN %I DROP EXPRESSION'
				ELSE 'ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT' END, t.tab, a.attname)
		FROM t JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) t.oid
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.oid AND a.attnum OPERATOR(pg_catalog.=) d.adnum
		UNION ALL
		SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, k.oid, 0,
			pg_catalog.format('constraint %I on %s', k.conname, t.tab),
			pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', t.tab, k.conname)
		FROM t JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) t.oid
		UNION ALL
		SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, i.indexrelid, 0,
			pg_catalog.format('index %s on %s', i.indexrelid::pg_catalog.regclass, t.tab),
			coalesce((SELECT pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', t.tab, k.conname) FROM pg_catalog.pg_constraint k
					WHERE k.conindid OPERATOR(pg_catalog.=) i.indexrelid AND k.conrelid OPERATOR(pg_catalog.=) t.oid),
				pg_catalog.format('DROP INDEX %s', i.indexrelid::pg_catalog.regclass))
		FROM t JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) t.oid
		UNION ALL
		SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, t.oid, a.attnum,
			pg_catalog.format('column %s.%I', t.tab, a.attname),
			pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I TYPE %s', t.tab, a.attname,
				pg_catalog.format_type(coalesce(nullif(y.typbasetype, 0), a.atttypid), a.atttypmod))
		FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
		JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) a.atttypid)
	SELECT what, undo, calls FROM (
		SELECT 1 AS o, p.what, p.undo, pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) AS calls
		FROM part p JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) p.classid AND d.objid OPERATOR(pg_catalog.=) p.objid
			AND (p.subid OPERATOR(pg_catalog.=) 0 OR d.objsubid OPERATOR(pg_catalog.=) p.subid)
		WHERE d.refobjid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid AND d.refclassid OPERATOR(pg_catalog.=) ANY (ARRAY[
			'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid,
			'pg_catalog.pg_operator'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_opclass'::pg_catalog.regclass::pg_catalog.oid,
			'pg_catalog.pg_opfamily'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_collation'::pg_catalog.regclass::pg_catalog.oid])
		UNION ALL
		SELECT 2, pg_catalog.format('foreign key %I on %s, which cascades changes of %s into it', k.conname, k.conrelid::pg_catalog.regclass, t.tab),
			pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::pg_catalog.regclass, k.conname),
			'the triggers of ' OPERATOR(pg_catalog.||) k.conrelid::pg_catalog.regclass::pg_catalog.text
		FROM t JOIN pg_catalog.pg_constraint k ON k.confrelid OPERATOR(pg_catalog.=) t.oid
		WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND (k.confupdtype OPERATOR(pg_catalog.<>) ALL (ARRAY['a', 'r']::pg_catalog."char"[])
			OR k.confdeltype OPERATOR(pg_catalog.<>) ALL (ARRAY['a', 'r']::pg_catalog."char"[]))) x
	ORDER BY o, what LIMIT 1`

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
	return hint.With(fmt.Errorf("%w: %s uses %s, which runs as the store is written, and could change or delete rows written "+
		"and read back before it, where no read-back looks again", adapters.ErrForeignCode, what, fn),
		"as the table's owner: %s", undo)
}
