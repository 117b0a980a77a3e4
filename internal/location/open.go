package location

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/postgres"
	"github.com/cuitty/persist/internal/adapters/sqlite"
)

// ErrStore is wrapped when a location's store cannot be decided.
var ErrStore = errors.New("cannot tell which store")

// Open opens the database a store location names. Readers pass readOnly,
// so that nothing is ever written (SQLite is opened read-only, and a missing
// file is an error rather than a new empty database).
func Open(ctx context.Context, l Location, readOnly bool) (adapters.Adapter, error) {
	switch l.Kind {
	case SQLite:
		if readOnly {
			if _, err := os.Stat(l.Target); err != nil {
				return nil, fmt.Errorf("%s: %w", l, err)
			}
		}
		a, err := sqlite.Open(l.Target, sqlite.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l, err)
		}
		return a, nil
	case Postgres:
		a, err := postgres.Open(l.Target, postgres.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, fmt.Errorf("%s: %s", l, Scrub(err.Error(), l.Raw))
		}
		return a, nil
	}
	return nil, fmt.Errorf("%w: %s is a stream, not a store", ErrLocation, l)
}

// Store decides which store of a location is meant: the #NAME suffix or the
// --store flag (which must agree), else the only store the database holds.
// fallback (a stream header's store name, say) is used by writers when the
// database holds none yet; readers pass "".
func Store(ctx context.Context, a adapters.Adapter, l Location, flag, fallback string) (string, error) {
	switch {
	case l.Store != "" && flag != "" && l.Store != flag:
		return "", fmt.Errorf("%w: %s names store %q but --store says %q", ErrStore, l, l.Store, flag)
	case l.Store != "":
		return l.Store, nil
	case flag != "":
		return flag, nil
	}
	names, err := a.Stores(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %s", l, Scrub(err.Error(), l.Raw))
	}
	switch {
	case len(names) == 1:
		return names[0], nil
	case len(names) == 0 && fallback != "":
		return fallback, nil
	case len(names) == 0:
		return "", fmt.Errorf("%w: %s holds no store; name one with %s#NAME or --store NAME", ErrStore, l, l)
	}
	return "", fmt.Errorf("%w: %s holds %d stores (%s); pick one with %s#NAME or --store NAME",
		ErrStore, l, len(names), strings.Join(names, ", "), l)
}
