package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
)

// A snapshot's check that the tracking triggers fire always says how they
// are now, not how they were in between: DISABLE TRIGGER, writes, then
// ENABLE ALWAYS TRIGGER (or ENABLE REPLICA TRIGGER, writes under
// session_replication_role = replica, then ENABLE ALWAYS again) leaves them
// as Persist made them, and the writes unstamped. Every such ALTER, and
// every CREATE OR REPLACE of their functions, writes a new version of the
// catalog row, with its transaction's id in xmin (kept through VACUUM FULL
// and by a savepoint's ALTER too, which a snapshot's list of transactions
// in progress would not name). A cursor carries a digest of those
// versions, and a delta is refused unless they are still the same.

// triggersVersionQuery lists the tracking triggers' and their functions'
// row versions, then those of Persist's own columns and their defaults.
// The function a delta asks for outright deletes is in it too: replaced by
// one that finds none, it would hide them. It is found by $2, its name in
// the tables' schema, as the delta calls it. Every operator is given the
// exact types of pg_catalog's (an oid, not a regclass; text, not a name):
// another schema's on exactly the types given would answer in its place.
//
// The chg checks' rows are in it too: dropped, then made again, they
// would let an INSERT naming chg by meanwhile. The catalog rows of the
// tables the triggers log into are not: a GRANT on them, which deploys
// repeat, writes a new version too (snapshot.logsAsMade checks them as
// they are).
//
// A column's row changes with ALTER TABLE … ALTER COLUMN … TYPE, which
// rewrites every row without a trigger firing (a USING to the same type
// too), and with SET or DROP DEFAULT on chg, whose default stamps every
// insert. A column added beside them is not Persist's and changes nothing.
const triggersVersionQuery = `SELECT coalesce(pg_catalog.string_agg(g.tgrelid::pg_catalog.regclass::pg_catalog.text || '.' || g.tgname::pg_catalog.text
			|| ' ' || g.xmin::pg_catalog.text || ' ' || p.xmin::pg_catalog.text,
		',' ORDER BY g.tgrelid::pg_catalog.regclass::pg_catalog.text, g.tgname), '')
		|| ' ' || coalesce((SELECT xmin::pg_catalog.text FROM pg_catalog.pg_proc
			WHERE oid = pg_catalog.to_regprocedure($2)::pg_catalog.oid), ''),
		(SELECT coalesce(pg_catalog.string_agg(a.attrelid::pg_catalog.regclass::pg_catalog.text || '.' || a.attname::pg_catalog.text
				|| ' ' || a.xmin::pg_catalog.text || ' ' || coalesce(d.xmin::pg_catalog.text, ''),
			',' ORDER BY a.attrelid::pg_catalog.regclass::pg_catalog.text, a.attname), '')
			FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE a.attrelid IN (pg_catalog.to_regclass('persist_records')::pg_catalog.oid,
					pg_catalog.to_regclass('persist_events')::pg_catalog.oid)
				AND a.attname = ANY ($3::pg_catalog.name[]) AND NOT a.attisdropped),
		(SELECT coalesce(pg_catalog.string_agg(k.conrelid::pg_catalog.regclass::pg_catalog.text || '.' || k.conname::pg_catalog.text
				|| ' ' || k.xmin::pg_catalog.text,
			',' ORDER BY k.conrelid::pg_catalog.regclass::pg_catalog.text, k.conname), '')
			FROM pg_catalog.pg_constraint k
			WHERE k.conrelid IN (pg_catalog.to_regclass('persist_records')::pg_catalog.oid,
					pg_catalog.to_regclass('persist_events')::pg_catalog.oid)
				AND k.conname = ANY ($4::pg_catalog.name[]))
	FROM pg_catalog.pg_trigger g LEFT JOIN pg_catalog.pg_proc p ON p.oid = g.tgfoid
	WHERE g.tgrelid IN (pg_catalog.to_regclass('persist_records')::pg_catalog.oid,
			pg_catalog.to_regclass('persist_events')::pg_catalog.oid)
		AND g.tgname = ANY ($1::pg_catalog.name[])`

// ownColumns are the columns of persist_records and persist_events that
// Persist reads and writes (both tables' names together).
var ownColumns = []string{"store", "collection", "key", "version", "updated_at", "deleted", "value",
	"stream", "seq", "type", "at", "data", "chg"}

// triggersLen is the length of a triggers' version, in hex digits.
const triggersLen = 16

// triggersVersion is a digest of the tracking triggers', Persist's
// columns' and the chg checks' row versions; removedSince is persist_removed_since's name
// (snapshot.removedSince). legacy are the digests earlier releases put in
// their cursors: such a cursor is told apart, and refused for what it
// cannot show.
func triggersVersion(ctx context.Context, q querier, removedSince string) (version string, legacy legacyDigests, err error) {
	var triggers, columns, checks string
	fn := removedSince + "(text, bigint, bigint, bigint[])"
	names := []string{chgCheckName("persist_records"), chgCheckName("persist_events")}
	if err := q.QueryRowContext(ctx, triggersVersionQuery, pq.Array(trackedTriggers), fn, pq.Array(ownColumns), pq.Array(names)).Scan(&triggers, &columns, &checks); err != nil {
		return "", legacy, err
	}
	return digest(triggers + " " + columns + " " + checks), legacyDigests{digest(triggers), digest(triggers + " " + columns)}, nil
}

// legacyDigests are the digests of the same catalog that earlier releases
// put in their cursors: of the triggers alone, then of the triggers and the
// columns (before the chg checks).
type legacyDigests struct{ triggers, columns string }

func digest(rows string) string {
	sum := sha256.Sum256([]byte(rows))
	return hex.EncodeToString(sum[:triggersLen/2])
}

// checkTriggers refuses a delta from a cursor whose snapshot saw the
// tracking triggers in another version than this one's. A cursor of a
// version 2 store (no history entry, mark) is taken as it was, as
// checkMark takes it.
func (s *snapshot) checkTriggers(cursor pgPos, mark adapters.Mark) error {
	switch {
	case cursor.triggers == s.pos.triggers, cursor.triggers == "" && mark.Token == "":
		return nil
	case cursor.triggers == "":
		return fmt.Errorf("store %q: %w: it does not carry the version of the change-tracking triggers (a cursor of an earlier release), "+
			"so it cannot show they stayed on since", s.store, adapters.ErrCursor)
	case cursor.triggers == s.legacy.triggers:
		return fmt.Errorf("store %q: %w: it carries the version of the change-tracking triggers but not of the tables' columns "+
			"(a cursor of an earlier release), so it cannot show that no ALTER TABLE … ALTER COLUMN rewrote rows since without a trigger", s.store, adapters.ErrCursor)
	case cursor.triggers == s.legacy.columns:
		return fmt.Errorf("store %q: %w: it carries the versions of the change-tracking triggers and the tables' columns but not of the chg checks "+
			"(a cursor of an earlier release, from before them), so it cannot show that no INSERT named a chg of its own since", s.store, adapters.ErrCursor)
	}
	return fmt.Errorf("store %q: %w: the change-tracking triggers, their functions, the tables' columns or chg checks changed in the catalog since the cursor "+
		"(triggers turned off and on again with ALTER TABLE … DISABLE/ENABLE TRIGGER, replaced, given another owner or other grants; "+
		"a column's type or chg's default altered, which changes rows without a trigger; a chg check dropped or made again; or the database restored), "+
		"so changes made meanwhile may have gone unrecorded", s.store, adapters.ErrCursor)
}
