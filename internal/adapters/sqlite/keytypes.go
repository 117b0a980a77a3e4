package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// ErrKeyType is wrapped when a column that orders the rows (a record's
// collection or key, an event's stream or seq) holds a value of another
// type than the one Persist writes there. SQLite keeps whatever type it is
// given, and sorts every integer before every text and every blob after
// it: such a row is out of dump order, and can stand beside a text row of
// the same name, so it is refused rather than read as text.
var ErrKeyType = errors.New("a key column holds a value of the wrong type")

// setKey fills the names of it (of its Kind) from a row's first two
// columns, as the driver gives them: int64, float64, string, []byte or nil.
func setKey(it *record.Item, a, b any) error {
	s, okA := a.(string)
	if it.IsRecord() {
		k, okB := b.(string)
		it.Collection, it.Key = s, k
		return keyTypes(it.IsRecord(), a, b, okA, okB)
	}
	n, okB := b.(int64)
	it.Stream, it.Seq = s, n
	return keyTypes(it.IsRecord(), a, b, okA, okB)
}

// keyColumn is a column that orders a table's rows, and the type its
// values must have, as typeof() and CAST spell it.
type keyColumn struct{ table, name, typ string }

var keyColumns = map[bool][2]keyColumn{
	true:  {{"persist_records", "collection", "text"}, {"persist_records", "key", "text"}},
	false: {{"persist_events", "stream", "text"}, {"persist_events", "seq", "integer"}},
}

func keyTypes(isRecord bool, a, b any, okA, okB bool) error {
	if okA && okB {
		return nil
	}
	col, v := keyColumns[isRecord][0], a
	if okA {
		col, v = keyColumns[isRecord][1], b
	}
	what := "record"
	if !isRecord {
		what = "event"
	}
	err := fmt.Errorf("%s %s/%s: %w: %s holds %s instead of %s (was the file edited outside Persist?)",
		what, shown(a), shown(b), ErrKeyType, col.name, typeName(v), typeName(zero[col.typ]))
	return repairHint(err, isRecord, col)
}

// repairHint adds to err the SQL that mends col's rows of the wrong type.
func repairHint(err error, isRecord bool, col keyColumn) error {
	return hint.With(err, "with sqlite3, delete the stray rows that stand beside a row of the same name and the right type, "+
		"then turn the others back into %s: %s", col.typ, repairSQL(isRecord, col))
}

// repairSQL mends every row of table whose col has the wrong type: a row
// with a twin of the right type (the same primary key once cast) is the
// stray one, and goes; any other is cast back. Nothing else is touched.
func repairSQL(isRecord bool, col keyColumn) string {
	cols := keyColumns[isRecord]
	twin := "t.store = s.store"
	for _, c := range cols {
		twin += fmt.Sprintf(" AND t.%[1]s = CAST(s.%[1]s AS %[2]s)", c.name, strings.ToUpper(c.typ))
	}
	return fmt.Sprintf("DELETE FROM %[1]s AS s WHERE typeof(s.%[2]s) <> '%[3]s' AND EXISTS (SELECT 1 FROM %[1]s AS t WHERE %[5]s AND typeof(t.%[2]s) = '%[3]s'); "+
		"UPDATE %[1]s SET %[2]s = CAST(%[2]s AS %[4]s) WHERE typeof(%[2]s) <> '%[3]s'",
		col.table, col.name, col.typ, strings.ToUpper(col.typ), twin)
}

// storeColumns are the columns that name a row's store, with the rest of
// their table's primary key, and whether the table keeps versions.
var storeColumns = []struct {
	table, name, rest string
	versioned         bool
}{
	{"persist_stores", "name", "", false},
	{"persist_records", "store", "collection, key", true},
	{"persist_events", "store", "stream, seq", false},
}

// storeTypesSQL reads, for each of storeColumns whose table the file
// holds (bit i of tables for storeColumns[i]), the type of a value that is
// not text, or NULL: SQLite orders every number before any text and every
// blob after, so two seeks of each primary key find one.
func storeTypesSQL(tables int) string {
	cols := make([]string, len(storeColumns))
	for i, c := range storeColumns {
		cols[i] = "NULL"
		if tables&(1<<i) != 0 {
			cols[i] = fmt.Sprintf(`coalesce((SELECT typeof(%[1]s) FROM %[2]s WHERE %[1]s >= x'' LIMIT 1),
			(SELECT typeof(%[1]s) FROM %[2]s WHERE %[1]s < '' LIMIT 1))`, c.name, c.table)
		}
	}
	return "SELECT " + strings.Join(cols, ", ")
}

