package persist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// ErrVersionMismatch is wrapped by PutIf when the record is no longer at
// the version the caller read: another write came first.
var ErrVersionMismatch = errors.New("version mismatch")

// PutIf writes value as the record collection/key only when the store holds
// it at version (0: only when there is no live record, never written or
// deleted), as a compare-and-swap: read, change, PutIf, and read again on
// ErrVersionMismatch. It returns the record as stored.
func (s *Store) PutIf(ctx context.Context, collection, key string, version int64, value any) (Record, error) {
	if err := s.usable(); err != nil {
		return Record{}, err
	}
	v, err := canonicalValue(value)
	if err != nil {
		return Record{}, fmt.Errorf("put %s/%s: %w", collection, key, err)
	}
	if err := s.recordNames(collection, key); err != nil {
		return Record{}, fmt.Errorf("put: %w", err)
	}
	if version < 0 {
		return Record{}, fmt.Errorf("put %s/%s: version %d: must be 0 (no live record) or more", collection, key, version)
	}
	it, err := s.write(ctx, recordAddr(collection, key), func(ctx context.Context, tx adapters.Tx, now string) (*record.Item, error) {
		cur, err := lookupOne(ctx, tx, &record.Item{Kind: record.KindRecord, Collection: collection, Key: key})
		if err != nil {
			return nil, err
		}
		if err := versionMatches(cur, version); err != nil {
			return nil, err
		}
		next := &record.Item{Kind: record.KindRecord, Collection: collection, Key: key, Version: 1, UpdatedAt: now, Value: v}
		if cur != nil {
			next.Version = cur.Version + 1
		}
		return next, nil
	})
	if err != nil {
		return Record{}, fmt.Errorf("put %s/%s: %w", collection, key, err)
	}
	return recordOf(it), nil
}

// versionMatches says whether cur (nil: no such record) is at version.
func versionMatches(cur *record.Item, version int64) error {
	switch {
	case version == 0 && (cur == nil || cur.Deleted):
		return nil
	case version == 0:
		return fmt.Errorf("%w: the record exists, at version %d", ErrVersionMismatch, cur.Version)
	case cur == nil:
		return fmt.Errorf("%w: there is no such record, not version %d", ErrVersionMismatch, version)
	case cur.Version != version:
		state := ""
		if cur.Deleted {
			state = " (deleted)"
		}
		return fmt.Errorf("%w: the record is at version %d%s, not %d", ErrVersionMismatch, cur.Version, state, version)
	}
	return nil
}

// Put is one record of a PutMany.
type Put struct {
	Collection, Key string
	Value           any // as Store.Put takes it
}

// PutMany writes many records in one transaction, all or none, each as Put
// would write it alone (version one more than the record's last; a key
// given twice is written twice, the later one winning). It is the fast way
// to write many records: one read of the current versions, one write and
// one read-back for the whole batch instead of one transaction per record.
// Under dual-write the records are copied to the secondary as Put's are.
func (s *Store) PutMany(ctx context.Context, puts []Put) ([]Record, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	items := make([]*record.Item, len(puts))
	for i, p := range puts {
		v, err := canonicalValue(p.Value)
		if err != nil {
			return nil, fmt.Errorf("put %s/%s: %w", p.Collection, p.Key, err)
		}
		if err := s.recordNames(p.Collection, p.Key); err != nil {
			return nil, fmt.Errorf("put: %w", err)
		}
		items[i] = &record.Item{Kind: record.KindRecord, Collection: p.Collection, Key: p.Key, Value: v}
	}
	if len(items) == 0 {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	dw := s.dw
	err := s.retry(ctx, func() error { return s.commitMany(ctx, dw, items) })
	if err != nil {
		if errors.Is(err, ErrUnsupported) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("put many: %w", err)
		}
		return nil, fmt.Errorf("put many: %s: %w", s.loc, s.scrub(err))
	}
	out := make([]Record, len(items))
	for i, it := range items {
		if dw != nil {
			dw.replicate(context.WithoutCancel(ctx), it)
		}
		out[i] = recordOf(it)
	}
	return out, nil
}

// commitMany is one attempt at a PutMany: versions from what the store
// holds (locked), a guarded write, and a read-back that tells a concurrent
// writer's win (a lost race, redone) from this write's.
func (s *Store) commitMany(ctx context.Context, dw *DualWrite, items []*record.Item) error {
	tx, err := s.a.Begin(ctx, s.name)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	named := make(map[string]bool, len(items))
	var keys []*record.Item
	for _, it := range items {
		if addr := recordAddr(it.Collection, it.Key); !named[addr] {
			named[addr] = true
			keys = append(keys, &record.Item{Kind: record.KindRecord, Collection: it.Collection, Key: it.Key})
		}
	}
	cur := map[string]int64{}
	err = tx.Lock(ctx, keys, func(it *record.Item) error {
		cur[recordAddr(it.Collection, it.Key)] = it.Version
		return nil
	})
	if err != nil {
		return err
	}
	now := record.FormatTime(s.now().UTC().Truncate(time.Microsecond))
	for _, it := range items {
		addr := recordAddr(it.Collection, it.Key)
		cur[addr]++
		it.Version, it.UpdatedAt = cur[addr], now
		if err := checkItem(s.a, s.name, it); err != nil {
			return fmt.Errorf("%s: %w", describe(it), err)
		}
		if dw != nil {
			if err := dw.a.Check(dw.name, it); err != nil {
				return fmt.Errorf("dual-write target %s: %s: %w", dw.loc, describe(it), err)
			}
		}
	}
	if err := tx.Put(ctx, items, adapters.Guarded); err != nil {
		return err
	}
	// Read back before the commit, whatever the database: another writer's
	// row where this batch meant its own is a lost race (the batch is redone
	// from what the store then holds), and a trigger that changed a row on
	// its way in is seen here too, rather than taken for the write.
	if err := landed(ctx, tx, items); err != nil {
		return err
	}
	return tx.Commit()
}
