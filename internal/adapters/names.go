package adapters

import (
	"context"
	"database/sql"
	"fmt"
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
