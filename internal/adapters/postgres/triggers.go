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
// one that finds none, it would hide them.
const triggersVersionQuery = `SELECT coalesce(string_agg(g.tgrelid::regclass::text || '.' || g.tgname || ' ' || g.xmin::text || ' ' || p.xmin::text,
		',' ORDER BY g.tgrelid::regclass::text, g.tgname), '')
		|| ' ' || coalesce((SELECT xmin::text FROM pg_proc WHERE oid = to_regprocedure('persist_removed_since(text, bigint, bigint, bigint[])')), '')
	FROM pg_trigger g LEFT JOIN pg_proc p ON p.oid = g.tgfoid
	WHERE g.tgrelid IN (to_regclass('persist_records'), to_regclass('persist_events')) AND g.tgname = ANY ($1)`

// triggersLen is the length of a triggers' version, in hex digits.
const triggersLen = 16

// triggersVersion is a digest of the tracking triggers' row versions.
func triggersVersion(ctx context.Context, q querier) (string, error) {
	var rows string
	if err := q.QueryRowContext(ctx, triggersVersionQuery, pq.Array(trackedTriggers)).Scan(&rows); err != nil {
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
