package sqlite

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
)

// Names reads each table's primary key in order, so the groups come sorted.
func (s *snapshot) Names(ctx context.Context) (collections, streams []adapters.NameCount, err error) {
	if err := s.busy(); err != nil {
		return nil, nil, err
	}
	collections, streams, err = adapters.ReadNames(ctx, s.tx, s.store,
		`SELECT collection, count(*), sum(deleted) FROM persist_records WHERE store = ? GROUP BY collection ORDER BY collection`,
		`SELECT stream, count(*), 0 FROM persist_events WHERE store = ? GROUP BY stream ORDER BY stream`)
	if err != nil {
		return nil, nil, err
	}
	if err := twice(collections, keyColumns[true][0]); err != nil {
		return nil, nil, err
	}
	if err := twice(streams, keyColumns[false][0]); err != nil {
		return nil, nil, err
	}
	return collections, streams, nil
}

// twice refuses a name listed twice: SQLite groups a name stored as a
// blob (or a number) apart from the same name stored as text, and a list
// with both would count one collection as two. Reading its rows is
// refused the same way (keyTypes).
func twice(names []adapters.NameCount, col keyColumn) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n.Name] {
			err := fmt.Errorf("%s %q: %w: some of its rows hold the %s as another type than %s (was the file edited outside Persist?)",
				col.name, n.Name, ErrKeyType, col.name, col.typ)
			return repairHint(err, col.table == "persist_records", col)
		}
		seen[n.Name] = true
	}
	return nil
}
