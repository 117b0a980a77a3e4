package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/hint"
)

// stagingQuery says what the session's staging tables carry that staging
// did not give them, NULL for nothing, and lists the event triggers that
// are enabled. The comparison of a batch with its staged rows stands for
// a comparison with what was sent only while the staged rows are as COPY
// sent them: a trigger or rule on a staging table (which an event trigger
// on CREATE TABLE can add, or code that a trigger of Persist's tables runs
// in its session) could change them the very way the tables' own trigger
// changes the batch, and the comparison would pass. Row security could
// hide staged rows from it, and another column type or table access method
// could change what is read.
const stagingQuery = `WITH s(name, i) AS (VALUES ('persist_stage_records', 1), ('persist_stage_events', 2),
		('persist_stage_parts', 3)),
	c AS (SELECT s.name, s.i, c.oid, c.relkind, c.relam, c.relhasrules, c.relrowsecurity FROM s
		LEFT JOIN pg_catalog.pg_class c ON c.relname = s.name::pg_catalog.name
			AND c.relnamespace = pg_catalog.pg_my_temp_schema()),
	cols(tab, col, typ, i) AS (VALUES
		('persist_stage_records', 'ord', 'bigint', 1), ('persist_stage_records', 'collection', 'text COLLATE "C"', 2),
		('persist_stage_records', 'key', 'text COLLATE "C"', 3), ('persist_stage_records', 'version', 'bigint', 4),
		('persist_stage_records', 'updated_at', 'timestamp with time zone', 5),
		('persist_stage_records', 'deleted', 'boolean', 6), ('persist_stage_records', 'value', 'jsonb', 7),
		('persist_stage_events', 'ord', 'bigint', 8), ('persist_stage_events', 'stream', 'text COLLATE "C"', 9),
		('persist_stage_events', 'seq', 'bigint', 10), ('persist_stage_events', 'type', 'text', 11),
		('persist_stage_events', 'at', 'timestamp with time zone', 12), ('persist_stage_events', 'data', 'jsonb', 13),
		('persist_stage_parts', 'ord', 'bigint', 14), ('persist_stage_parts', 'part', 'integer', 15),
		('persist_stage_parts', 'chunk', 'text', 16))
	SELECT coalesce(
		(SELECT pg_catalog.format('table %s is missing', name) FROM c WHERE oid IS NULL ORDER BY i LIMIT 1),
		(SELECT pg_catalog.format('trigger %s on %s', pg_catalog.quote_ident(g.tgname::pg_catalog.text), c.name)
			FROM c JOIN pg_catalog.pg_trigger g ON g.tgrelid = c.oid ORDER BY c.i, g.tgname LIMIT 1),
		(SELECT pg_catalog.format('rule %s on %s', pg_catalog.quote_ident(r.rulename::pg_catalog.text), c.name)
			FROM c JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid ORDER BY c.i, r.rulename LIMIT 1),
		(SELECT pg_catalog.format('%s has rules', name) FROM c WHERE relhasrules ORDER BY i LIMIT 1),
		(SELECT pg_catalog.format('%s has row security', name) FROM c WHERE relrowsecurity ORDER BY i LIMIT 1),
		(SELECT pg_catalog.format('%s is not a plain table', name) FROM c
			WHERE relkind <> 'r' OR relam IS DISTINCT FROM (SELECT oid FROM pg_catalog.pg_am WHERE amname = 'heap')
			ORDER BY i LIMIT 1),
		(SELECT pg_catalog.format('column %s.%s is %s, not %s', tab, col, coalesce(actual, 'missing'), typ) FROM (
			SELECT e.tab, e.col, e.typ, e.i, CASE WHEN a.attname IS NULL THEN NULL
					WHEN y.typnamespace = 'pg_catalog'::pg_catalog.regnamespace::pg_catalog.oid
					THEN pg_catalog.format_type(a.atttypid, a.atttypmod)
					ELSE pg_catalog.format('%I.%I', n.nspname, y.typname) END
				|| CASE WHEN a.attcollation = 'pg_catalog."C"'::pg_catalog.regcollation::pg_catalog.oid THEN ' COLLATE "C"'
					WHEN a.attcollation IN (0::pg_catalog.oid, 'pg_catalog.default'::pg_catalog.regcollation::pg_catalog.oid) THEN ''
					ELSE ' COLLATE ' || a.attcollation::pg_catalog.regcollation::pg_catalog.text END AS actual
			FROM cols e JOIN c ON c.name = e.tab
			LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = e.col::pg_catalog.name AND NOT a.attisdropped
			LEFT JOIN pg_catalog.pg_type y ON y.oid = a.atttypid
			LEFT JOIN pg_catalog.pg_namespace n ON n.oid = y.typnamespace) x
			WHERE actual IS DISTINCT FROM typ ORDER BY i LIMIT 1)),
	ARRAY(SELECT pg_catalog.quote_ident(evtname::pg_catalog.text) FROM pg_catalog.pg_event_trigger
		WHERE evtenabled <> 'D' ORDER BY evtname)`

// checkStaging refuses to compare a batch with staging tables that are
// not as staging made them (stagingQuery). It runs before every staged
// comparison, since code that runs in the session can change them at any
// time: once on first use would not see a trigger added by a later batch.
func (t *writeTx) checkStaging(ctx context.Context) error {
	var why *string
	var events []string
	if err := t.tx.QueryRowContext(ctx, stagingQuery).Scan(&why, (*pq.StringArray)(&events)); err != nil {
		return fmt.Errorf("read the staging tables' definitions: %w", err)
	}
	if why == nil {
		return nil
	}
	err := fmt.Errorf("the staging tables are not as Persist made them (%s), so a comparison with them could pass "+
		"where the rows differ from what was sent", *why)
	if len(events) > 0 {
		return hint.With(err, "an event trigger can change the tables Persist creates, as Persist creates them (enabled: %s): "+
			"disable it while Persist writes, as its owner (ALTER EVENT TRIGGER %s DISABLE), or drop it; if none of "+
			"them did this, a trigger or rule on the Persist tables ran code that did: drop that",
			strings.Join(events, ", "), strings.Join(events, " DISABLE; ALTER EVENT TRIGGER "))
	}
	return hint.With(err, "the staging tables are temporary, and only Persist's session sees them: a trigger or rule "+
		"on the Persist tables ran code that changed them; drop that trigger or rule")
}
