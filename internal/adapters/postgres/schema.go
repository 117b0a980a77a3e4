package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// schemaVersion is the version of the tables below, kept in persist_meta so
// that a later release can tell what it finds and migrate it.
const schemaVersion = 1

// schemaLock is the pg_advisory_xact_lock key that serialises schema creation
// between processes: concurrent CREATE TABLE IF NOT EXISTS can otherwise fail
// on the catalog's unique indexes. It is "persist1" read as a big-endian int64.
const schemaLock int64 = 0x7065727369737431

var schemaDDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   text COLLATE "C" PRIMARY KEY,
		value text NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       text COLLATE "C" PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      text COLLATE "C",
		collection text COLLATE "C",
		key        text COLLATE "C",
		version    bigint NOT NULL CHECK (version >= 1),
		updated_at timestamptz NOT NULL,
		deleted    boolean NOT NULL,
		value      jsonb,
		PRIMARY KEY (store, collection, key))`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  text COLLATE "C",
		stream text COLLATE "C",
		seq    bigint CHECK (seq >= 1),
		type   text NOT NULL,
		at     timestamptz NOT NULL,
		data   jsonb,
		PRIMARY KEY (store, stream, seq))`,
	`INSERT INTO persist_meta (key, value) VALUES ('schema_version', '` + strconv.Itoa(schemaVersion) + `')
		ON CONFLICT (key) DO NOTHING`,
}

// ensureSchema creates the tables once per Adapter, in a transaction of its
// own. When they exist at the current version it runs no DDL at all, so a
// role with only DML privileges can write to a prepared database.
func (a *Adapter) ensureSchema(ctx context.Context) error {
	a.schemaMu.Lock()
	defer a.schemaMu.Unlock()
	if a.schemaReady {
		return nil
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()

	v, err := storedVersion(ctx, tx)
	if err != nil {
		return err
	}
	if v != schemaVersion {
		var enc string
		if err := tx.QueryRowContext(ctx, `SHOW server_encoding`).Scan(&enc); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if enc != "UTF8" {
			return fmt.Errorf("create schema: the database's encoding is %s; Persist needs a UTF8 database", enc)
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLock); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		// Another process may have created it while this one waited.
		if v, err = storedVersion(ctx, tx); err != nil {
			return err
		}
	}
	if v > schemaVersion {
		return fmt.Errorf("the database's Persist schema is version %d; this release knows up to version %d: upgrade Persist",
			v, schemaVersion)
	}
	if v < schemaVersion {
		for _, q := range schemaDDL {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	a.schemaReady = true
	return nil
}

// storedVersion is the schema version persist_meta records; 0 when absent.
func storedVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass('persist_meta') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var s string
	err := tx.QueryRowContext(ctx, `SELECT value FROM persist_meta WHERE key = 'schema_version'`).Scan(&s)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("read schema version: persist_meta holds %q", s)
	}
	return v, nil
}
