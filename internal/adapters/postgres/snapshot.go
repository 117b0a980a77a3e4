package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Snapshot opens a READ ONLY REPEATABLE READ transaction on a connection of
// its own: every read through it sees one instant, and it needs nothing but
// SELECT. The transaction lives until Close, not until ctx ends, so a caller
// may open it under a short deadline and scan it under another.
func (a *Adapter) Snapshot(ctx context.Context, store string) (adapters.Snapshot, error) {
	if textProblem(store) != "" {
		// No such name can be stored, so no such store exists.
		return nil, fmt.Errorf("store %q: %w", store, adapters.ErrNoStore)
	}
	conn, err := a.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.Explain(err))
	}
	state, err := readServerState(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.Explain(err))
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot of store %q: %w", store, a.lost(err, state))
	}
	s := &snapshot{a: a, conn: conn, tx: tx, store: store, state: state}
	if err := s.exists(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

type snapshot struct {
	a     *Adapter
	conn  *sql.Conn
	tx    *sql.Tx
	store string
	state serverState // when the snapshot began, to tell why it was lost
}

func (s *snapshot) exists(ctx context.Context) error {
	var found bool
	err := s.tx.QueryRowContext(ctx, `SELECT to_regclass('persist_stores') IS NOT NULL`).Scan(&found)
	if err == nil && found {
		err = s.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM persist_stores WHERE name = $1)`, s.store).Scan(&found)
	}
	if err != nil {
		return fmt.Errorf("snapshot of store %q: %w", s.store, s.a.lost(err, s.state))
	}
	if !found {
		return fmt.Errorf("store %q: %w", s.store, adapters.ErrNoStore)
	}
	return nil
}

func (s *snapshot) Count(ctx context.Context, f adapters.Filter) (records, events int64, err error) {
	records, events, err = count(ctx, s.tx, s.store, f)
	if err != nil {
		err = s.a.lost(err, s.state)
	}
	return records, events, err
}

// Scan reads the snapshot. An error of fn is returned as it is; the
// database's own are said in plain words (a dump's stdout closed early is
// a broken pipe, not a lost connection).
func (s *snapshot) Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error {
	var fnErr error
	err := scan(ctx, s.tx, s.store, f, func(it *record.Item) error {
		fnErr = fn(it)
		return fnErr
	})
	if err != nil && fnErr == nil {
		err = s.a.lost(err, s.state)
	}
	return err
}

// Close ends the read-only transaction; there is nothing to commit.
func (s *snapshot) Close() error {
	err := s.tx.Rollback()
	// A read-only transaction whose connection was lost (lib/pq gives up
	// a connection whose query a context cancelled) is over all the same.
	if err == sql.ErrTxDone || (err != nil && isConnLoss(err)) {
		err = nil
	}
	if cerr := s.conn.Close(); err == nil && cerr != sql.ErrConnDone {
		err = cerr
	}
	return err
}
