// Package adapters is the small interface every database a Persist store can
// live in implements. Formatting lines and merging by version belong to the
// callers; an adapter moves rows, hands values on canonical, says which items
// it cannot hold (Check), and compares what a batch wrote with what it holds
// (ReadBack) the cheapest way its database allows.
//
// # How to add an adapter
//
//  1. Make a package internal/adapters/NAME with an Adapter type and
//     `var _ adapters.Adapter = (*Adapter)(nil)`.
//  2. Keep the schema in docs/format.md: the same logical columns, keys compared as
//     bytes, times to the microsecond, values as JSON that Canonical accepts.
//  3. Register it in an init function: adapters.Register(&adapters.Driver{Name,
//     Schemes, Target, Open, Check, and Sniff for a database kept in one file}).
//     Its schemes are then locations everywhere (NAME:…, NAME://…), with
//     passwords masked and a did-you-mean for near misses.
//  4. Add one import line to internal/adapters/all.
//  5. Run the conformance suite from its tests:
//     adapterstest.Run(t, func(t *testing.T) adapters.Adapter { … a fresh, empty database … }),
//     and add it to internal/testdb, the list every test database comes from.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

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

// ErrStoreName wraps the reason a database cannot hold a store's name (on
// PostgreSQL a NUL byte, or a name too long for an index). It is no line's
// fault, so no line is set aside for it: a load stops at its start.
var ErrStoreName = errors.New("store name not supported by this database")

// ErrFull wraps a write the database refused for want of room: its disk
// (or the one of its temporary files) is full. It wraps syscall.ENOSPC too.
var ErrFull = errors.New("the database's disk is full")

// ErrNotPersistTable: what a database holds under the name of one of
// Persist's tables is not Persist's table (a view, say), so what a read
// of it shows need not be the store.
var ErrNotPersistTable = errors.New("not Persist's table")

// ErrForeignCode: code Persist did not make (a trigger, a rule) runs as
// its tables are written. It may change or delete rows that other
// transactions wrote and read back, where no read-back of theirs looks
// again: a load, which accounts for every line, does not write with it.
var ErrForeignCode = errors.New("code Persist did not make runs on its tables")

// Filter narrows what a snapshot yields. The zero Filter yields everything.
type Filter struct {
	Collections []string // only these collections (nil: all)
	Streams     []string // only these streams (nil: all)
	NoRecords   bool     // leave records out
	NoEvents    bool     // leave events out
	Live        bool     // leave tombstones out
	// Keys keeps only the records with these keys (nil: all), found
	// through the primary key: with one collection, a point read.
	Keys []string
	// FromSeq keeps only the events from this seq on (0: all).
	FromSeq int64
	// Since, a cursor (Snapshot.Cursor of an earlier snapshot of the same
	// store), leaves out what that snapshot already saw: only records and
	// events written or changed by transactions it did not see remain (""
	// : everything). See cursor.go for the errors it can give.
	Since string
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
	// database knows (PostgreSQL: no merge, a plain insert). When the
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
	// A schema of an older version is upgraded first, as Upgrade does.
	Begin(ctx context.Context, store string) (Tx, error)

	// Upgrade brings the database's Persist schema to this release's
	// version in place, in one transaction, without rewriting the rows,
	// and repairs change tracking turned off by hand (see Upgraded, which
	// says what it did). It creates nothing in a database without the
	// schema.
	Upgrade(ctx context.Context) (Upgraded, error)

	// Check returns an error wrapping ErrUnsupported when the database cannot
	// hold the item as it is in store: a per-row limit (a key too long for
	// the primary key's index, a number beyond the database's range, a
	// character it cannot store). The error says which field and which
	// limit, with its number. Callers reject such items before writing
	// them, so a batch never fails on one; every item Check accepts, Put
	// writes. Value and Data must be canonical JSON, as record.Item says.
	Check(store string, it *record.Item) error

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

	// Identity says which database this is, as the database itself tells
	// it: two adapters give the same string exactly when they are open on
	// one database, however it was named (one file through any path or
	// link; one server's database and schema through any address, user or
	// option), and "" when the database does not exist yet; one that
	// cannot tell which it is gives UnknownIdentity, which Relate keeps
	// from passing for another database. A copy has an
	// identity of its own, which persist_meta's id is not (a copied file
	// keeps it). It is how a copy, a comparison or a second write whose
	// two sides are one store is refused.
	Identity(ctx context.Context) (string, error)

	// Close releases the database handle.
	Close() error
}

// ErrScanning is returned by a call on a snapshot while its Scan or
// ScanShared runs (a snapshot's scan holds its connection): finish or stop
// the scan first.
var ErrScanning = errors.New("the snapshot is being scanned: finish or stop the scan first")

