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
// row versions.
// The function a delta asks for outright deletes is in it too: replaced by
// one that finds none, it would hide them. It is found by $2, its name in
// the tables' schema, as the delta calls it. Every operator is given the
// exact types of pg_catalog's (an oid, not a regclass; text, not a name):
// another schema's on exactly the types given would answer in its place.
const triggersVersionQuery = `SELECT coalesce(pg_catalog.string_agg(g.tgrelid::pg_catalog.regclass::pg_catalog.text || '.' || g.tgname::pg_catalog.text
			|| ' ' || g.xmin::pg_catalog.text || ' ' || p.xmin::pg_catalog.text,
		',' ORDER BY g.tgrelid::pg_catalog.regclass::pg_catalog.text, g.tgname), '')
		|| ' ' || coalesce((SELECT xmin::pg_catalog.text FROM pg_catalog.pg_proc
			WHERE oid = pg_catalog.to_regprocedure($2)::pg_catalog.oid), '')
	FROM pg_catalog.pg_trigger g LEFT JOIN pg_catalog.pg_proc p ON p.oid = g.tgfoid
	WHERE g.tgrelid IN (pg_catalog.to_regclass('persist_records')::pg_catalog.oid,
			pg_catalog.to_regclass('persist_events')::pg_catalog.oid)
		AND g.tgname = ANY ($1::pg_catalog.name[])`

// triggersLen is the length of a triggers' version, in hex digits.
const triggersLen = 16

// triggersVersion is a digest of the tracking triggers' row versions;
// removedSince is persist_removed_since's name (snapshot.removedSince).
func triggersVersion(ctx context.Context, q querier, removedSince string) (string, error) {
	var rows string
	fn := removedSince + "(text, bigint, bigint, bigint[])"
	if err := q.QueryRowContext(ctx, triggersVersionQuery, pq.Array(trackedTriggers), fn).Scan(&rows); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(rows))
	return hex.EncodeToString(sum[:triggersLen/2]), nil
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
	}
	return fmt.Errorf("store %q: %w: the change-tracking triggers or their functions changed in the catalog since the cursor "+
		"(turned off and on again with ALTER TABLE … DISABLE/ENABLE TRIGGER, replaced, given another owner or other grants, or "+
		"the database restored), so changes made meanwhile may have gone unrecorded", s.store, adapters.ErrCursor)
}
