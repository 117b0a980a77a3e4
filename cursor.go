package persist

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

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
	// ErrScanning: a call on a Source while its Items loop runs.
	ErrScanning = adapters.ErrScanning
	// ErrCommitUnknown: the connection to the database was lost while a
	// write's COMMIT was under way, and the database could not be asked
	// whether it took effect. The write is not retried (it may be there
	// already): read it back before writing it again.
	ErrCommitUnknown = adapters.ErrCommitUnknown
)

// UpgradeResult is what Upgrade did.
type UpgradeResult struct {
	From, To int // the schema's versions before and after (0: there was none)
	// Repaired: the schema was at this release's version, but its change
	// tracking had been turned off by hand (a trigger dropped or
	// disabled). Upgrade made it whole and started a new history, so every
	// cursor from before is refused: the next dump of each store in the
	// database must be a full one.
	Repaired bool
	// Refreshed: the schema was at this release's version, with change
	// tracking an earlier release made; it is this release's now. On
	// PostgreSQL every cursor from before is refused: the next dump of
	// each store in the database must be a full one.
	Refreshed bool
}

// Upgrade brings the Persist schema of the database at loc to this
// release's version in place, in one transaction, without rewriting its
// rows (version 2 added change tracking, which cursors need), and repairs
// change tracking turned off by hand. From is 0 when the database holds no
// Persist schema, which Upgrade does not create. A writer of this release
// upgrades a database on its first write, too (but does not repair).
//
// The upgrade is of the whole database; a loc that names a store (#NAME)
// must name one the database holds, or nothing is done and the error wraps
// ErrNoStore: a mistyped name must not pass for an upgrade of its store.
func Upgrade(ctx context.Context, loc string) (_ UpgradeResult, err error) {
	defer ofContext(ctx, &err)
	l, err := location.Parse(loc, false)
	if err != nil {
		return UpgradeResult{}, err
	}
	if !l.IsStore() {
		return UpgradeResult{}, fmt.Errorf("%w: %s is a stream, not a database", ErrLocation, l)
	}
	if l.Driver.Sniff != nil {
		// A database in a file: a writer would make a missing one, and
		// there would be nothing to upgrade.
		if _, err := os.Stat(l.Target); err != nil {
			return UpgradeResult{}, fmt.Errorf("%s: %w", l, err)
		}
	}
	a, err := location.Open(ctx, l, false)
	if err != nil {
		return UpgradeResult{}, err
	}
	defer a.Close()
	if err := holdsStore(ctx, a, l); err != nil {
		return UpgradeResult{}, err
	}
	u, err := a.Upgrade(ctx)
	r := UpgradeResult{From: u.From, To: u.To, Repaired: u.Repaired, Refreshed: u.Refreshed}
	if err != nil {
		return r, fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
	}
	return r, nil
}

// holdsStore refuses a location naming a store its database does not hold,
// when it holds any: one that holds none has no schema to upgrade, which
// Upgrade reports itself.
func holdsStore(ctx context.Context, a adapters.Adapter, l location.Location) error {
	if l.Store == "" {
		return nil
	}
	names, err := a.Stores(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
	}
	if len(names) == 0 || slices.Contains(names, l.Store) {
		return nil
	}
	return fmt.Errorf("%s: %w %q; it holds %s", l, ErrNoStore, l.Store, strings.Join(names, ", "))
}
