package postgres

import (
	"context"

	"github.com/cuitty/persist/internal/adapters"
)

// Names groups by the COLLATE "C" columns, so the order is bytewise.
func (s *snapshot) Names(ctx context.Context) (collections, streams []adapters.NameCount, err error) {
	if err := s.busy(); err != nil {
		return nil, nil, err
	}
	return adapters.ReadNames(ctx, s.tx, s.store,
		`SELECT collection, count(*), count(*) FILTER (WHERE deleted) FROM persist_records WHERE store = $1 GROUP BY collection ORDER BY collection`,
		`SELECT stream, count(*), 0 FROM persist_events WHERE store = $1 GROUP BY stream ORDER BY stream`)
}
