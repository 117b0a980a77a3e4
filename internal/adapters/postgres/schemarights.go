package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/hint"
)

// searchPath splits a search_path setting into its schemas' names as the
// server does (quoted names kept as written, with "" for a quote; others
// lowercased; "$user" the role's name), leaving out pg_catalog and
// pg_temp, which a role may always use. A setting the server would not
// take gives what was read before the fault: the server's own error comes
// before anything reads it.
func searchPath(setting, user string) []string {
	var names []string
	s := setting
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			return names
		}
		name, rest, ok := pathName(s)
		if !ok {
			return names
		}
		switch {
		case name == "$user":
			names = append(names, user)
		case name != "pg_catalog" && name != "pg_temp" && !strings.HasPrefix(name, "pg_temp_"):
			names = append(names, name)
		}
		s = strings.TrimLeft(rest, " \t\n\r\f\v")
		if s == "" || s[0] != ',' {
			return names
		}
		s = s[1:]
	}
}

// pathName reads the name s begins with: quoted (kept as written, "" a
// quote) or not (lowered, to a comma or white space); ok is false for a
// quote never closed.
func pathName(s string) (name, rest string, ok bool) {
	if s[0] != '"' {
		end := strings.IndexAny(s, ", \t\n\r\f\v")
		if end < 0 {
			end = len(s)
		}
		return asciiLower(s[:end]), s[end:], true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] != '"':
			b.WriteByte(s[i])
		case i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		default:
			return b.String(), s[i+1:], true
		}
	}
	return "", "", false
}

// asciiLower lowers ASCII letters only, as the server does an unquoted
// name's in a database of a multibyte encoding.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// pathSchemasSQL reads, for each schema $1 names that exists, in its
// order: its name, as it is and quoted, whether the role may use it and
// make tables in it, whether Persist's tables are in it, and its owner
// (quoted). The catalog is readable without USAGE on a schema, which is
// what tells a schema out of the role's reach from one that is not there.
const pathSchemasSQL = `SELECT n.nspname::pg_catalog.text, pg_catalog.quote_ident(n.nspname::pg_catalog.text),
		pg_catalog.has_schema_privilege(n.oid, 'USAGE'), pg_catalog.has_schema_privilege(n.oid, 'CREATE'),
		EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid
			AND c.relname OPERATOR(pg_catalog.=) 'persist_stores'),
		pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(n.nspowner)::pg_catalog.text)
	FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY u(s, i)
	JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) u.s::pg_catalog.name
	ORDER BY u.i`

// pathSchema is a row of pathSchemasSQL.
type pathSchema struct {
	raw, name, owner     string
	usage, create, holds bool
}

// pathSchemas reads pathSchemasSQL for the session's search_path, and the
// role's name, quoted.
func pathSchemas(ctx context.Context, q querier) (schemas []pathSchema, role string, err error) {
	var setting, user string
	if err := q.QueryRowContext(ctx, `SELECT pg_catalog.current_setting('search_path'), current_user::pg_catalog.text,
			pg_catalog.quote_ident(current_user::pg_catalog.text)`).Scan(&setting, &user, &role); err != nil {
		return nil, "", fmt.Errorf("read the search_path: %w", err)
	}
	rows, err := q.QueryContext(ctx, pathSchemasSQL, pq.Array(searchPath(setting, user)))
	if err != nil {
		return nil, "", fmt.Errorf("read the search_path's schemas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p pathSchema
		if err := rows.Scan(&p.raw, &p.name, &p.usage, &p.create, &p.holds, &p.owner); err != nil {
			return nil, "", fmt.Errorf("read the search_path's schemas: %w", err)
		}
		schemas = append(schemas, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("read the search_path's schemas: %w", err)
	}
	return schemas, role, nil
}

// outOfReach is unusable for the session's search_path, where it finds
// no persist_stores (a read's and a listing's).
func outOfReach(ctx context.Context, q querier) error {
	schemas, role, err := pathSchemas(ctx, q)
	if err != nil {
		return err
	}
	return unusable(schemas, role, false)
}

// unusable is the error for a schema of the path that holds Persist's
// tables but that the role may not use (a schema without USAGE is passed
// over as if it were not there: a read would find no store, a write would
// make new tables in a later schema); with toMake (no schema of the path
// may be used at all), also for the first the path names, where the tables
// would go. nil where neither is so.
func unusable(schemas []pathSchema, role string, toMake bool) error {
	for _, p := range schemas {
		if p.holds && !p.usage {
			return hint.With(fmt.Errorf("role %s may not use schema %s, which holds Persist's tables (it lacks USAGE on it): "+
				"the search_path passes over it", role, p.name),
				"as %s: GRANT USAGE ON SCHEMA %s TO %s", ownerOf(p), p.name, role)
		}
	}
	if !toMake {
		return nil
	}
	for _, p := range schemas {
		if !p.usage {
			privs := "USAGE, CREATE"
			if p.create {
				privs = "USAGE"
			}
			return hint.With(fmt.Errorf("no schema to make Persist's tables in: role %s may not use schema %s, the first the search_path names (it lacks USAGE on it)",
				role, p.name),
				"as %s: GRANT %s ON SCHEMA %s TO %s; or name a schema the role may use in the location (%s)",
				ownerOf(p), privs, p.name, role, pathOption("SCHEMA"))
		}
	}
	return nil
}

// mayCreate refuses, before CREATE TABLE fails on it, to make Persist's
// tables in schema (as persistSchema names it) where the role may not
// create.
func mayCreate(schemas []pathSchema, role, schema string) error {
	for _, p := range schemas {
		if p.raw == schema && !p.create {
			return hint.With(fmt.Errorf("role %s may not make tables in schema %s, where Persist's go (it lacks CREATE on it)", role, p.name),
				"as %s: GRANT CREATE ON SCHEMA %s TO %s", ownerOf(p), p.name, role)
		}
	}
	return nil
}

// ownerOf says who may grant rights on p.
func ownerOf(p pathSchema) string {
	if p.owner == "pg_database_owner" {
		return "the database's owner (schema " + p.name + " is pg_database_owner's) or a superuser"
	}
	return "the schema's owner (" + p.owner + ") or a superuser"
}
