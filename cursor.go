package persist

import (
	"context"
	"fmt"
	"os"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/location"
)

// Errors of an incremental read (ReadOptions.Since). Each means that a
// delta from that cursor could not be trusted to hold every change; take a
// full dump instead.
var (
	// ErrNoCursor: the store's schema (version 1) does not track changes;
	// Upgrade it.
	ErrNoCursor = adapters.ErrNoCursor
	// ErrCursorAccess is wrapped with ErrNoCursor when the store tracks
	// changes but the role may not read its identity and history
	// (persist_meta, persist_history).
	ErrCursorAccess = adapters.ErrCursorAccess
	// ErrCursor: the cursor is not one this release reads, comes from
	// another store, or the store is behind it (restored from an older
	// backup).
	ErrCursor = adapters.ErrCursor
	// ErrUpgradeRights: the database's schema needs the upgrade to version
	// 2, which the connected role may not make; its owner runs Upgrade.
	ErrUpgradeRights = adapters.ErrUpgradeRights
	// ErrRemoved: records or events were deleted outright (not tombstoned)
	// since the cursor, which a delta cannot carry.
	ErrRemoved = adapters.ErrRemoved
)

// Upgrade brings the Persist schema of the database at loc to this
// release's version in place, in one transaction, without rewriting its
// rows (version 2 added change tracking, which cursors need). It returns
// the versions before and after; from is 0 when the database holds no
// Persist schema, which Upgrade does not create. A writer of this release
// upgrades a database on its first write, too.
func Upgrade(ctx context.Context, loc string) (from, to int, err error) {
	l, err := location.Parse(loc, false)
	if err != nil {
		return 0, 0, err
	}
	if !l.IsStore() {
		return 0, 0, fmt.Errorf("%w: %s is a stream, not a database", ErrLocation, l)
	}
	if l.Driver.Sniff != nil {
		// A database in a file: a writer would make a missing one, and
		// there would be nothing to upgrade.
		if _, err := os.Stat(l.Target); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", l, err)
		}
	}
	a, err := location.Open(ctx, l, false)
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	from, to, err = a.Upgrade(ctx)
	if err != nil {
		return from, to, fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
	}
	return from, to, nil
}
