package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

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

// ErrStoredNumber is wrapped when a stored record's version, or an event's
// seq, is below 1: Persist never writes one, a line without it is a new
// write (a load would give the record the target's next version, over a
// newer one) and a negative one no store takes.
var ErrStoredNumber = errors.New("stored below 1, where versions and seqs start")

// StoredNumber refuses an item read from a store whose version (record) or
// seq (event) is below 1, with the SQL that mends it, whichever database.
func StoredNumber(it *record.Item) error {
	if it.IsRecord() && it.Version < 1 {
		return hint.With(fmt.Errorf("record %q/%q: version %d: %w (was the table edited outside Persist?)", it.Collection, it.Key, it.Version, ErrStoredNumber),
			"give those records version 1 (the triggers stamp the change, so the next delta carries it): UPDATE persist_records SET version = 1 WHERE version < 1")
	}
	if !it.IsRecord() && it.Seq < 1 {
		return hint.With(fmt.Errorf("event %q/%d: %w (was the table edited outside Persist?)", it.Stream, it.Seq, ErrStoredNumber),
			"number each stream's events from 1 up, in the order they happened (SELECT store, stream, seq FROM persist_events WHERE seq < 1 finds them)")
	}
	return nil
}

// ErrStoredName is wrapped when a stored name (a collection, a key, a
// stream, an event's type) is not valid UTF-8: a stream is UTF-8, and a
// dump that wrote the bytes as they are would be a backup no load takes.
var ErrStoredName = errors.New("is not valid UTF-8")

// Stored refuses an item read from a store that no stream can carry as it
// is: a number below 1 (StoredNumber), a name that is not UTF-8.
func Stored(it *record.Item) error {
	if err := StoredNumber(it); err != nil {
		return err
	}
	table, names := "persist_records", [][2]string{{"collection", it.Collection}, {"key", it.Key}}
	if !it.IsRecord() {
		table, names = "persist_events", [][2]string{{"stream", it.Stream}, {"type", it.Type}}
	}
	for _, n := range names {
		if utf8.ValidString(n[1]) {
			continue
		}
		what := fmt.Sprintf("record %q/%q", it.Collection, it.Key)
		row := fmt.Sprintf("collection = CAST(x'%x' AS TEXT) AND key = CAST(x'%x' AS TEXT)", it.Collection, it.Key)
		if !it.IsRecord() {
			what = fmt.Sprintf("event %q/%d", it.Stream, it.Seq)
			row = fmt.Sprintf("stream = CAST(x'%x' AS TEXT) AND seq = %d", it.Stream, it.Seq)
		}
		return hint.With(fmt.Errorf("%s: the %s %w (another program wrote bytes that are not text; was the table edited outside Persist?)", what, n[0], ErrStoredName),
			"give it a name in UTF-8, in the program that wrote it or by hand (in SQLite: UPDATE %s SET %s = 'new name' WHERE %s); "+
				"a renamed row leaves its old name, so a delta from a cursor of before is refused: take a full dump after", table, n[0], row)
	}
	return nil
}