// storeTablesSQL gives storeTypesSQL's tables, those the file holds
// (a first release's file may lack persist_events until a writer adds it).
const storeTablesSQL = `SELECT coalesce(sum(CASE name WHEN 'persist_stores' THEN 1 WHEN 'persist_records' THEN 2 ELSE 4 END), 0)
	FROM sqlite_master WHERE type = 'table' AND name IN ('persist_stores', 'persist_records', 'persist_events')`

// storeTypes refuses a store's name kept as another type than text: a
// blob, as a program that binds bytes writes it (the column's text
// affinity converts numbers, not blobs). Stores lists such a row's store
// by the same name, but a read of the store (store = ?) never matches it,
// so its rows would be left out of a dump, a sum or a copy without a word,
// and a write would put a row beside it.
func storeTypes(ctx context.Context, tx *sql.Tx) error {
	var tables int
	var types [3]sql.NullString
	err := tx.QueryRowContext(ctx, storeTablesSQL).Scan(&tables)
	if err == nil {
		err = tx.QueryRowContext(ctx, storeTypesSQL(tables)).Scan(&types[0], &types[1], &types[2])
	}
	if err != nil {
		return fmt.Errorf("read the types of the stores' names: %w", err)
	}
	var odd, repair []string
	for i, c := range storeColumns {
		if types[i].Valid {
			odd = append(odd, fmt.Sprintf("%s.%s holds %s", c.table, c.name, typeName(zero[types[i].String])))
			repair = append(repair, storeRepairSQL(c.table, c.name, c.rest, c.versioned))
		}
	}
	if len(odd) == 0 {
		return nil
	}
	err = fmt.Errorf("%w: %s in some rows instead of text, which a read of the store by its name never matches "+
		"(was the file edited outside Persist?)", ErrKeyType, strings.Join(odd, ", "))
	return hint.With(err, "with sqlite3, where a row stands beside one of the same name in text, keep the record of the newer version, "+
		"or the text one where neither is newer, then turn the others back into text: %s", strings.Join(repair, "; "))
}

// storeRepairSQL mends the rows of table whose col (the store's name) is
// not text: of two rows of one address, one of each type, it keeps the
// record of the newer version (versioned), else the text one; then it
// casts the rest.
func storeRepairSQL(table, col, rest string, versioned bool) string {
	twin := fmt.Sprintf("t.%[1]s = CAST(s.%[1]s AS TEXT)", col)
	for _, r := range strings.Split(rest, ", ") {
		if r != "" {
			twin += fmt.Sprintf(" AND t.%[1]s = s.%[1]s", r)
		}
	}
	if !versioned {
		return storeCastSQL(table, col, twin, "")
	}
	return fmt.Sprintf("DELETE FROM %[1]s AS t WHERE typeof(t.%[2]s) = 'text' AND EXISTS (SELECT 1 FROM %[1]s AS s WHERE %[3]s "+
		"AND typeof(s.%[2]s) <> 'text' AND s.version > t.version); ", table, col, twin) +
		storeCastSQL(table, col, twin, " AND t.version >= s.version")
}

// storeCastSQL deletes each row of table whose col is not text where a
// text twin stands (and cond holds), and casts the others.
func storeCastSQL(table, col, twin, cond string) string {
	return fmt.Sprintf("DELETE FROM %[1]s AS s WHERE typeof(s.%[2]s) <> 'text' AND EXISTS (SELECT 1 FROM %[1]s AS t WHERE %[3]s "+
		"AND typeof(t.%[2]s) = 'text'%[4]s); UPDATE %[1]s SET %[2]s = CAST(%[2]s AS TEXT) WHERE typeof(%[2]s) <> 'text'", table, col, twin, cond)
}

// zero is a value of each type a key column may hold.
var zero = map[string]any{"text": "", "integer": int64(0), "blob": []byte{}, "real": 0.0, "null": nil}

// typeName says a value's SQLite type as typeof() would, with an article.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case []byte:
		return "a blob"
	case int64:
		return "an integer"
	case float64:
		return "a real"
	case nil:
		return "NULL"
	}
	return fmt.Sprintf("a %T", v)
}

// shown is a name as describe writes it: a text (or a blob's bytes)
// quoted, a number as it is.
func shown(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []byte:
		return fmt.Sprintf("%q", unsafe.String(unsafe.SliceData(v), len(v)))
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}

// ErrColumnType is wrapped when a column of a row holds a value its reader
// cannot take for the column's type: a version stored as a real, a time
// as NULL. Such a row was written by hand, or by another program.
var ErrColumnType = errors.New("a column holds a value of the wrong type")

// columnError is a column's value that would not convert; badColumn names
// the row.
type columnError struct {
	name string
	v    any    // as the driver gave it
	want string // what the column holds, with an article
	err  error  // database/sql's conversion error
}

func (e *columnError) Error() string { return "column " + e.name + ": " + e.err.Error() }
func (e *columnError) Unwrap() error { return e.err }

