package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/cuitty/persist/internal/adapters"
)

var _ adapters.Copier = (*Adapter)(nil)

// Copy has SQLite write the database anew into target (VACUUM INTO):
// every page built from the rows the database holds, so that nothing it
// no longer holds (a deleted record's bytes in a free page or a page's
// unused space) comes along, at about what writing the file costs, where
// loading the rows takes several times that. VACUUM INTO reads in a
// transaction of its own, so the copy is then checked to be of the
// snapshot's instant: the counter and history entry it holds must be the
// snapshot's, or nothing is kept (ErrNoCopy: the store was written to
// meanwhile). Then the copy is given an identity and a history of its
// own.
func (a *Adapter) Copy(ctx context.Context, snap adapters.Snapshot, target string) error {
	s, ok := snap.(*snapshot)
	if !ok {
		return fmt.Errorf("copy: %w: not a snapshot of a SQLite store", adapters.ErrNoCopy)
	}
	if err := s.copyable(ctx); err != nil {
		return fmt.Errorf("copy store %q: %w", s.store, err)
	}
	switch _, err := os.Lstat(target); {
	case err == nil:
		return fmt.Errorf("copy store %q to %s: %w", s.store, target, fs.ErrExist)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("copy store %q to %s: %w", s.store, target, err)
	}
	err := a.vacuumInto(ctx, target)
	if err == nil {
		err = s.sameInstant(ctx, target)
	}
	if err == nil {
		err = own(ctx, target)
	}
	if err != nil {
		for _, f := range files(target) {
			os.Remove(f)
		}
		return fmt.Errorf("copy store %q to %s: %w", s.store, target, err)
	}
	return nil
}

// vacuumInto writes the database into target, reading on a connection
// of its own.
func (a *Adapter) vacuumInto(ctx context.Context, target string) error {
	conn, err := a.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, target); err != nil {
		return fmt.Errorf("VACUUM INTO: %w", notWritable(target, err, "make the copy in a directory this user may write to"))
	}
	return nil
}

// sameInstant checks that the copy at target holds the store as the
// snapshot sees it: the change counter and its history entry, which every
// write moves, are the snapshot's. (A write that went round the change
// tracking is caught by the caller's comparison of every item.)
func (s *snapshot) sameInstant(ctx context.Context, target string) error {
	_, clock, err := s.position(ctx)
	var want adapters.Mark
	if err == nil {
		want, err = s.mark(ctx, clock)
	}
	if errors.Is(err, adapters.ErrNoCursor) || errors.Is(err, adapters.ErrCursor) {
		// A store that cannot say where it stands (its tracking taken
		// apart) cannot be matched with the copy: the stream reads it.
		return fmt.Errorf("%w: %w", adapters.ErrNoCopy, err)
	}
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", fileURI(target, readerParams))
	if err != nil {
		return err
	}
	defer db.Close()
	var got adapters.Mark
	err = db.QueryRowContext(ctx, `SELECT c.chg, h.token FROM persist_clock c JOIN persist_history h ON h.chg = c.chg`).Scan(&got.N, &got.Token)
	if err != nil {
		return fmt.Errorf("read the copy's change counter: %w", err)
	}
	if got != want {
		return fmt.Errorf("%w: the store was written to while it was copied (change %d, the snapshot's %d)", adapters.ErrNoCopy, got.N, want.N)
	}
	return nil
}

