package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// rawScan is scan straight from SQLite (cRows), on the connection that
// holds the snapshot's transaction: database/sql's locks and conversions,
// and the driver's call into C for every column, were most of a
// side-by-side diff's CPU besides SQLite's own work. Values of the types
// the columns are declared with are taken as they are; any other goes
// through database/sql's own conversions (the Null types' Scan), so a row
// reads exactly as scan reads it. ahead reads the rows a batch ahead, on a
// goroutine of their own (Scan); without, on the caller's (ScanShared,
// whose caller reads each side on a goroutine of its own already).
func rawScan(ctx context.Context, c *sqlite3.SQLiteConn, store string, f adapters.Filter, since int64, mode valueMode, ahead bool, fn func(*record.Item, adapters.Settle) error) error {
	for _, p := range recordParts(store, f, since) {
		if err := rawRows(ctx, c, selectRecords+p.from+" WHERE "+p.where+orderRecords, p.args, store, record.KindRecord, mode, ahead, fn); err != nil {
			return err
		}
	}
	for _, p := range eventParts(store, f, since) {
		if err := rawRows(ctx, c, selectEvents+p.from+" WHERE "+p.where+orderEvents, p.args, store, record.KindEvent, mode, ahead, fn); err != nil {
			return err
		}
	}
	return nil
}

// withHandle runs raw on conn's SQLite connection, and reports false
// (having run nothing) where the driver gives no SQLite handle: the caller
// then reads through database/sql, once the connection is given back
// (inside Raw, database/sql would wait for it forever).
func withHandle(conn *sql.Conn, raw func(*sqlite3.SQLiteConn) error) (bool, error) {
	handled := false
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if handled = ok && handle(c) != nil; !handled {
			return nil
		}
		return raw(c)
	})
	return handled, err
}

// rawRows runs query and, for each row, makes it canonical as mode says,
// and calls fn.
func rawRows(ctx context.Context, c *sqlite3.SQLiteConn, query string, args []any, store string, kind record.Kind, mode valueMode, ahead bool, fn func(*record.Item, adapters.Settle) error) error {
	cols := 6
	if kind == record.KindEvent {
		cols = 5
	}
	rows, err := openCRows(c, query, args, store, cols)
	if err != nil {
		return fmt.Errorf("%s: %w", readWhat(kind), err)
	}
	defer rows.close()
	if ahead {
		return readAhead(ctx, rows, kind, mode, fn)
	}
	var it record.Item
	for {
		if err := rows.item(ctx, kind, &it); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", readWhat(kind), err)
		}
		settle, err := fix(&it, mode)
		if err != nil {
			return err
		}
		if err := fn(&it, settle); err != nil {
			return err
		}
	}
}

func recordRow(row []driver.Value, it *record.Item, store string) error {
	*it = record.Item{Kind: record.KindRecord}
	if err := setKey(it, row[0], row[1]); err != nil {
		return err
	}
	deleted, value, err := recordColumns(row, it)
	if err != nil {
		return badColumn(store, it, err)
	}
	return recordValue(it, deleted, value)
}

func recordColumns(row []driver.Value, it *record.Item) (deleted int64, value sql.NullString, err error) {
	if it.Version, err = columnInt(row[2], "version"); err != nil {
		return
	}
	if it.UpdatedAt, err = columnString(row[3], "updated_at"); err != nil {
		return
	}
	if deleted, err = columnInt(row[4], "deleted"); err != nil {
		return
	}
	value, err = columnNullString(row[5], "value")
	return
}

func eventRow(row []driver.Value, it *record.Item, store string) (err error) {
	*it = record.Item{Kind: record.KindEvent}
	if err := setKey(it, row[0], row[1]); err != nil {
		return err
	}
	if it.Type, err = columnString(row[2], "type"); err != nil {
		return badColumn(store, it, err)
	}
	if it.At, err = columnString(row[3], "at"); err != nil {
		return badColumn(store, it, err)
	}
	data, err := columnNullString(row[4], "data")
	if err != nil {
		return badColumn(store, it, err)
	}
	it.Data = orNull(textBytes(data))
	return nil
}

// The column functions take the driver's usual types as they are and
// leave any other to database/sql's conversions.

func columnString(v driver.Value, name string) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	ns, err := columnNullString(v, name)
	if err == nil && !ns.Valid {
		err = &columnError{name: name, v: v, want: "text", err: errors.New("converting NULL to string is unsupported")}
	}
	return ns.String, err
}

func columnNullString(v driver.Value, name string) (sql.NullString, error) {
	switch v := v.(type) {
	case string:
		return sql.NullString{String: v, Valid: true}, nil
	case []byte:
		// The driver's own copy, lent as scan lends a string's bytes.
		return sql.NullString{String: unsafe.String(unsafe.SliceData(v), len(v)), Valid: true}, nil
	}
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return ns, &columnError{name: name, v: v, want: "text", err: err}
	}
	return ns, nil
}

func columnInt(v driver.Value, name string) (int64, error) {
	if n, ok := v.(int64); ok {
		return n, nil
	}
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return 0, &columnError{name: name, v: v, want: "an integer", err: err}
	}
	if !ni.Valid {
		return 0, &columnError{name: name, v: v, want: "an integer", err: errors.New("converting NULL to int64 is unsupported")}
	}
	return ni.Int64, nil
}
