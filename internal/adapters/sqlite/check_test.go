package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// rowSize is the size SQLite gives the row: with SQLITE_LIMIT_LENGTH set to
// it, the row is stored, and one byte less refuses it. Rows of every shape
// Persist writes are tried, around the lengths where a varint grows.
func TestRowSizeIsSQLites(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "rows.db"), Options{})
	defer a.Close()
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app") // the schema
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	conn, err := a.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	setLimit := func(n int) {
		if err := conn.Raw(func(dc any) error {
			dc.(*sqlite3.SQLiteConn).SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, n)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	defer setLimit(maxLength)
	var items []*record.Item
	for _, n := range []int{0, 1, 56, 57, 63, 64, 100, 8000, 8200, 100000} {
		v := `"` + strings.Repeat("x", n) + `"`
		items = append(items,
			&record.Item{Kind: record.KindRecord, Collection: "c", Key: strings.Repeat("k", n), Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(v)},
			&record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Version: int64(n)<<40 + 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Deleted: true},
			&record.Item{Kind: record.KindEvent, Stream: strings.Repeat("s", n), Seq: int64(n) + 300, Type: "t", At: "2026-01-01T00:00:00.000000Z", Data: []byte(v)})
	}
	for _, it := range items {
		size := int(rowSize("app", it))
		for _, limit := range []int{size, size - 1} {
			setLimit(limit)
			err := putOn(ctx, conn, it)
			if ok := limit >= size; ok != (err == nil) {
				t.Errorf("%s with SQLITE_LIMIT_LENGTH %d (rowSize %d): %v", record.AppendItem(nil, it)[:40], limit, size, err)
			}
		}
		setLimit(maxLength)
	}
	if err := a.Check("app", items[0]); err != nil {
		t.Errorf("Check of a small row: %v", err)
	}
	huge := &record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z",
		Value: make([]byte, maxLength)}
	if err := a.Check("app", huge); !errors.Is(err, adapters.ErrUnsupported) || !strings.Contains(err.Error(), "at most 1000000000") {
		t.Errorf("Check of a row of more than a billion bytes = %v", err)
	}
}

// bigChg is a change counter that takes the 8 bytes rowSize counts for it.
const bigChg int64 = 1 << 60

// putOn inserts it on conn as Put does, and takes it out again.
func putOn(ctx context.Context, conn *sql.Conn, it *record.Item) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if it.IsRecord() {
		var value any
		if !it.Deleted {
			value = jsonText(it.Value)
		}
		deleted := 0
		if it.Deleted {
			deleted = 1
		}
		_, err = tx.ExecContext(ctx, stmtText[stInsertRecord], "app", it.Collection, it.Key, it.Version, it.UpdatedAt, deleted, value, bigChg)
	} else {
		_, err = tx.ExecContext(ctx, stmtText[stInsertEvent], "app", it.Stream, it.Seq, it.Type, it.At, jsonText(it.Data), bigChg)
	}
	return err
}