// Scanning is a snapshot's note of its scan under way, which refuses any
// other call meanwhile (ErrScanning): the scan holds the connection, and a
// statement on it then would wait for it or break its exchange with the
// server.
type Scanning struct{ on atomic.Bool }

// Busy refuses a call while a scan of store runs.
func (s *Scanning) Busy(store string) error {
	if s.on.Load() {
		return fmt.Errorf("store %q: %w", store, ErrScanning)
	}
	return nil
}

// Start notes a scan of store, refused while another runs; end ends it.
func (s *Scanning) Start(store string) (end func(), err error) {
	if !s.on.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("store %q: %w", store, ErrScanning)
	}
	return func() { s.on.Store(false) }, nil
}

// ErrNoCopy is returned by Copier.Copy when the database cannot be copied
// whole for the store (it holds more than that store, or the store was
// written to while it was copied). Nothing was written; the caller streams
// the store's items instead.
var ErrNoCopy = errors.New("cannot copy the database whole")

// Copier is an Adapter whose database lives in one file and can be copied
// by the database engine itself (SQLite: VACUUM INTO), at a fraction of
// what streaming its items as lines costs. persist migrate uses it to
// copy a store into a new database of the same kind, and then compares
// the copy with the snapshot item by item before it puts it in place.
type Copier interface {
	// Copy writes what snap (a Snapshot of this adapter, left open and
	// usable) reads into a new database file at target, which must not
	// exist, and makes it a database of its own: a new identity and a
	// history starting at the copy, holding nothing of where the store
	// came from (no removals, no sources). Every record and event keeps
	// every column as stored. It returns an error wrapping
	// ErrNoCopy, having written nothing, when the database holds anything
	// but snap's store (another store, an application's tables, triggers
	// or indexes of its own) or a schema of another version, or when the
	// copy it made turns out to be of another instant than snap's.
	Copy(ctx context.Context, snap Snapshot, target string) error
}

// Snapshot is a consistent read-only view of one store.
type Snapshot interface {
	// Count returns how many records and events Scan would yield with f.
	// Count and Scan check f.Since first (cursor.go).
	Count(ctx context.Context, f Filter) (records, events int64, err error)

	// Cursor says where this snapshot stands in the store's history: the
	// string a later snapshot takes as Filter.Since to yield only what
	// changed after this one. It returns an error wrapping ErrNoCursor when
	// the store's schema does not track changes (version 1).
	Cursor(ctx context.Context) (string, error)

	// Scan calls fn for each item matching f: records ordered by
	// (collection, key), then events by (stream, seq), strings compared as
	// bytes. Rows stream from the database: memory does not grow with the
	// store. The *Item passed to fn is reused after fn returns. Value and Data
	// are always canonical JSON (record.Canonical), whatever spelling the
	// database keeps them in; a stored value that is not JSON is an error
	// naming the record or event. An error from fn stops the scan and is
	// returned. The snapshot may take no other call until Scan returns
	// (ErrScanning).
	Scan(ctx context.Context, f Filter, fn func(*record.Item) error) error

	// ScanShared is Scan for one of two snapshots compared side by side
	// (persist-diff), which share out the checking of values between them:
	// the two take shares 0 and 1, so that every address is checked on
	// one side (see InShare). It yields what Scan yields, in the same
	// order, except that an item outside share may come with its value
	// (Value, or Data for an event) as the database holds it, unchecked:
	// fn's settle is then not nil, and settle(it, buf) makes the value what
	// Scan would have yielded (canonical, in *buf when it must be
	// respelled) or returns the error Scan would have returned. Every other
	// field is as Scan yields it. settle stays usable after fn returns, on
	// a copy of the item. A caller may skip settle only where it compares
	// the value byte for byte with the checked value of the same address
	// on the other side and finds them equal: one check then covers both.
	// An adapter may check every value (settle always nil). The snapshot
	// takes no other call until ScanShared returns (SQLite holds the
	// snapshot's connection for the whole scan).
	ScanShared(ctx context.Context, f Filter, share int, fn func(it *record.Item, settle Settle) error) error

	// Names lists the store's collections and streams, sorted bytewise,
	// each with how many records (tombstones included) or events it holds.
	Names(ctx context.Context) (collections, streams []NameCount, err error)

	// Close ends the snapshot.
	Close() error
}

// OwnBytes is implemented by a Snapshot whose Scan and ScanShared hand fn
// items whose strings and byte slices lie in memory of their own, which
// nothing writes to again: a caller may keep them after fn returns without
// a copy (the *Item itself is still reused). Settle may still respell a
// value into the caller's buffer.
type OwnBytes interface {
	OwnBytes()
}

// Settle finishes the check of a value that ScanShared handed on unchecked;
// buf is scratch the caller keeps from call to call.
type Settle func(it *record.Item, buf *[]byte) error

