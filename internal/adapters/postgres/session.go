package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// txSetup is the first statement of every Persist transaction.
//
// It puts pg_catalog first on the search_path until the transaction ends.
// A schema listed before it (search_path = shadow, pg_catalog, public)
// could otherwise answer an operator of Persist's statements with one of
// its own of the same argument types (shadow.= on jsonb in a read-back, on
// text in a scan's store = $1). The user's schemas stay on the path after
// it, where the tables are found. With pg_catalog first, another schema
// can still win where its operator or function takes the argument types
// exactly and pg_catalog's takes others (unnest's anyarray, = on oid for a
// regclass): Persist's statements name such functions with pg_catalog, and
// cast such arguments to the exact type.
//
// It sets persist.writer, which the records' tracking trigger reads: a
// version this transaction lowers is meant (a replace, a patch), where
// another program's is bumped (stampTrigger).
//
// It sets row_security off, as pg_dump does: a policy that would hide rows
// from this role is an error then, never a dump, sum or load with rows
// missing. So that the error names the table and what to do before
// anything is read, it also reads the first Persist table whose policies
// apply to this role.
const txSetup = `SELECT pg_catalog.set_config('search_path',
		CASE WHEN pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.=) '' THEN 'pg_catalog'
			ELSE 'pg_catalog, ' OPERATOR(pg_catalog.||) pg_catalog.current_setting('search_path') END, true),
	pg_catalog.set_config('row_security', 'off', true), pg_catalog.quote_ident(current_user::pg_catalog.text),
	(SELECT t FROM pg_catalog.unnest(ARRAY['persist_stores', 'persist_records', 'persist_events', 'persist_sources',
			'persist_history', 'persist_removals', 'persist_meta']::pg_catalog.text[]) WITH ORDINALITY u(t, i)
		WHERE pg_catalog.row_security_active(pg_catalog.to_regclass(t)::pg_catalog.oid) ORDER BY i LIMIT 1),
	pg_catalog.set_config('` + writerSetting + `', 'on', true),
	pg_catalog.current_setting('default_transaction_read_only'),
	ARRAY(SELECT v.p OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) pg_catalog.format('%I.%I', n.nspname, c.relname)
		FROM (VALUES (1, 'SELECT', 'persist_stores'), (2, 'INSERT', 'persist_stores'), (3, 'SELECT', 'persist_records'),
			(4, 'INSERT', 'persist_records'), (5, 'UPDATE', 'persist_records'), (6, 'SELECT', 'persist_events'),
			(7, 'INSERT', 'persist_events')) v(i, p, t)
		JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE pg_catalog.to_regclass('persist_stores') IS NOT NULL AND NOT pg_catalog.has_table_privilege(c.oid, v.p)
			AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
				AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped AND NOT pg_catalog.has_column_privilege(a.attrelid, a.attnum, v.p))
		ORDER BY v.i)`

// readOnlyCheck reads default_transaction_read_only, where it was set, the
// database and the role. The driver begins every transaction that is not
// read-only with READ WRITE, which overrides the setting an administrator
// makes to stop writes (ALTER DATABASE … SET default_transaction_read_only
// = on): a writer reads it instead (txSetup, cheaply; this, where it is
// on), and refuses to write.
const readOnlyCheck = `(SELECT ARRAY[setting, source, pg_catalog.current_database()::pg_catalog.text, session_user::pg_catalog.text]
		FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'default_transaction_read_only')`

// notReadOnly is readOnly's error where the session's
// default_transaction_read_only, read as setting, is on.
func notReadOnly(ctx context.Context, tx *sql.Tx, setting string) error {
	if setting != "on" {
		return nil
	}
	var ro []string
	if err := tx.QueryRowContext(ctx, `SELECT `+readOnlyCheck).Scan((*pq.StringArray)(&ro)); err != nil {
		return fmt.Errorf("%w (and where it was set cannot be read: %w)", ErrDatabaseReadOnly, err)
	}
	return readOnly(ro)
}

// ErrDatabaseReadOnly: the session's default_transaction_read_only is on;
// Persist does not write through it.
var ErrDatabaseReadOnly = errors.New("the database is set read-only for this session (default_transaction_read_only is on)")