// copyable refuses (ErrNoCopy) a database that holds more than the
// snapshot's store, or anything but this release's schema exactly: a copy
// of the file would carry the rest along (another store, an application's
// tables, a trigger of its own, even one that took the name of one of
// Persist's, the numbers an application keeps in the file's header), or an
// upgrade still to be made.
func (s *snapshot) copyable(ctx context.Context) error {
	if s.version != schemaVersion {
		return fmt.Errorf("%w: schema version %d", adapters.ErrNoCopy, s.version)
	}
	var stores, meta, user, app int64
	err := s.tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (`+storesSQL+`)),
		(SELECT count(*) FROM persist_meta WHERE key NOT IN ('id', 'schema_version', '`+schemaStepKey+`')),
		(SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)`).Scan(&stores, &meta, &user, &app)
	switch {
	case err != nil:
		return fmt.Errorf("read the schema: %w", err)
	case stores != 1:
		return fmt.Errorf("%w: %d stores", adapters.ErrNoCopy, stores)
	case meta != 0:
		return fmt.Errorf("%w: persist_meta holds more than Persist's keys", adapters.ErrNoCopy)
	case user != 0 || app != 0:
		return fmt.Errorf("%w: the file's header holds an application's numbers (user_version %d, application_id %d)", adapters.ErrNoCopy, user, app)
	}
	ours, err := ownSchema()
	if err != nil {
		return err
	}
	theirs, err := schemaOf(ctx, s.tx)
	if err != nil {
		return err
	}
	for name, sql := range theirs {
		if ours[name] != sql {
			return fmt.Errorf("%w: %s is not as this release makes it", adapters.ErrNoCopy, name)
		}
	}
	// A file made before countDDL lacks its indexes, and is copied as it
	// is: the copy is counted from its tables until a write adds them.
	optional := 0
	for _, name := range unstampedIndexes {
		if _, ok := theirs["index "+name]; !ok {
			optional++
		}
	}
	if len(theirs)+optional != len(ours) {
		return fmt.Errorf("%w: %d objects in the schema, this release's %d", adapters.ErrNoCopy, len(theirs), len(ours))
	}
	return nil
}

// schemaOf is what sqlite_master holds, SQLite's own objects aside: type
// and name (a trigger may take an index's name) → type, table and SQL.
func schemaOf(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]string, error) {
	return objects(ctx, q, "true")
}

// notSQLites leaves out SQLite's own objects: its tables (sqlite_sequence,
// sqlite_stat1…) and the indexes it makes for a primary key. A trigger or
// view named sqlite_… is someone's (PRAGMA writable_schema lets one be
// made), and stays in.
const notSQLites = `NOT (type = 'table' AND name LIKE 'sqlite\_%' ESCAPE '\')
		AND NOT (type = 'index' AND name LIKE 'sqlite\_autoindex\_%' ESCAPE '\')`

// objects is schemaOf of the objects where holds.
func objects(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, where string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT type || ' ' || name, type || ' ' || tbl_name || ' ' || coalesce(sql, '') FROM sqlite_master
		WHERE `+notSQLites+` AND (`+where+`)`)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, fmt.Errorf("read the schema: %w", err)
		}
		out[name] = def
	}
	return out, rows.Err()
}

var (
	ownOnce sync.Once
	ownDefs map[string]string
	ownErr  error
)

// ownSchema is schemaOf a database that this release's schema was just
// made in.
func ownSchema() (map[string]string, error) {
	ownOnce.Do(func() {
		db, err := sql.Open("sqlite3", "file:persist-schema?mode=memory")
		if err != nil {
			ownErr = err
			return
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		tx, err := db.Begin()
		if err == nil {
			defer tx.Rollback()
			err = upgrade(context.Background(), tx)
		}
		if err == nil {
			ownDefs, err = schemaOf(context.Background(), tx)
		}
		ownErr = err
	})
	return ownDefs, ownErr
}

// own makes the copy a database of its own, in one transaction: a new
// identity (so that no cursor of the original is taken for one of the
// copy's), a history that starts at the copy, and nothing of the
// original's removals, sources or schema step (the caller notes the
// source it was copied from). The store's created_at is the copy's, as a
// load's would be.
func own(ctx context.Context, target string) error {
	db, err := sql.Open("sqlite3", fileURI(target, writerParams))
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil || mode != "wal" {
		return fmt.Errorf("set WAL journal mode (got %q): %w", mode, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE persist_meta SET value = ? WHERE key = 'id'`, []any{newID()}},
		{`DELETE FROM persist_history`, nil},
		{`DELETE FROM persist_meta WHERE key = ?`, []any{schemaStepKey}},
		{`DELETE FROM persist_removals`, nil},
		{`DELETE FROM persist_sources`, nil},
		{`UPDATE persist_stores SET created_at = ?`, []any{now()}},
		{`UPDATE persist_clock SET chg = chg + 1, quiet = 0`, nil},
		{`INSERT INTO persist_history (chg, token) SELECT chg, ? FROM persist_clock`, []any{newToken()}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("make the copy its own: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("make the copy its own: %w", err)
	}
	return checkpoint(db, target)
}
