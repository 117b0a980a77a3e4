package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// Querier is what the SQL adapters read names through.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadNames runs the two queries of Snapshot.Names: each selects a name and
// counts, in order, for the store bound as the only argument.
func ReadNames(ctx context.Context, q Querier, store, collectionsSQL, streamsSQL string) (collections, streams []NameCount, err error) {
	if collections, err = readNames(ctx, q, store, collectionsSQL); err != nil {
		return nil, nil, fmt.Errorf("list collections: %w", err)
	}
	if streams, err = readNames(ctx, q, store, streamsSQL); err != nil {
		return nil, nil, fmt.Errorf("list streams: %w", err)
	}
	return collections, streams, nil
}

func readNames(ctx context.Context, q Querier, store, query string) ([]NameCount, error) {
	rows, err := q.QueryContext(ctx, query, store)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NameCount
	for rows.Next() {
		var n NameCount
		if err := rows.Scan(&n.Name, &n.Count, &n.Deleted); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ErrTombstoneValue is wrapped when a stored row is a tombstone (deleted)
// that holds a value: Persist never writes one, so which of the two is
// wrong cannot be told, and the value must not be silently dropped.
var ErrTombstoneValue = errors.New("a tombstone holds a value")

// TombstoneValue is the error for such a row, with a hint that mends it
// in the table the adapter names and the column it marks deletion with.
func TombstoneValue(it *record.Item, deleted, fix string) error {
	return hint.With(fmt.Errorf("record %q/%q: %w (deleted = %s, value not NULL; was the table edited outside Persist?)", it.Collection, it.Key, ErrTombstoneValue, deleted),
		"a deleted record has no value: if the record is deleted, clear it: %s; if it is live, set deleted to false on its row instead", fix)
}