// readOnly is the error for what readOnlyCheck read, nil where writes are
// allowed. Role settings are the session user's (SET ROLE changes no
// default), whose ALTER ROLE the hint names.
func readOnly(ro []string) error {
	if len(ro) != 4 || ro[0] != "on" {
		return nil
	}
	source, db, role := ro[1], pq.QuoteIdentifier(ro[2]), pq.QuoteIdentifier(ro[3])
	var fix string
	switch source {
	case "database":
		fix = "ALTER DATABASE " + db + " RESET default_transaction_read_only"
	case "user":
		fix = "ALTER ROLE " + role + " RESET default_transaction_read_only"
	case "database user":
		fix = "ALTER ROLE " + role + " IN DATABASE " + db + " RESET default_transaction_read_only"
	case "global":
		fix = "ALTER ROLE ALL RESET default_transaction_read_only"
	case "client":
		fix = "leave -c default_transaction_read_only=on out of the connection's options (the URL's options=, or PGOPTIONS)"
	case "command line":
		fix = "start the server without -c default_transaction_read_only=on"
	default:
		fix = "set default_transaction_read_only = off where it is set (" + source + ") and reload the server"
	}
	return hint.With(fmt.Errorf("%w, set by the %s: writes here were stopped on purpose", ErrDatabaseReadOnly, source),
		"write to another database; or, where writes are meant again: %s", fix)
}

// tablesCheck finds the first of Persist's tables, as the search_path finds
// them, that is not one (a snapshot's setup reads it every time; a writer
// once, with the schema, before its first write: its planning costs a
// millisecond): a view, a materialized or foreign table, a table
// with child tables (whose rows a read of the parent returns too), or one
// in another schema than persist_stores (a table or view of the same name
// in a schema the path lists first). Every statement names the tables by
// the path, so what such a relation shows would be dumped, summed and
// compared as the store. A partitioned table holds its partitions' rows as
// its own, and is one, but for one whose partitions, at any depth, hold a
// table of its name in another schema that has a persist_stores:
// partitioned tables of Persist's names in a schema of their own, over a
// store's tables, show that store under another search_path, which
// persist-diff and persist verify would take for another store, equal to
// it whatever it holds (partitions of other names, or in a schema that
// shows no store, an archive, are the table's own). It gives, as text:
// the name, the relation qualified, its relkind, its first child
// qualified (or empty), its schema, persist_stores' schema, and such a
// partition of Persist's name qualified, its parent and its schema (or
// empty); NULL when they are all Persist's tables.
const tablesCheck = `(SELECT ARRAY[t.n, pg_catalog.format('%I.%I', ns.nspname, c.relname), c.relkind::pg_catalog.text,
			coalesce(ch.name, ''), ns.nspname::pg_catalog.text, sn.nspname::pg_catalog.text, coalesce(tw.name, ''), coalesce(tw.parent, ''), coalesce(tw.schema, '')]
		FROM pg_catalog.unnest(ARRAY['persist_stores', 'persist_records', 'persist_events', 'persist_sources',
				'persist_history', 'persist_removals', 'persist_meta']::pg_catalog.text[]) WITH ORDINALITY t(n, i)
		JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t.n)::pg_catalog.oid
		JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
		CROSS JOIN (SELECT n.nspname FROM pg_catalog.pg_class s JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.relnamespace
			WHERE s.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_stores')::pg_catalog.oid) sn
		LEFT JOIN LATERAL (SELECT pg_catalog.format('%I.%I', hn.nspname, hc.relname) AS name FROM pg_catalog.pg_inherits h
			JOIN pg_catalog.pg_class hc ON hc.oid OPERATOR(pg_catalog.=) h.inhrelid
			JOIN pg_catalog.pg_namespace hn ON hn.oid OPERATOR(pg_catalog.=) hc.relnamespace
			WHERE h.inhparent OPERATOR(pg_catalog.=) c.oid AND c.relkind OPERATOR(pg_catalog.<>) 'p' LIMIT 1) ch ON true
		LEFT JOIN LATERAL (SELECT pg_catalog.format('%I.%I', pn.nspname, pc.relname) AS name, (SELECT pg_catalog.format('%I.%I', qn.nspname, qc.relname) FROM pg_catalog.pg_class qc
					JOIN pg_catalog.pg_namespace qn ON qn.oid OPERATOR(pg_catalog.=) qc.relnamespace
					WHERE qc.oid OPERATOR(pg_catalog.=) pt.parentrelid) AS parent,
				pn.nspname::pg_catalog.text AS schema
			FROM pg_catalog.pg_partition_tree(c.oid) pt
			JOIN pg_catalog.pg_class pc ON pc.oid OPERATOR(pg_catalog.=) pt.relid
			JOIN pg_catalog.pg_namespace pn ON pn.oid OPERATOR(pg_catalog.=) pc.relnamespace
			WHERE c.relkind OPERATOR(pg_catalog.=) 'p' AND pt.relid OPERATOR(pg_catalog.<>) c.oid
				AND pc.relname OPERATOR(pg_catalog.=) t.n::pg_catalog.name AND pc.relnamespace OPERATOR(pg_catalog.<>) c.relnamespace
				AND pg_catalog.to_regclass(pg_catalog.format('%I.persist_stores', pn.nspname)) IS NOT NULL
			ORDER BY pt.level LIMIT 1) tw ON true
		WHERE c.relkind OPERATOR(pg_catalog.<>) ALL (ARRAY['r', 'p']::pg_catalog."char"[]) OR ch.name IS NOT NULL
			OR tw.name IS NOT NULL OR ns.nspname OPERATOR(pg_catalog.<>) sn.nspname
		ORDER BY t.i LIMIT 1)`

