package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// A snapshot's check that the tracking triggers are there says how they
// are now, not how they were in between: DROP TRIGGER, writes, then the
// same CREATE TRIGGER again leaves them as Persist made them, and the
// writes unstamped. SQLite bumps the file's schema cookie (PRAGMA
// schema_version) with every change to its schema, so a cursor of a store
// at schema version 3 carries the cookie its snapshot saw, and a delta is
// refused unless the file's is still the same. VACUUM bumps it too: a
// chain then starts again from a full dump.

// schemaStepKey is persist_meta's note of the last change refresh made to
// the schema: the cookie before it and after, "FROM TO".
const schemaStepKey = "schema_step"

// schemaCookie is the file's schema cookie as q's transaction sees it.
func schemaCookie(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT schema_version FROM pragma_schema_version`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return n, nil
}

// cursorPos is a SQLite cursor's position, CLOCK[:COOKIE]: the change
// counter the snapshot saw and, at schema version 3, the schema cookie.
type cursorPos struct {
	clock, cookie int64
	hasCookie     bool
}

func (p cursorPos) String() string {
	s := strconv.FormatInt(p.clock, 10)
	if p.hasCookie {
		s += ":" + strconv.FormatInt(p.cookie, 10)
	}
	return s
}

func parsePos(s string) (cursorPos, error) {
	clock, cookie, has := strings.Cut(s, ":")
	p := cursorPos{hasCookie: has}
	var err error
	if p.clock, err = strconv.ParseInt(clock, 10, 64); err != nil || p.clock < 0 {
		return p, fmt.Errorf("%w: %q is not a SQLite position", adapters.ErrCursor, s)
	}
	if has {
		if p.cookie, err = strconv.ParseInt(cookie, 10, 64); err != nil {
			return p, fmt.Errorf("%w: %q is not a SQLite position", adapters.ErrCursor, s)
		}
	}
	return p, nil
}

// newChain is the hint of a cursor refused for the file's schema.
const newChain = "take a full dump to start a new chain (a dump without --since; with --cursor-file, remove the cursor file first): " +
	"any change to the file's schema ends a chain, as a trigger dropped or made, VACUUM, or a Persist upgrade or repair do"

// checkCookie refuses a delta from a cursor whose snapshot saw another
// schema cookie than this one's, unless refresh made the one step between
// them. A cursor of a version 2 store (no cookie, no mark) is taken as it
// was, as checkMark takes it; one of an earlier release (a mark, no
// cookie) is refused, once.
func (s *snapshot) checkCookie(ctx context.Context, p cursorPos, m adapters.Mark) error {
	switch {
	case !p.hasCookie && m.Token == "":
		return nil
	case !p.hasCookie:
		return hint.With(fmt.Errorf("store %q: %w: it does not carry the file's schema version (a cursor of an earlier release), "+
			"so it cannot show that the change-tracking triggers stayed in place since", s.store, adapters.ErrCursor), newChain)
	}
	now, err := schemaCookie(ctx, s.tx)
	if err != nil || now == p.cookie {
		return err
	}
	var step string
	err = s.tx.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key = ?`, schemaStepKey).Scan(&step)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store %q: read persist_meta: %w", s.store, err)
	}
	if step == fmt.Sprintf("%d %d", p.cookie, now) {
		return nil
	}
	return hint.With(fmt.Errorf("store %q: %w: the file's schema changed since the cursor (PRAGMA schema_version %d, the cursor's %d): "+
		"a trigger dropped and made again, a table or index changed, or VACUUM, so changes made meanwhile may have gone unrecorded",
		s.store, adapters.ErrCursor, now, p.cookie), newChain)
}

// ownTriggerSQL is the SQL of each of Persist's triggers as this release
// makes it.
func ownTriggerSQL() (map[string]string, error) {
	ours, err := ownSchema()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ownTriggers))
	for _, name := range ownTriggers {
		def := ours["trigger "+name]
		i := strings.Index(def, "CREATE TRIGGER")
		if i < 0 {
			return nil, fmt.Errorf("trigger %s is missing from this release's schema", name)
		}
		out[name] = def[i:]
	}
	return out, nil
}