// InShare reports whether the value of it is checked by the side of a
// comparison that took share (0 or 1). It depends only on the address, so
// the two sides agree on every item, and splits keys of any shape about
// evenly (the bench's keys, for one, are all even numbers).
func InShare(it *record.Item, share int) bool {
	if it.IsRecord() {
		h := uint32(2166136261) // FNV-1a
		for i := 0; i < len(it.Key); i++ {
			h = (h ^ uint32(it.Key[i])) * 16777619
		}
		return int(h>>31) == share&1
	}
	return int(it.Seq&1) == share&1
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
	// Lock calls fn with what the store holds for each of keys that exists,
	// records by (collection, key), events by (stream, seq) (keys of kind
	// KindRecord, KindEvent and KindRemove are all accepted), and keeps the
	// rows found locked until the transaction ends (PostgreSQL: FOR UPDATE),
	// so that what the caller writes next is decided against them. Values
	// are canonical, as Scan's. A key may carry the canonical value (Value,
	// or Data for an event) the caller expects the store to hold: an adapter
	// may use it to spare parsing the stored one, and then gives fn that very
	// slice. Order is unspecified; the *Item passed to fn is reused after fn
	// returns.
	Lock(ctx context.Context, keys []*record.Item, fn func(*record.Item) error) error

	// ReadBack checks that the store holds each of items exactly as this
	// transaction wrote it: a record or event must exist, be this
	// transaction's own write (not a row another transaction wrote, even
	// with the same content), and hold every column as the item has it,
	// values compared as canonical JSON (a difference of content, never of
	// spelling); an item of kind KindRemove must not exist. It calls fn with
	// each item that fails (the pointer from items) and what is wrong with it,
	// in no particular order. Of a key named twice, the last counts.
	// An adapter may compare on the server against what Put sent, which
	// is why the items are those this transaction's Put wrote. fn may not
	// call the transaction (SQLite calls it while reading, on the
	// transaction's connection).
	ReadBack(ctx context.Context, items []*record.Item, fn func(it *record.Item, problem string) error) error

	// ForeignCode returns an error wrapping ErrForeignCode, naming the
	// code and with a hint that takes it away, when a trigger or a rule
	// Persist did not make runs as its tables are written; nil when none
	// does. A load asks after each batch's writes, whose locks keep such
	// code from being added until the transaction ends.
	ForeignCode(ctx context.Context) error

	// MaxSeq returns the highest seq of each named stream (0 when it has none).
	MaxSeq(ctx context.Context, streams []string) (map[string]int64, error)

	// Put writes complete items (version, times and seq set) as mode says.
	// An item twice in items is written once, as if applied in order:
	// Overwrite keeps the last; Guarded the highest version (for events the
	// first); Fresh counts the second as existing. Callers verify by
	// ReadBack what actually landed.
	Put(ctx context.Context, items []*record.Item, mode PutMode) error

	// Remove deletes the named records and events outright (no tombstone).
	Remove(ctx context.Context, keys []*record.Item) error

	// Scan reads the store as this transaction sees it, with Snapshot.Scan's
	// contract (used to check a patch's target sum inside its transaction).
	Scan(ctx context.Context, f Filter, fn func(*record.Item) error) error
	// Count counts what Scan would read, without reading it (a replace
	// checks that the store holds as many items as its stream had lines).
	Count(ctx context.Context, f Filter) (records, events int64, err error)

	// LockStore keeps every other writer out of the records and events
	// until the transaction ends, and makes what it reads after the lock
	// the state it writes on: a patch checks the store's sum, then writes
	// for that very state (a write committed in between was overwritten).
	LockStore(ctx context.Context) error

	// Clear deletes every record and event of the store.
	Clear(ctx context.Context) error

	// LoadedFrom returns the cursor of the last stream from source (a
	// Cursor's Source) that was loaded whole into the store, "" when none
	// was; SetLoadedFrom records it (persist-load's chain check).
	LoadedFrom(ctx context.Context, source string) (string, error)
	SetLoadedFrom(ctx context.Context, source, cursor string) error
	// SourcesLoaded is how many sources the store has a cursor noted of:
	// a copy of one source, or one that several feed.
	SourcesLoaded(ctx context.Context) (int, error)
	// ForgetLoaded forgets every cursor SetLoadedFrom noted for the
	// store: a replace or a patch makes its content something else than
	// what those streams and their deltas build.
	ForgetLoaded(ctx context.Context) error

	// Commit and Rollback end the transaction. Rollback after Commit is a
	// no-op. A commit whose connection was lost before its answer is asked
	// after on a new one: nil if it took effect, the loss (retryable) if
	// not, an error wrapping ErrCommitUnknown (not retryable: done again,
	// the write could be done twice) when the database cannot say.
	Commit() error
	Rollback() error
}