// badColumn names the row it, whose key was read, in a column's error, and
// says how to mend it.
func badColumn(store string, it *record.Item, err error) error {
	var ce *columnError
	if !errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", describe(it), err)
	}
	held := typeName(ce.v)
	if ce.v != nil {
		held += " (" + shown(ce.v) + ")"
	}
	err = fmt.Errorf("%s: %w: %s holds %s instead of %s (was the file edited outside Persist?): %w",
		describe(it), ErrColumnType, ce.name, held, ce.want, ce.err)
	if f, ok := ce.v.(float64); ok && ce.name == "version" && f >= 1<<63 {
		return hint.With(err, "%s", pastLargestVersion(store, it))
	}
	if h, ok := columnHints[ce.name]; ok {
		return hint.With(err, "%s", h)
	}
	return err
}

// pastLargestVersion is how to mend a record whose version is past the
// largest integer: no newer version can follow it, so the store refuses
// any change to it, and its value can only move to a new key.
func pastLargestVersion(store string, it *record.Item) string {
	where := fmt.Sprintf("WHERE collection = %s AND key = %s AND typeof(version) = 'real' AND version >= 9223372036854775807",
		sqlQuote(it.Collection), sqlQuote(it.Key))
	if store != "" {
		where = "WHERE store = " + sqlQuote(store) + " AND " + strings.TrimPrefix(where, "WHERE ")
	}
	return "its version is past the largest integer, so no change to it can follow: with sqlite3, copy its value under a new key, " +
		"then delete the row outright (the next delta is then refused: take a full dump): " +
		"SELECT value FROM persist_records " + where + "; DELETE FROM persist_records " + where
}

// sqlQuote is s as an SQL string literal. A control character is spelled
// char(N) outside the quotes, for a hint shows it as \xHH (hint.Printable),
// which SQL would take as those four characters.
func sqlQuote(s string) string {
	if hint.Printable(s) == s {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	var parts []string
	text := ""
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+n]
		i += n
		if hint.Printable(piece) == piece {
			text += piece // a byte not UTF-8 as it is
			continue
		}
		if text != "" {
			parts = append(parts, "'"+strings.ReplaceAll(text, "'", "''")+"'")
			text = ""
		}
		if r == utf8.RuneError && n == 1 {
			parts = append(parts, fmt.Sprintf("CAST(x'%02x' AS TEXT)", piece[0])) // a lone byte a terminal may take for a control
		} else {
			parts = append(parts, fmt.Sprintf("char(%d)", r))
		}
	}
	if text != "" {
		parts = append(parts, "'"+strings.ReplaceAll(text, "'", "''")+"'")
	}
	return strings.Join(parts, " || ")
}

// columnHints say how to mend each column that is not a key; a key column
// is keyTypes'.
var columnHints = map[string]string{
	"version": "with sqlite3, give every version that is not an integer the next integer up (the triggers stamp the change, " +
		"so the next delta carries it): UPDATE persist_records SET version = max(1, CAST(version AS INTEGER) + " +
		"(version > CAST(version AS INTEGER))) WHERE typeof(version) <> 'integer'",
	"deleted": "with sqlite3, make deleted 1 where the record holds no value (a tombstone) and 0 where it holds one: " +
		"UPDATE persist_records SET deleted = (value IS NULL) WHERE typeof(deleted) <> 'integer'",
	"updated_at": "with sqlite3, give those records the time they last changed (RFC 3339), or now: " +
		"UPDATE persist_records SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE updated_at IS NULL",
	"at": "with sqlite3, give those events the time they happened (RFC 3339), or now: " +
		"UPDATE persist_events SET at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE at IS NULL",
	"type": "with sqlite3, find those events (SELECT store, stream, seq FROM persist_events WHERE type IS NULL) " +
		"and give each its type: UPDATE persist_events SET type = 'TYPE' WHERE store = 'STORE' AND stream = 'STREAM' AND seq = SEQ",
}