// snapshotSetup is txSetup with what only a snapshot reads (its operators
// named by pg_catalog: the statement's path is the session's, put right
// only for the statements after it): the first column its scans order or
// match by whose type or collation is not byte order (text COLLATE "C" as
// Persist makes it, or POSIX, or the default of a database whose locale is
// C: another collation puts a dump out of order, or matches a store by
// another name), and the schema of the tables, where persist_removed_since
// is. The columns come four entries each (table, column, type,
// collation), every one that is not byte order, so that one hint can put
// them all right. It also turns JIT off for the snapshot, as orderByIndex
// does for a scan: the header's counts come first, and at 10M records a
// count's estimated cost is above jit_above_cost. And it keeps the counts
// to the one backend: the planner's parallel count of 1M records took
// three processes as long as one took alone (0.30 s against 0.12 s from
// the primary key of a vacuumed table, 0.23-0.34 s against 0.30-0.31 s
// from the heap of one never vacuumed), three times the CPU for no gain in
// wall time, while the header holds back the dump and the client waits.
// More cores would finish a parallel count sooner, but the scan after it
// is one backend's anyway, and ten to thirty times as long.
const snapshotSetup = txSetup + `,
	` + tablesCheck + `,
	(SELECT pg_catalog.array_agg(u.e ORDER BY v.i, u.k)
		FROM (VALUES ('persist_records', 'store', 1), ('persist_records', 'collection', 2), ('persist_records', 'key', 3),
			('persist_events', 'store', 4), ('persist_events', 'stream', 5)) v(t, c, i)
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
			AND a.attname OPERATOR(pg_catalog.=) v.c::pg_catalog.name AND NOT a.attisdropped
		LEFT JOIN pg_catalog.pg_collation l ON l.oid OPERATOR(pg_catalog.=) a.attcollation
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[v.t, v.c, pg_catalog.format_type(a.atttypid, a.atttypmod),
			coalesce(pg_catalog.quote_ident(l.collname::pg_catalog.text), 'none')]) WITH ORDINALITY u(e, k)
		WHERE a.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.text'::pg_catalog.regtype::pg_catalog.oid
			OR NOT (a.attcollation OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog."C"'::pg_catalog.regcollation,
					'pg_catalog."POSIX"'::pg_catalog.regcollation]::pg_catalog.oid[])
				OR (a.attcollation OPERATOR(pg_catalog.=) 'pg_catalog.default'::pg_catalog.regcollation::pg_catalog.oid
					AND EXISTS (SELECT FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
						AND d.datlocprovider OPERATOR(pg_catalog.=) 'c' AND d.datcollate OPERATOR(pg_catalog.=) ANY (ARRAY['C', 'POSIX']::pg_catalog.text[]))))),
	(SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('persist_records')::pg_catalog.oid),
	(SELECT pg_catalog.set_config('jit', 'off', true) FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'jit'),
	pg_catalog.set_config('max_parallel_workers_per_gather', '0', true),
	(SELECT pg_catalog.array_agg(u.e ORDER BY v.i, u.k)
		FROM (VALUES ('persist_records', 'updated_at', 1), ('persist_events', 'at', 2)) v(t, c, i)
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
			AND a.attname OPERATOR(pg_catalog.=) v.c::pg_catalog.name AND NOT a.attisdropped
		JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) a.atttypid
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[v.t, v.c, pg_catalog.format_type(a.atttypid, a.atttypmod)]) WITH ORDINALITY u(e, k)
		WHERE (CASE WHEN y.typtype OPERATOR(pg_catalog.=) 'd' THEN y.typbasetype ELSE a.atttypid END)
				OPERATOR(pg_catalog.=) 'pg_catalog.timestamp'::pg_catalog.regtype::pg_catalog.oid
			AND pg_catalog.to_regclass('persist_stores') IS NOT NULL),
	` + columnTypesCheck

