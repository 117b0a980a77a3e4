package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Stores lists the stores, reading through a read-only connection so that a
// database without the schema stays without it.
func (a *Adapter) Stores(ctx context.Context) ([]string, error) {
	tx, err := a.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	defer tx.Rollback()
	ok, err := hasSchema(ctx, tx)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM persist_stores ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	return names, nil
}

// Snapshot opens a read transaction on a connection of its own. SQLite
// starts a deferred transaction's read at its first statement, so the store
// lookup below is also what fixes the instant every later read sees.
func (a *Adapter) Snapshot(ctx context.Context, store string) (adapters.Snapshot, error) {
	tx, err := a.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("snapshot of store %q: %w", store, err)
	}
	ok, err := hasSchema(ctx, tx)
	if err == nil && ok {
		err = tx.QueryRowContext(ctx, "SELECT 1 FROM persist_stores WHERE name = ?", store).Scan(new(int))
		if errors.Is(err, sql.ErrNoRows) {
			ok = false
			err = nil
		}
	}
	if err == nil && !ok {
		err = adapters.ErrNoStore
	}
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, err)
	}
	return &snapshot{tx: tx, store: store}, nil
}

type snapshot struct {
	tx    *sql.Tx
	store string
}

func (s *snapshot) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	return count(ctx, s.tx, s.store, f)
}

func (s *snapshot) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	return scan(ctx, s.tx, s.store, f, fn)
}

// Close ends the read transaction; it only ever read, so rolling back loses
// nothing.
func (s *snapshot) Close() error {
	if err := s.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("close snapshot of store %q: %w", s.store, err)
	}
	return nil
}
