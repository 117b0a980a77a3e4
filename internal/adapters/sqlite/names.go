package sqlite

import (
	"context"

	"github.com/cuitty/persist/internal/adapters"
)

// Names reads each table's primary key in order, so the groups come sorted.
func (s *snapshot) Names(ctx context.Context) (collections, streams []adapters.NameCount, err error) {
	if err := s.busy(); err != nil {
		return nil, nil, err
	}
	return adapters.ReadNames(ctx, s.tx, s.store,
		`SELECT collection, count(*), sum(deleted) FROM persist_records WHERE store = ? GROUP BY collection ORDER BY collection`,
		`SELECT stream, count(*), 0 FROM persist_events WHERE store = ? GROUP BY stream ORDER BY stream`)
}