// columnTypesCheck finds the columns of Persist's tables whose type (a
// domain's, its base type's) is not one Persist reads them as, five
// entries each: the table qualified, the column, its type, the type it
// needs, and the name of the table's stamp trigger. A version of numeric
// (1.5), a deleted of text ('yes') or a value of json would fail at the
// first such row with the driver's words, naming no record; refused
// before anything is read, the column is named with the type it needs.
const columnTypesCheck = `(SELECT pg_catalog.array_agg(u.e ORDER BY v.i, u.k)
		FROM (VALUES ('persist_records', 'version', 'bigint', 'pg_catalog.int8', 1), ('persist_records', 'deleted', 'boolean', 'pg_catalog.bool', 2),
			('persist_records', 'value', 'jsonb', 'pg_catalog.jsonb', 3), ('persist_events', 'seq', 'bigint', 'pg_catalog.int8', 4),
			('persist_events', 'data', 'jsonb', 'pg_catalog.jsonb', 5)) v(t, c, want, reg, i)
		JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.t)::pg_catalog.oid
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.oid
			AND a.attname OPERATOR(pg_catalog.=) v.c::pg_catalog.name AND NOT a.attisdropped
		JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) a.atttypid
		CROSS JOIN LATERAL (SELECT CASE WHEN y.typtype OPERATOR(pg_catalog.=) 'd' THEN y.typbasetype ELSE a.atttypid END) m(base)
		CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[pg_catalog.format('%I.%I', n.nspname, r.relname), v.c,
			pg_catalog.format_type(a.atttypid, a.atttypmod), v.want, pg_catalog.format('%I', v.t OPERATOR(pg_catalog.||) '_stamp')]) WITH ORDINALITY u(e, k)
		WHERE NOT (m.base OPERATOR(pg_catalog.=) v.reg::pg_catalog.regtype::pg_catalog.oid
				OR (v.want OPERATOR(pg_catalog.=) 'bigint' AND m.base OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.int4'::pg_catalog.regtype,
					'pg_catalog.int2'::pg_catalog.regtype]::pg_catalog.oid[])))
			AND pg_catalog.to_regclass('persist_stores') IS NOT NULL)`

