// Package adapters is the small interface every database a Persist store can
// live in implements, and nothing else: formatting lines, merging by version
// and verifying batches belong to the callers, so each adapter only moves rows.
//
// # How to add an adapter
//
//  1. Make a package internal/adapters/NAME with an Adapter type and
//     `var _ adapters.Adapter = (*Adapter)(nil)`.
//  2. Keep the schema in docs/format.md: the same logical columns, keys compared as
//     bytes, times to the microsecond, values as JSON that Canonical accepts.
//  3. Run the conformance suite from its tests:
//     adapterstest.Run(t, func(t *testing.T) adapters.Adapter { … a fresh, empty database … }).
//  4. Teach internal/location its location syntax.
package adapters

import (
	"context"
	"errors"

	"github.com/cuitty/persist/internal/record"
)

// ErrNoStore is returned by Snapshot when the store does not exist.
var ErrNoStore = errors.New("no such store")

// ErrExists is returned by Put in Fresh mode when the store already holds
// one of the items; nothing was written and the transaction can only be
// rolled back.
var ErrExists = errors.New("item already in the store")

// ErrUnsupported wraps the reason an adapter cannot hold an item (for example
// a \u0000 in a PostgreSQL jsonb value). Such an item is rejected, never altered.
var ErrUnsupported = errors.New("value not supported by this database")

// Filter narrows what a snapshot yields. The zero Filter yields everything.
type Filter struct {
	Collections []string // only these collections (nil: all)
	Streams     []string // only these streams (nil: all)
	NoRecords   bool     // leave records out
	NoEvents    bool     // leave events out
	Live        bool     // leave tombstones out
}

// PutMode says how Put treats what the store already holds.
type PutMode int

const (
	// Guarded writes a record only where the store has no such record or
	// an older version, and an event only where it has no such (stream,
	// seq): a concurrent newer write is never overwritten.
	Guarded PutMode = iota
	// Overwrite replaces whatever the store holds.
	Overwrite
	// Fresh writes items the store holds none of, the cheapest way the
	// database knows (PostgreSQL: COPY straight into the table). When the
	// store holds one of them (or another transaction writing one commits
	// first), Put returns an error wrapping ErrExists, having written
	// nothing that will last: the caller rolls back and decides again
	// against what the store holds.
	Fresh
)

// Adapter is one database that holds Persist stores. Implementations must be
// safe for concurrent use by several goroutines.
type Adapter interface {
	// Stores lists the names of the stores the database holds, sorted
	// bytewise. A database without the Persist schema holds none; Stores
	// never creates anything.
	Stores(ctx context.Context) ([]string, error)

	// Snapshot opens a consistent, read-only view of one store: everything
	// read through it reflects one instant, whatever other connections write
	// meanwhile. It writes nothing (SQLite may be opened read-only; PostgreSQL
	// uses a READ ONLY REPEATABLE READ transaction). It returns an error
	// wrapping ErrNoStore when the store does not exist.
	Snapshot(ctx context.Context, store string) (Snapshot, error)

	// Begin starts a read-write transaction on a store, creating the schema
	// (idempotent DDL, in its own transaction) and the store when missing.
	Begin(ctx context.Context, store string) (Tx, error)

	// Check returns an error wrapping ErrUnsupported when the database cannot
	// hold the item as it is. Callers reject such items before writing them.
	// Value and Data must be canonical JSON, as record.Item says: values a
	// Snapshot hands on as stored are made canonical first.
	Check(it *record.Item) error

	// Writers is how many write transactions on one store are worth running
	// at once: a load writes that many batches concurrently. SQLite has one
	// writer at a time; a PostgreSQL server works on several.
	Writers() int

	// Retryable reports whether err is transient (lost connection, admin
	// shutdown, serialization failure, deadlock, busy/locked database), so
	// that the whole transaction may be retried after a backoff.
	Retryable(err error) bool

	// Explain returns err said in plain words when the adapter knows its
	// cause — a lost or refused connection, a server shutting down, a
	// database busy with another writer — for a person deciding whether
	// to wait or to act; any other error as it is. The result wraps err, so
	// that errors.Is and Retryable see the same error through it.
	Explain(err error) error

	// Close releases the database handle.
	Close() error
}

// Snapshot is a consistent read-only view of one store.
type Snapshot interface {
	// Count returns how many records and events Scan would yield with f.
	Count(ctx context.Context, f Filter) (records, events int64, err error)

	// Scan calls fn for each item matching f: records ordered by
	// (collection, key), then events by (stream, seq), strings compared as
	// bytes. Rows stream from the database: memory does not grow with the
	// store. The *Item passed to fn is reused after fn returns. Value and Data
	// are the JSON the database holds, canonical as Persist writes it; an
	// adapter may hand it on as stored (SQLite does, and a file edited
	// outside Persist may spell it otherwise), so a caller that needs it
	// canonical makes it so (record.Canonical). An error from fn stops the
	// scan and is returned.
	Scan(ctx context.Context, f Filter, fn func(*record.Item) error) error

	// Names lists the store's collections and streams, sorted bytewise,
	// each with how many records (tombstones included) or events it holds.
	Names(ctx context.Context) (collections, streams []NameCount, err error)

	// Close ends the snapshot.
	Close() error
}

// NameCount is a collection or stream and how many items it holds.
type NameCount struct {
	Name    string
	Count   int64 // records, tombstones included; or events
	Deleted int64 // tombstones among the records
}

// Tx is a read-write transaction on one store. Nothing it does is visible to
// others before Commit.
type Tx interface {
	// Lookup calls fn with what the store holds for each of keys that exists:
	// records by (collection, key), events by (stream, seq); keys of kind
	// KindRecord/KindEvent/KindRemove are all accepted. With lock, the rows
	// found stay locked until the transaction ends (PostgreSQL: FOR UPDATE),
	// so that what the caller writes next is decided against them; reading
	// back rows this transaction wrote needs no lock, as its writes hold
	// them. A key may carry a canonical value (Value, or Data for an
	// event): the one the caller expects the store to hold. An adapter may
	// use it to spare reading or parsing a value the store holds as
	// expected, and then gives fn that very slice. Without lock, "as
	// expected" may be judged by a digest the database computes (PostgreSQL:
	// its jsonb hash, blind to a number's sign and to where an array ends);
	// with lock, or where the digests differ, fn is given what the store
	// holds. Order is unspecified; the *Item passed to fn is reused after fn
	// returns.
	Lookup(ctx context.Context, keys []*record.Item, lock bool, fn func(*record.Item) error) error

	// MaxSeq returns the highest seq of each named stream (0 when it has none).
	MaxSeq(ctx context.Context, streams []string) (map[string]int64, error)

	// Put writes complete items (version, times and seq set) as mode says.
	// An item twice in items is written once, as if applied in order:
	// Overwrite keeps the last; Guarded the highest version (for events the
	// first); Fresh counts the second as existing. Callers verify by Lookup
	// what actually landed.
	Put(ctx context.Context, items []*record.Item, mode PutMode) error

	// Remove deletes the named records and events outright (no tombstone).
	Remove(ctx context.Context, keys []*record.Item) error

	// Scan reads the store as this transaction sees it, with Snapshot.Scan's
	// contract (used to check a patch's target sum inside its transaction).
	Scan(ctx context.Context, f Filter, fn func(*record.Item) error) error

	// Clear deletes every record and event of the store.
	Clear(ctx context.Context) error

	// Commit and Rollback end the transaction. Rollback after Commit is a no-op.
	Commit() error
	Rollback() error
}
