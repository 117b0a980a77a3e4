package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaVersion is the version of the tables below, kept in persist_meta so
// that a later release can recognise and migrate them.
const schemaVersion = "1"

// ErrSchemaVersion is returned when the file holds a Persist schema of a
// version this release does not know.
var ErrSchemaVersion = errors.New("unsupported persist schema version")

// ddl creates the schema in docs/format.md. Text columns use the BINARY collation
// (SQLite's default), so the primary keys order strings bytewise, and the
// tables are WITHOUT ROWID so that the primary key is the table's own order:
// a dump reads the table in order instead of sorting it.
var ddl = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID`,
	`INSERT INTO persist_meta (key, value) VALUES ('schema_version', '` + schemaVersion + `')
		ON CONFLICT (key) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       TEXT PRIMARY KEY,
		created_at TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      TEXT NOT NULL,
		collection TEXT NOT NULL,
		key        TEXT NOT NULL,
		version    INTEGER NOT NULL CHECK (version >= 1),
		updated_at TEXT NOT NULL,
		deleted    INTEGER NOT NULL,
		value      TEXT,
		PRIMARY KEY (store, collection, key)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  TEXT NOT NULL,
		stream TEXT NOT NULL,
		seq    INTEGER NOT NULL CHECK (seq >= 1),
		type   TEXT NOT NULL,
		at     TEXT NOT NULL,
		data   TEXT,
		PRIMARY KEY (store, stream, seq)
	) WITHOUT ROWID`,
}

// ensureSchema creates the schema in its own transaction, once per adapter.
func (a *Adapter) ensureSchema(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.schemaOK {
		return nil
	}
	tx, err := a.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if err := checkVersion(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	a.schemaOK = true
	return nil
}

// hasSchema reports whether the database holds the Persist schema (at a
// version this release reads), without creating anything.
func hasSchema(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE type = 'table' AND name IN ('persist_meta', 'persist_stores')`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read schema: %w", err)
	}
	switch n {
	case 0:
		return false, nil
	case 1:
		return false, fmt.Errorf("read schema: persist_meta or persist_stores is missing: %w", ErrSchemaVersion)
	}
	return true, checkVersion(ctx, tx)
}

func checkVersion(ctx context.Context, tx *sql.Tx) error {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key = 'schema_version'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read schema: persist_meta has no schema_version: %w", ErrSchemaVersion)
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v != schemaVersion {
		return fmt.Errorf("schema version %q, this release reads %s: %w", v, schemaVersion, ErrSchemaVersion)
	}
	return nil
}

// now is a store's created_at: canonical RFC 3339, like every stored time.
func now() string {
	return time.Now().UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}