// columnTypes is the error for what columnTypesCheck found, nil for
// nothing. The hint's statements drop the table's stamp trigger before
// a change of version or seq, which its condition names (no column a
// trigger uses can change its type), and cast through text, which
// refuses a value the type cannot hold (a version of 1.5) rather than
// round it; persist upgrade makes the trigger again.
func columnTypes(cols []string) error {
	if len(cols) < 5 {
		return nil
	}
	var what, fix []string
	dropped := false
	for i := 0; i+4 < len(cols); i += 5 {
		table, col, now, want, trigger := cols[i], cols[i+1], cols[i+2], cols[i+3], cols[i+4]
		what = append(what, fmt.Sprintf("column %s.%s is %s, not %s", table, col, now, want))
		if col == "version" || col == "seq" {
			dropped = true
			fix = append(fix, fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s", trigger, table))
		}
		fix = append(fix, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s", table, col, want, col, want))
	}
	upgrade := ""
	if dropped {
		upgrade = "; then run persist upgrade NAME --location LOCATION (docs/persist.md), which makes the trigger again"
	}
	return hint.With(fmt.Errorf("%w: %s: Persist reads and writes it as that type", ErrNotPersistTable, strings.Join(what, "; ")),
		"as the owner of the tables, give it that type back: %s (a value the type cannot hold, a version of 1.5, text that is "+
			"no JSON, fails the statement and changes nothing: mend those rows first)%s", strings.Join(fix, "; "), upgrade)
}

// setUp runs txSetup in a write transaction.
func (a *Adapter) setUp(ctx context.Context, tx *sql.Tx) error {
	var path, rs, role, writer string
	var hidden sql.NullString
	var ro string
	// Not prepared: a statement prepared on the pool would take a second
	// connection while tx holds the only one (a role with CONNECTION
	// LIMIT 1 could do nothing), and a query without arguments goes to
	// the server in one message anyway.
	var lacks []string
	if err := tx.QueryRowContext(ctx, txSetup).Scan(&path, &rs, &role, &hidden, &writer, &ro, (*pq.StringArray)(&lacks)); err != nil {
		return fmt.Errorf("set the transaction up: %w", err)
	}
	if err := notReadOnly(ctx, tx, ro); err != nil {
		return err
	}
	if err := lacking(lacks, role, true); err != nil {
		return err
	}
	return rowSecurity(hidden.String, "role "+role)
}

// lacking refuses, before a query fails on one, the rights on the data
// tables that the role lacks (lacks: "PRIVILEGE schema.table", as txSetup
// reads them: on the table, or on any of its columns; none where there is
// no persist_stores, and the tables are not Persist's) among those a read
// (write false: SELECT) or a write (also INSERT, and UPDATE of records)
// needs, with the grants of those it lacks, the tables named with their
// schema.
func lacking(lacks []string, role string, write bool) error {
	byTable := map[string][]string{}
	var tables, missing []string
	for _, l := range lacks {
		priv, table, _ := strings.Cut(l, " ")
		if priv != "SELECT" && !write {
			continue
		}
		if byTable[table] == nil {
			tables = append(tables, table)
		}
		byTable[table] = append(byTable[table], priv)
		missing = append(missing, l)
	}
	if len(missing) == 0 {
		return nil
	}
	var grants []string
	for _, t := range tables {
		grants = append(grants, fmt.Sprintf("GRANT %s ON %s TO %s", strings.Join(byTable[t], ", "), t, role))
	}
	return hint.With(fmt.Errorf("role %s lacks rights on Persist's tables: %s", role, strings.Join(missing, ", ")),
		"as the owner of the tables: %s", strings.Join(grants, "; "))
}

// ErrNotPersistTable: a relation the search_path finds under the name of
// one of Persist's tables is not Persist's table.
var ErrNotPersistTable = adapters.ErrNotPersistTable

// notPersistTable is the error for what tablesCheck found, nil for
// nothing.
func notPersistTable(odd []string) error {
	if len(odd) != 9 {
		return nil
	}
	name, rel, kind, child, schema, stores := odd[0], odd[1], odd[2], odd[3], odd[4], odd[5]
	twin, parent, twinSchema := odd[6], odd[7], odd[8]
	switch {
	case twin != "":
		return hint.With(fmt.Errorf("%w: %s is partitioned, and %s, a table of the same name in another schema, is one of its partitions: "+
			"the two search_paths show the same rows as two stores, which a diff or verify would find equal whatever they hold",
			ErrNotPersistTable, rel, twin),
			"if Persist's tables are those of %s's schema, put it first on the search_path (%s); to part the two, as the owner "+
				"of the tables: ALTER TABLE %s DETACH PARTITION %s (%s keeps its rows)", twin, pathOption(twinSchema), parent, twin, twin)
	case child != "":
		return hint.With(fmt.Errorf("%w: %s has a child table, %s, whose rows a read of it returns too: a dump, sum or diff would take them for the store's",
			ErrNotPersistTable, rel, child),
			"take the child out of it (ALTER TABLE %s NO INHERIT %s) or drop it", child, rel)
	case schema != stores:
		return hint.With(fmt.Errorf("%w: the search_path finds %s in schema %s, and persist_stores in %s: what %s shows need not be the store",
			ErrNotPersistTable, name, schema, stores, rel),
			"if Persist's tables are those of schema %s, put it first on the search_path (%s); "+
				"otherwise drop or rename what is not Persist's (%s)", stores, pathOption(stores), rel)
	}
	return hint.With(fmt.Errorf("%w: %s is %s, not a table: what it shows need not be the store", ErrNotPersistTable, rel, relkindName(kind)),
		"put Persist's table back under its name (drop or rename %s), or put the schema that holds it first on the search_path (%s)",
		rel, pathOption("SCHEMA"))
}

// pathOption says how a location puts schema first on the session's
// search_path (options, as PGOPTIONS takes them), in a URL and in a
// key=value string, as libpq and psql read them too: in a URL's query a
// space is %20 (libpq reads + as itself) and = is %3D; one options= only,
// since a second does not add to the first. The server splits options at
// white space unless a backslash comes before it, so a schema's name with
// a space (quoted, "my schema") has it escaped; a key=value string's
// quotes take their own backslashes on top.
func pathOption(schema string) string {
	if schema != "SCHEMA" && !plainIdent.MatchString(schema) {
		schema = pq.QuoteIdentifier(schema)
	}
	opt := "-c search_path=" + optionEscaper.Replace(schema)
	return "in a URL's query, options=" + strings.ReplaceAll(url.QueryEscape(opt), "+", "%20") +
		" in place of any options= there; in a key=value location, options='" + kvEscaper.Replace(opt) + "'"
}

var (
	optionEscaper = strings.NewReplacer(`\`, `\\`, " ", `\ `, "\t", `\`+"\t", "\n", `\`+"\n", "\r", `\`+"\r", "\v", `\`+"\v", "\f", `\`+"\f")
	kvEscaper     = strings.NewReplacer(`\`, `\\`, "'", `\'`)
)

// plainIdent is a name PostgreSQL reads as it is, unquoted.
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// relkindName says what pg_class.relkind kind is.
func relkindName(kind string) string {
	switch kind {
	case "v":
		return "a view"
	case "m":
		return "a materialized view"
	case "f":
		return "a foreign table"
	}
	return "a relation of kind " + kind
}

// setUpSnapshot runs snapshotSetup, and returns the tables' schema, quoted.
func (a *Adapter) setUpSnapshot(ctx context.Context, tx *sql.Tx) (schema string, err error) {
	var path, rs, role, writer string
	var hidden, ns sql.NullString
	var odd, order, times, types []string
	var lacks []string
	err = tx.QueryRowContext(ctx, snapshotSetup).Scan(&path, &rs, &role, &hidden, &writer, new(string), (*pq.StringArray)(&lacks),
		(*pq.StringArray)(&odd), (*pq.StringArray)(&order), &ns, new(sql.NullString), new(string), (*pq.StringArray)(&times),
		(*pq.StringArray)(&types))
	if err != nil {
		return "", fmt.Errorf("set the snapshot up: %w", err)
	}
	if err := notPersistTable(odd); err != nil {
		return "", err
	}
	if err := rowSecurity(hidden.String, "role "+role); err != nil {
		return "", err
	}
	if err := lacking(lacks, role, false); err != nil {
		return "", err
	}
	if len(order) >= 4 {
		// Tables of Persist's names without persist_stores are another
		// application's: the snapshot finds no store in them (exists),
		// and no hint may tell anyone to change them.
		var persist bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_catalog.to_regclass('persist_stores') IS NOT NULL`).Scan(&persist); err != nil {
			return "", fmt.Errorf("set the snapshot up: %w", err)
		}
		if persist {
			return "", collationError(order)
		}
	}
	if len(times) >= 3 {
		return "", timeTypeError(times)
	}
	if err := columnTypes(types); err != nil {
		return "", err
	}
	return ns.String, nil
}

// timeTypeError is the error for time columns, three entries each (table,
// column, type), that are timestamp without time zone (or a domain over
// it) in Persist's tables (another application's, without persist_stores,
// are not refused: no hint may change them): such a column reads back as a
// wall clock of no zone, which no dump may call UTC. Changed
// from timestamptz in a session in UTC, as Persist writes, it holds UTC
// times, and AT TIME ZONE 'UTC' puts them back as they were.
func timeTypeError(cols []string) error {
	var what, fix []string
	for i := 0; i+2 < len(cols); i += 3 {
		table, col := cols[i], cols[i+1]
		what = append(what, fmt.Sprintf("column %s.%s is %s", table, col, cols[i+2]))
		fix = append(fix, fmt.Sprintf("ALTER TABLE %[1]s ALTER COLUMN %[2]s TYPE timestamptz USING %[2]s AT TIME ZONE 'UTC'", table, col))
	}
	return hint.With(fmt.Errorf("%s, not timestamp with time zone: its times are of no time zone, and reading them as UTC would be a guess",
		strings.Join(what, "; ")),
		"as the owner of the tables: %s (if the column was changed in a session whose TimeZone was not UTC, name that zone in place of 'UTC')",
		strings.Join(fix, "; "))
}

// rowSecurity is the error for a table whose row security policies would
// hide rows from the session's role (who, "role NAME"), nil for none.
func rowSecurity(table, who string) error {
	if table == "" {
		return nil
	}
	return hint.With(fmt.Errorf("row security policies on %s apply to %s, and could hide rows from it: "+
		"a dump, sum or load would miss them", table, who),
		"connect as a role with BYPASSRLS, or as the owner of %[1]s where it does not FORCE ROW LEVEL SECURITY; "+
			"or, as its owner, turn them off: ALTER TABLE %[1]s DISABLE ROW LEVEL SECURITY", table)
}

// rlsMessage is the server's error for a query row security would
// change while row_security is off.
var rlsMessage = regexp.MustCompile(`^query would be affected by row-level security policy for table "(.*)"$`)

// rowSecurityRefused says, of a server's refusal to read a table whose
// row security was turned on after the transaction began, what
// rowSecurity says; nil for any other error.
func rowSecurityRefused(err error) error {
	var perr *pq.Error
	if !errors.As(err, &perr) {
		return nil
	}
	m := rlsMessage.FindStringSubmatch(perr.Message)
	if m == nil {
		return nil
	}
	return fmt.Errorf("%w (%w)", rowSecurity(pq.QuoteIdentifier(m[1]), "the session's role"), err)
}

// collationError is the error for the columns a snapshot orders or
// matches by that are not text COLLATE "C": cols holds four entries a
// column (table, column, type, collation). The hint's statements put every
// one right at once; the change-tracking trigger, whose WHEN refers to the
// columns, goes first (if the schema has one: another implementation's
// does not) and persist upgrade makes it again.
func collationError(cols []string) error {
	var what []string
	var tables []string
	alter := map[string][]string{}
	for i := 0; i+3 < len(cols); i += 4 {
		table, col := cols[i], cols[i+1]
		what = append(what, fmt.Sprintf("column %s.%s is %s COLLATE %s", table, col, cols[i+2], cols[i+3]))
		if alter[table] == nil {
			tables = append(tables, table)
		}
		alter[table] = append(alter[table], fmt.Sprintf("ALTER COLUMN %s TYPE text COLLATE \"C\"", col))
	}
	var fix []string
	for _, t := range tables {
		fix = append(fix, fmt.Sprintf("DROP TRIGGER IF EXISTS %[1]s_stamp ON %[1]s", t))
	}
	for _, t := range tables {
		fix = append(fix, fmt.Sprintf("ALTER TABLE %s %s", t, strings.Join(alter[t], ", ")))
	}
	return hint.With(fmt.Errorf("%s, not text COLLATE \"C\": its rows would be read out of byte "+
		"order, or matched by a name other than their own, and a dump would not be in dump order", strings.Join(what, "; ")),
		"as the owner of the tables: %s; then persist upgrade NAME --location LOCATION makes the change-tracking trigger again (a column's type "+
			"cannot change while the trigger refers to it)", strings.Join(fix, "; "))
}
