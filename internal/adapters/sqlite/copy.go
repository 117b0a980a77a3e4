package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
)

var _ adapters.Copier = (*Adapter)(nil)

// copyPages is how many pages one step of the backup copies (16 MiB of
// 4 KiB pages) before it looks at the context again.
const copyPages = 4096

// ownObjects are the schema's tables and indexes (schema.go); with
// ownTriggers and SQLite's own (sqlite_…), all a database that Copy takes
// may hold.
var ownObjects = []string{"persist_meta", "persist_stores", "persist_records", "persist_events",
	"persist_clock", "persist_history", "persist_removals", "persist_sources",
	"persist_records_chg", "persist_events_chg"}

// Copy copies the snapshot's pages with SQLite's backup, on the
// snapshot's own connection: a backup from a connection in a read
// transaction copies what that transaction sees, write-ahead log
// included, so the copy is the snapshot, every byte of every row as
// stored. Then the copy is given an identity and a history of its own.
// It costs about what writing the file costs, where loading the rows
// builds every page of both tables anew.
func (a *Adapter) Copy(ctx context.Context, snap adapters.Snapshot, target string) error {
	s, ok := snap.(*snapshot)
	if !ok {
		return fmt.Errorf("copy: %w: not a snapshot of a SQLite store", adapters.ErrNoCopy)
	}
	if err := s.copyable(ctx); err != nil {
		return fmt.Errorf("copy store %q: %w", s.store, err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copy store %q to %s: %w", s.store, target, fs.ErrExist)
	}
	err := s.backup(ctx, target)
	if err == nil {
		err = own(ctx, target)
	}
	if err != nil {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(target + suffix)
		}
		return fmt.Errorf("copy store %q to %s: %w", s.store, target, err)
	}
	return nil
}

// copyable refuses (ErrNoCopy) a database that holds more than the
// snapshot's store, or that is not at this release's schema: a copy of
// the file would carry the rest along, or an upgrade still to be made.
func (s *snapshot) copyable(ctx context.Context) error {
	if s.version != schemaVersion {
		return fmt.Errorf("%w: schema version %d", adapters.ErrNoCopy, s.version)
	}
	var stores, others, meta int
	err := s.tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM persist_stores),
		(SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
			AND name NOT IN ('`+strings.Join(append(ownObjects, ownTriggers...), "', '")+`')),
		(SELECT count(*) FROM persist_meta WHERE key NOT IN ('id', 'schema_version'))`).Scan(&stores, &others, &meta)
	switch {
	case err != nil:
		return fmt.Errorf("read the schema: %w", err)
	case stores != 1:
		return fmt.Errorf("%w: %d stores", adapters.ErrNoCopy, stores)
	case others != 0:
		return fmt.Errorf("%w: %d tables, indexes, views or triggers of its own", adapters.ErrNoCopy, others)
	case meta != 0:
		return fmt.Errorf("%w: persist_meta holds more than Persist's keys", adapters.ErrNoCopy)
	}
	return nil
}

// backup copies the snapshot's pages into a new file. The file is the
// caller's to publish or remove, so it is written without a journal or
// syncs; own's commit and checkpoint sync it.
func (s *snapshot) backup(ctx context.Context, target string) error {
	db, err := sql.Open("sqlite3", fileURI(target, "mode=rwc&_journal_mode=OFF&_synchronous=OFF&_mutex=no"))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		dst, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("%w: the driver is not go-sqlite3", adapters.ErrNoCopy)
		}
		return s.conn.Raw(func(sc any) error {
			src, ok := sc.(*sqlite3.SQLiteConn)
			if !ok {
				return fmt.Errorf("%w: the driver is not go-sqlite3", adapters.ErrNoCopy)
			}
			return stepBackup(ctx, dst, src)
		})
	})
}

func stepBackup(ctx context.Context, dst, src *sqlite3.SQLiteConn) error {
	b, err := dst.Backup("main", src, "main")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for {
		done, err := b.Step(copyPages)
		if err == nil && !done {
			err = ctx.Err()
		}
		if err != nil || done {
			if ferr := b.Finish(); err == nil {
				err = ferr
			}
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			return nil
		}
	}
}

// own makes the copy a database of its own, in one transaction: a new
// identity (so that no cursor of the original is taken for one of the
// copy's), a history that starts at the copy, and nothing of the
// original's removals or sources (the caller notes the one it was copied
// from). The store's created_at is the copy's, as a load's would be.
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
	var id [16]byte
	rand.Read(id[:])
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE persist_meta SET value = ? WHERE key = 'id'`, []any{hex.EncodeToString(id[:])}},
		{`DELETE FROM persist_history`, nil},
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
	return checkpoint(db)
}
