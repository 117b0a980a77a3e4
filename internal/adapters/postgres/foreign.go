package postgres

import (
	"context"
	"crypto/md5"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// writtenTables are the tables a load writes, itself or through Persist's
// triggers.
var writtenTables = []string{"persist_meta", "persist_stores", "persist_records", "persist_events", "persist_history",
	"persist_removals", "persist_sources"}

// ownTriggers are Persist's triggers as codeOnQuery passes them over
// (ownKey), with this release's functions: an earlier release's are
// brought up to date by the first write of a role that may (refreshStamps),
// or by persist upgrade.
var ownTriggers = func() []string {
	own := make([]string, 0, len(trackedTriggers))
	for _, name := range trackedTriggers {
		table, bump, moved := "persist_records", recordBump, movedTest("collection", "key")
		if strings.HasPrefix(name, "persist_events_") {
			table, bump, moved = "persist_events", "", movedTest("stream", "seq")
		}
		switch strings.TrimPrefix(name, table) {
		case "_stamp":
			own = append(own, ownKey(table, name, name, 19, "w", stampBody(bump, moved)))
		case "_removed":
			own = append(own, ownKey(table, name, "persist_removed", 40, "n", removedBody))
		default:
			own = append(own, ownKey(table, name, "persist_mark", 60, "n", markBody))
		}
	}
	return own
}()

// ownKey is how triggerKeySQL writes one of Persist's triggers as
// schema.go makes it: its table, its name, its function (of the table's
// schema), its events as pg_trigger.tgtype has them (19: before each row's
// update; 40: after a delete or truncate statement; 60: after any write
// statement), its condition (when: "n" for none; "w" for the WHEN
// stampTrigger made, as stampMark noted it, calling nothing the server did
// not make, nor one of its functions that run SQL given as text; "x" for
// any other, or for arguments or an UPDATE OF list, which Persist's have
// none of), the MD5 of its function's text, and
// "t" for a SECURITY DEFINER function in PL/pgSQL with the search_path of
// the tables' schema alone.
func ownKey(table, trigger, function string, events int, when, body string) string {
	return fmt.Sprintf("%s.%s.%s.%d.%s.%x.t", table, trigger, function, events, when, md5.Sum([]byte(body)))
}

// triggerKeySQL is trigger g on table c as ownKey writes Persist's, its
// function's part empty where that is not of the table's schema.
const triggerKeySQL = `c.relname::pg_catalog.text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) g.tgname::pg_catalog.text
		OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) coalesce((SELECT p.proname::pg_catalog.text OPERATOR(pg_catalog.||) '.'
				OPERATOR(pg_catalog.||) g.tgtype::pg_catalog.text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) ` + triggerWhenSQL + `
				OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.md5(p.prosrc)
				OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) CASE WHEN p.prosecdef
					AND p.prolang OPERATOR(pg_catalog.=) (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname OPERATOR(pg_catalog.=) 'plpgsql')
					AND p.proconfig OPERATOR(pg_catalog.=) ARRAY[pg_catalog.format('search_path=%s, pg_temp', pg_catalog.quote_ident(n.nspname::pg_catalog.text))]
					THEN 't' ELSE 'f' END
			FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
			WHERE p.oid OPERATOR(pg_catalog.=) g.tgfoid AND p.pronamespace OPERATOR(pg_catalog.=) c.relnamespace), '')`

// triggerWhenSQL is ownKey's condition part of trigger g: what a WHEN
// calls is found by its dependencies (the functions, operators and types
// it uses) and, for the server's functions that run SQL given as text,
// which no dependency records, in its node tree (runSQL); and a WHEN is
// Persist's only where it is as made (stampMarked).
const triggerWhenSQL = `CASE WHEN g.tgnargs OPERATOR(pg_catalog.<>) 0 OR g.tgattr::pg_catalog.text OPERATOR(pg_catalog.<>) '' THEN 'x'
					WHEN g.tgqual IS NULL THEN 'n'
					WHEN EXISTS (SELECT FROM pg_catalog.pg_depend d
						WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass::pg_catalog.oid
							AND d.objid OPERATOR(pg_catalog.=) g.oid AND d.refobjid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid
							AND d.refobjid OPERATOR(pg_catalog.<>) g.tgfoid
							AND d.refclassid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid,
								'pg_catalog.pg_operator'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid,
								'pg_catalog.pg_opclass'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_opfamily'::pg_catalog.regclass::pg_catalog.oid]))
						OR g.tgqual::pg_catalog.text OPERATOR(pg_catalog.~) (` + runSQL + `) THEN 'x'
					WHEN ` + stampMarked + ` THEN 'w'
					ELSE 'x' END`

// runSQL is a pattern that finds, in an expression's node tree, a call
// (:funcid OID) of one of the server's functions that run SQL given as
// text: query_to_xml and its kin, ts_stat, ts_rewrite.
const runSQL = `SELECT ':funcid (' OPERATOR(pg_catalog.||) pg_catalog.string_agg(oid::pg_catalog.text, '|') OPERATOR(pg_catalog.||) E')\\M'
		FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace::pg_catalog.oid
			AND proname OPERATOR(pg_catalog.=) ANY (ARRAY['query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
				'cursor_to_xml', 'cursor_to_xmlschema', 'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
				'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema', 'database_to_xml', 'database_to_xmlschema',
				'database_to_xml_and_xmlschema', 'ts_stat', 'ts_rewrite']::pg_catalog.name[])`

// callsQuery finds, on the tables named in $1, what runs code that is not
// the server's own as a row goes in: a column default or generation
// expression, a constraint, an index, or a column's type, that depends on
// a function, an operator, a type (not an enum: a domain's check, a range's
// functions), an operator class or family made after the server's own
// objects (an oid from 16384 on, wherever it was made: a superuser's
// function in pg_catalog is one), as proofQuery judges them, or that calls
// one of the server's functions that run SQL given as text (query_to_xml
// and its kin, ts_stat, ts_rewrite; no dependency records those, so the
// expressions' node trees are searched for them); and a
// foreign key of another table that cascades a change of Persist's rows
// into that table, whose triggers run then. Persist's own use none. The
// parts are found by their tables' indexes and described only once found:
// what it is, for the error; what it uses;
// the statement that takes it away, for the hint. Names are written with
// their schemas, whatever the search_path.
const callsQuery = `WITH t AS MATERIALIZED (
		SELECT pg_catalog.to_regclass(x)::pg_catalog.oid AS oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x),
	tabs AS MATERIALIZED (SELECT pg_catalog.array_agg(oid) AS oids FROM t WHERE oid IS NOT NULL),
	part(k, classid, objid, rel, att, expr) AS MATERIALIZED (
		SELECT 'd', 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, d.oid, d.adrelid, d.adnum,
			d.adbin::pg_catalog.text
		FROM pg_catalog.pg_attrdef d, tabs WHERE d.adrelid OPERATOR(pg_catalog.=) ANY (tabs.oids)
		UNION ALL
		SELECT 'c', 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, k.oid, k.conrelid, 0,
			coalesce(k.conbin::pg_catalog.text, '')
		FROM pg_catalog.pg_constraint k, tabs WHERE k.conrelid OPERATOR(pg_catalog.=) ANY (tabs.oids)
		UNION ALL
		SELECT 'i', 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, i.indexrelid, i.indrelid, 0,
			coalesce(i.indexprs::pg_catalog.text, '') OPERATOR(pg_catalog.||) coalesce(i.indpred::pg_catalog.text, '')
		FROM pg_catalog.pg_index i, tabs WHERE i.indrelid OPERATOR(pg_catalog.=) ANY (tabs.oids)
		UNION ALL
		SELECT 't', 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, x.oid, x.oid, 0, ''
		FROM pg_catalog.unnest((SELECT oids FROM tabs)) x(oid)),
	-- The server's functions that run SQL given as text, as an
	-- expression's node tree names them (:funcid OID).
	runsql(funcs) AS (` + runSQL + `),
	hit(k, rel, att, objid, uses) AS (
		SELECT p.k, p.rel, CASE WHEN p.k OPERATOR(pg_catalog.=) 't' THEN d.objsubid ELSE p.att END, p.objid,
			pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)
		FROM part p JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) p.classid AND d.objid OPERATOR(pg_catalog.=) p.objid
		WHERE d.refobjid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid AND (d.refclassid OPERATOR(pg_catalog.=) ANY (ARRAY[
				'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_operator'::pg_catalog.regclass::pg_catalog.oid,
				'pg_catalog.pg_opclass'::pg_catalog.regclass::pg_catalog.oid, 'pg_catalog.pg_opfamily'::pg_catalog.regclass::pg_catalog.oid])
			OR d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass::pg_catalog.oid
				AND (SELECT y.typtype FROM pg_catalog.pg_type y WHERE y.oid OPERATOR(pg_catalog.=) d.refobjid) OPERATOR(pg_catalog.<>) 'e')
		UNION ALL
		SELECT p.k, p.rel, p.att, p.objid,
			'function ' OPERATOR(pg_catalog.||) (pg_catalog.regexp_match(p.expr, r.funcs))[1]::pg_catalog.oid::pg_catalog.regprocedure::pg_catalog.text
		FROM part p, runsql r WHERE p.expr OPERATOR(pg_catalog.~) r.funcs
		ORDER BY 1, 2, 3, 4 LIMIT 1),
	named AS (SELECT h.*, pg_catalog.format('%I.%I', n.nspname, c.relname) AS tab,
			(SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) h.rel AND a.attnum OPERATOR(pg_catalog.=) h.att) AS col
		FROM hit h JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) h.rel
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace)
	SELECT CASE k
			WHEN 'd' THEN pg_catalog.format(CASE WHEN (SELECT a.attgenerated FROM pg_catalog.pg_attribute a
				WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.=) att) OPERATOR(pg_catalog.<>) ''
				THEN 'the generation expression of %s.%I' ELSE 'the default of %s.%I' END, tab, col)
			WHEN 'c' THEN pg_catalog.format('constraint %I on %s', (SELECT conname FROM pg_catalog.pg_constraint WHERE oid OPERATOR(pg_catalog.=) objid), tab)
			WHEN 'i' THEN pg_catalog.format('index %I on %s', (SELECT relname FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) objid), tab)
			ELSE pg_catalog.format('column %s.%I', tab, col) END,
		uses,
		CASE k
			WHEN 'd' THEN pg_catalog.format(CASE WHEN (SELECT a.attgenerated FROM pg_catalog.pg_attribute a
				WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.=) att) OPERATOR(pg_catalog.<>) ''
				THEN 'ALTER TABLE %s ALTER COLUMN %I DROP EXPRESSION' ELSE 'ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT' END, tab, col)
			WHEN 'c' THEN pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', tab, (SELECT conname FROM pg_catalog.pg_constraint WHERE oid OPERATOR(pg_catalog.=) objid))
			WHEN 'i' THEN coalesce((SELECT pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', tab, k.conname) FROM pg_catalog.pg_constraint k
					WHERE k.conindid OPERATOR(pg_catalog.=) objid AND k.conrelid OPERATOR(pg_catalog.=) rel),
				(SELECT pg_catalog.format('DROP INDEX %I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
					JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.oid OPERATOR(pg_catalog.=) objid))
			ELSE (SELECT CASE WHEN y.typtype OPERATOR(pg_catalog.=) 'd'
					THEN pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I TYPE %s', tab, col, pg_catalog.format_type(y.typbasetype, y.typtypmod))
					ELSE pg_catalog.format('ALTER TABLE %s DROP COLUMN %I', tab, col) END
				FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) a.atttypid
				WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.=) att) END
	FROM named
	UNION ALL
	(SELECT pg_catalog.format('foreign key %I on %I.%I, which cascades changes of %I.%I into its table', k.conname, n.nspname, c.relname,
			fn.nspname, f.relname),
		pg_catalog.format('the triggers of %I.%I', n.nspname, c.relname),
		pg_catalog.format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, c.relname, k.conname)
	FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
	JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	JOIN pg_catalog.pg_class f ON f.oid OPERATOR(pg_catalog.=) k.confrelid
	JOIN pg_catalog.pg_namespace fn ON fn.oid OPERATOR(pg_catalog.=) f.relnamespace, tabs
	WHERE k.confrelid OPERATOR(pg_catalog.=) ANY (tabs.oids) AND k.contype OPERATOR(pg_catalog.=) 'f'
		AND (k.confupdtype OPERATOR(pg_catalog.<>) ALL (ARRAY['a', 'r']::pg_catalog."char"[])
			OR k.confdeltype OPERATOR(pg_catalog.<>) ALL (ARRAY['a', 'r']::pg_catalog."char"[]))
		AND EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.tgrelid OPERATOR(pg_catalog.=) k.conrelid AND NOT g.tgisinternal)
	ORDER BY 1 LIMIT 1)
	LIMIT 1`

// codeSQL is codeOnQuery on Persist's tables, its triggers passed over,
// with catalogSQL's digest beside its answer. ForeignCode runs it and
// callsQuery with nothing left to bind (bindTables): prepared once
// (lazyStmt), each keeps one plan (with parameters, the server would plan
// it again for each of its first runs; a plan was 5–10 ms, a run 1–2 ms).
var codeSQL = `SELECT c.k, c.name, c.tab, c.how, (` + catalogSQL + `) FROM (VALUES (1)) one(x) LEFT JOIN LATERAL (` +
	strings.NewReplacer("$2", "false", "$3::pg_catalog.text[]", sqlTexts(ownTriggers)).Replace(codeOnQuery) + `) c ON true`

// catalogSQL is a digest of the catalog rows callsQuery reads, by their
// row versions: the tables', their columns', defaults', constraints' and
// indexes', the foreign keys that reference them and the triggers of the
// tables those belong to. Every DDL that could add code a row runs writes
// one of them anew, so where the digest is the one at which callsQuery
// last found nothing, it finds nothing again (Adapter.callsClean). (Code
// those already use, changed in place, is code callsQuery refused
// already.)
const catalogSQL = `SELECT pg_catalog.md5(pg_catalog.string_agg(x, ',' ORDER BY x)) FROM (
		SELECT 'c' OPERATOR(pg_catalog.||) c.oid OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) c.xmin FROM pg_catalog.pg_class c
		WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
		UNION ALL SELECT 'a' OPERATOR(pg_catalog.||) a.attrelid OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) a.attnum OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) a.xmin
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
		UNION ALL SELECT 'd' OPERATOR(pg_catalog.||) d.oid OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) d.xmin FROM pg_catalog.pg_attrdef d
		WHERE d.adrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
		UNION ALL SELECT 'k' OPERATOR(pg_catalog.||) k.oid OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) k.xmin FROM pg_catalog.pg_constraint k
		WHERE k.conrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
			OR k.confrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
		UNION ALL SELECT 'i' OPERATOR(pg_catalog.||) i.indexrelid OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) i.xmin FROM pg_catalog.pg_index i
		WHERE i.indrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))
		UNION ALL SELECT 'g' OPERATOR(pg_catalog.||) g.oid OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) g.xmin FROM pg_catalog.pg_trigger g
		WHERE g.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT k.conrelid FROM pg_catalog.pg_constraint k
			WHERE k.confrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.to_regclass(x)::pg_catalog.oid FROM pg_catalog.unnest($1::pg_catalog.text[]) x))))) s(x)`

// bindTables puts Persist's table names in place of $1 in a query that
// ForeignCode prepares without parameters.
func bindTables(query string) string {
	return strings.ReplaceAll(query, "$1::pg_catalog.text[]", sqlTexts(writtenTables))
}

// sqlTexts is an SQL array of texts, each of which holds no quote.
func sqlTexts(xs []string) string {
	return "ARRAY['" + strings.Join(xs, "', '") + "']::pg_catalog.text[]"
}

func (t *writeTx) ForeignCode(ctx context.Context) error {
	digest, err := t.triggersAndRules(ctx)
	if err != nil || digest.Valid && t.a.callsClean.Load() != nil && *t.a.callsClean.Load() == digest.String {
		return err
	}
	return t.calls(ctx, digest)
}

// triggersAndRules refuses a trigger or rule of another's on Persist's
// tables (codeSQL), and gives the catalog's digest (catalogSQL).
func (t *writeTx) triggersAndRules(ctx context.Context) (digest sql.NullString, err error) {
	code, err := t.a.code.get(ctx, t.a.db, bindTables(codeSQL))
	if err != nil {
		return digest, fmt.Errorf("read the triggers and rules of Persist's tables: %w", err)
	}
	var kind, name, table, how sql.NullString
	err = t.tx.StmtContext(ctx, code).QueryRowContext(ctx).Scan(&kind, &name, &table, &how, &digest)
	switch {
	case err != nil:
		return digest, fmt.Errorf("read the triggers and rules of Persist's tables: %w", err)
	case kind.String == "rule":
		return digest, hint.With(adapters.ForeignCodeError("rule", name.String, table.String),
			"as the table's owner: DROP RULE %s ON %s, or for the load ALTER TABLE %[2]s DISABLE RULE %[1]s (%[3]s RULE %[1]s after it)",
			name.String, table.String, how.String)
	case kind.String == "persist trigger":
		return digest, hint.With(fmt.Errorf("%w: trigger %s on %s is one of Persist's by name, but its function, its events, its condition or its "+
			"function's text or settings are not as this release makes them (changed by hand, made by an earlier release, or a "+
			"restore numbered the table's columns anew): it runs "+
			"as the store is written, and could change or delete rows written and read back before it, where no read-back looks again",
			adapters.ErrForeignCode, name.String, table.String),
			"as the owner of the tables, run persist upgrade NAME --location LOCATION (docs/persist.md): it makes Persist's functions and triggers again")
	case kind.String == "trigger":
		return digest, hint.With(adapters.ForeignCodeError("trigger", name.String, table.String),
			"as the table's owner: DROP TRIGGER %s ON %s, or for the load ALTER TABLE %[2]s DISABLE TRIGGER %[1]s (%[3]s TRIGGER %[1]s after it)",
			name.String, table.String, how.String)
	}
	return digest, nil
}

// calls refuses what callsQuery finds, and notes digest as clean where it
// finds nothing.
func (t *writeTx) calls(ctx context.Context, digest sql.NullString) error {
	calls, err := t.a.calls.get(ctx, t.a.db, bindTables(callsQuery))
	if err != nil {
		return fmt.Errorf("read the defaults, constraints and indexes of Persist's tables: %w", err)
	}
	var what, uses, undo string
	err = t.tx.StmtContext(ctx, calls).QueryRowContext(ctx).Scan(&what, &uses, &undo)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if digest.Valid {
			t.a.callsClean.Store(&digest.String)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read the defaults, constraints and indexes of Persist's tables: %w", err)
	}
	return hint.With(fmt.Errorf("%w: %s uses %s: code that runs as the store is written, and could change or delete rows written "+
		"and read back before it, where no read-back looks again", adapters.ErrForeignCode, what, uses),
		"as the table's owner: %s", undo)
}