// A read or write by name (a collection's, a stream's, a record's key)
// seeks the name as text, and never meets a row that holds it as another
// type, which a whole read refuses (keyTypes) but one by name would pass
// over: a dump of the collection would leave the row out, a get miss it, a
// put write a twin beside it. A read by name looks for such rows of its
// names first, a write for any row of the store whose collection or
// stream is not text. SQLite orders every number before any text and every
// blob after it, so each part of these queries is a seek of the primary
// key (but a read by key of every collection, which reads them all).
const (
	// collectionTwinSQL finds a row of store ?1 whose collection is the
	// name ?2 as a blob, or as a number.
	collectionTwinSQL = `SELECT collection, key FROM persist_records WHERE store = ?1 AND collection = CAST(?2 AS BLOB)
		UNION ALL SELECT collection, key FROM persist_records WHERE store = ?1 AND collection < '' AND CAST(collection AS TEXT) = ?2`
	// oddKeySQL finds a row of collection ?2 whose key is not text: a
	// read by key seeks text only, while one of the whole collection
	// refuses such a row.
	oddKeySQL = `SELECT collection, key FROM persist_records WHERE store = ?1 AND collection = ?2 AND key >= x''
		UNION ALL SELECT collection, key FROM persist_records WHERE store = ?1 AND collection = ?2 AND key < ''`
	// anyOddKeySQL is oddKeySQL for a read by key of every collection.
	anyOddKeySQL  = `SELECT collection, key FROM persist_records WHERE store = ?1 AND (key >= x'' OR key < '')`
	streamTwinSQL = `SELECT stream, seq FROM persist_events WHERE store = ?1 AND stream = CAST(?2 AS BLOB)
		UNION ALL SELECT stream, seq FROM persist_events WHERE store = ?1 AND stream < '' AND CAST(stream AS TEXT) = ?2`
	// oddSeqSQL finds an event of stream ?2 whose seq is text or a blob,
	// both ordered after every number.
	oddSeqSQL = `SELECT stream, seq FROM persist_events WHERE store = ?1 AND stream = ?2 AND seq >= ''`
	// oddNamesSQL finds, for a write, a record or an event of store ?1
	// whose collection or stream is not text; the third column says which.
	oddNamesSQL = `SELECT collection, key, 1 FROM persist_records WHERE store = ?1 AND collection >= x''
		UNION ALL SELECT collection, key, 1 FROM persist_records WHERE store = ?1 AND collection < ''
		UNION ALL SELECT stream, seq, 0 FROM persist_events WHERE store = ?1 AND stream >= x''
		UNION ALL SELECT stream, seq, 0 FROM persist_events WHERE store = ?1 AND stream < '' LIMIT 1`
)

// rowQuerier is what the checks ask of a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// namedRows refuses, as keyTypes would, the first row of store that holds
// one of the names a read goes by as another type: collections and
// streams; with byKey (a read of records by key), also a key of those
// collections that is not text, or of any collection where none is named.
func namedRows(ctx context.Context, q rowQuerier, store string, f adapters.Filter) error {
	if !readsByName(f) {
		return nil
	}
	byKey := f.Keys != nil && !f.NoRecords
	if byKey && f.Collections == nil {
		if err := oddRow(ctx, q, record.KindRecord, anyOddKeySQL, store); err != nil {
			return err
		}
	}
	if !f.NoRecords {
		for _, c := range f.Collections {
			query := collectionTwinSQL
			if byKey {
				query += " UNION ALL " + oddKeySQL
			}
			if err := oddRow(ctx, q, record.KindRecord, query, store, c); err != nil {
				return err
			}
		}
	}
	if !f.NoEvents {
		for _, st := range f.Streams {
			if err := oddRow(ctx, q, record.KindEvent, streamTwinSQL, store, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// readsByName reports whether f reads by name, which namedRows checks.
func readsByName(f adapters.Filter) bool {
	return (!f.NoRecords && (f.Collections != nil || f.Keys != nil)) || (!f.NoEvents && f.Streams != nil)
}

// oddNames refuses, as keyTypes would, a write to store where a record's
// collection or an event's stream is not text: the write's statements seek
// text, and would put a row beside its twin. A key or a seq is not looked
// for, which would cost a seek a name written; reads refuse those (a read
// of the collection or stream whole, or by key).
func oddNames(ctx context.Context, q rowQuerier, store string) error {
	var a, b any
	var isRecord bool
	err := q.QueryRowContext(ctx, oddNamesSQL, store).Scan(&a, &b, &isRecord)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look for rows whose names are of another type: %w", err)
	}
	return oddItem(isRecord, a, b)
}

// oddRow runs query (one of those above, with a LIMIT 1 added) for store
// and its other arguments, and refuses the row it finds with keyTypes'
// error and hint.
func oddRow(ctx context.Context, q rowQuerier, kind record.Kind, query, store string, args ...any) error {
	var a, b any
	err := q.QueryRowContext(ctx, query+" LIMIT 1", append([]any{store}, args...)...).Scan(&a, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look for rows whose names are of another type: %w", err)
	}
	return oddItem(kind == record.KindRecord, a, b)
}

// oddItem is keyTypes' error for a row whose names, as the driver gives
// them, are a and b; one of them is of another type, which the queries
// above find alone.
func oddItem(isRecord bool, a, b any) error {
	it := record.Item{Kind: record.KindEvent}
	if isRecord {
		it.Kind = record.KindRecord
	}
	if err := setKey(&it, a, b); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", describe(&it), ErrKeyType)
}
