package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// A row whose collection, key, stream or seq another program stored in
// another type than Persist's sorts apart from the others and can stand
// beside a row of the same name: every reader refuses it, names it, and
// says what to do, whichever way it reads the rows.
func TestKeyOfAnotherType(t *testing.T) {
	const (
		copyRecord = `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			SELECT store, %s, %s, version, updated_at, deleted, '{"evil":1}' FROM persist_records WHERE key = 'b'`
		copyEvent = `INSERT INTO persist_events (store, stream, seq, type, at, data)
			SELECT store, %s, %s, type, at, '{"evil":1}' FROM persist_events WHERE seq = 2`
	)
	for _, tc := range []struct {
		name, insert, want string
		untyped            bool // the file's key columns declared without a type, as another program may make them
	}{
		{"blob key", fmt.Sprintf(copyRecord, "collection", "CAST(key AS BLOB)"), `record "c"/"b": ` + ErrKeyType.Error() + `: key holds a blob instead of text`, false},
		{"integer key", fmt.Sprintf(copyRecord, "collection", "7"), `record "c"/7: ` + ErrKeyType.Error() + `: key holds an integer instead of text`, true},
		{"real key", fmt.Sprintf(copyRecord, "collection", "1.5"), `record "c"/1.5: ` + ErrKeyType.Error() + `: key holds a real instead of text`, true},
		{"blob collection", fmt.Sprintf(copyRecord, "CAST(collection AS BLOB)", "key"), `record "c"/"b": ` + ErrKeyType.Error() + `: collection holds a blob instead of text`, false},
		{"integer collection", fmt.Sprintf(copyRecord, "5", "key"), `record 5/"b": ` + ErrKeyType.Error() + `: collection holds an integer instead of text`, true},
		{"blob stream", fmt.Sprintf(copyEvent, "CAST(stream AS BLOB)", "seq"), `event "s"/2: ` + ErrKeyType.Error() + `: stream holds a blob instead of text`, false},
		{"blob seq", fmt.Sprintf(copyEvent, "stream", "CAST(seq AS BLOB)"), `event "s"/"2": ` + ErrKeyType.Error() + `: seq holds a blob instead of an integer`, false},
		{"text seq", fmt.Sprintf(copyEvent, "stream", "'two'"), `event "s"/"two": ` + ErrKeyType.Error() + `: seq holds text instead of an integer`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, cursor := keyTypeStore(t, tc.insert, tc.untyped)
			for _, r := range keyTypeReaders {
				err := r.read(t, a, cursor)
				if !errors.Is(err, ErrKeyType) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v\nwant an error with %q", r.name, err, tc.want)
				}
				if hints := hint.All(err); len(hints) == 0 || !strings.Contains(hints[0], "CAST(") {
					t.Errorf("%s: hints %q, want one that casts the column back", r.name, hints)
				}
			}
			if tc.name != "text seq" { // 'two' casts to no seq: that row is the user's to mend
				followKeyTypeHint(t, a, cursor)
			}
		})
	}
}

// followKeyTypeHint runs the SQL of the hint a read gives, and checks that
// the store reads again, with Persist's rows as they were: the stray row
// beside one of the same name is gone, any other is cast back.
func followKeyTypeHint(t *testing.T, a *Adapter, cursor string) {
	t.Helper()
	hints := hint.All(keyTypeReaders[0].read(t, a, cursor))
	i := strings.Index(hints[0], "DELETE FROM")
	if i < 0 {
		t.Fatalf("no SQL in the hint %q", hints[0])
	}
	db := rawDB(t, a.path, "mode=rw")
	defer db.Close()
	if _, err := db.Exec(hints[0][i:]); err != nil {
		t.Fatalf("the hint's SQL: %v", err)
	}
	for _, r := range keyTypeReaders {
		err := r.read(t, a, cursor)
		if r.name == "delta" {
			// The repair deleted a row outright: a delta from before it
			// cannot carry that, and a full dump starts again.
			if !errors.Is(err, adapters.ErrRemoved) {
				t.Errorf("a delta across the repair: %v, want ErrRemoved", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s after the hint was followed: %v", r.name, err)
		}
	}
	var value, data string
	if err := db.QueryRow(`SELECT (SELECT value FROM persist_records WHERE collection = 'c' AND key = 'b'),
		(SELECT data FROM persist_events WHERE stream = 's' AND seq = 2)`).Scan(&value, &data); err != nil {
		t.Fatal(err)
	}
	if value != "1" || data != "1" {
		t.Errorf("Persist's own rows after the repair: value %s, data %s, want 1 and 1", value, data)
	}
}

// keyTypeStore writes store "s", takes a cursor, then runs insert as
// another program would, and returns the adapter and the cursor. A TEXT
// column turns a number into text as it stores it: untyped makes the
// tables another program's, with key columns of no type, that Persist
// upgrades.
func keyTypeStore(t *testing.T, insert string, untyped bool) (*Adapter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "edited.db")
	if untyped {
		untypedTables(t, path)
	}
	a := open(t, path, Options{})
	var in []string
	for _, k := range []string{"a", "b", "c"} {
		in = append(in, `{"kind":"record","collection":"c","key":"`+k+`","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`)
	}
	for _, seq := range []string{"1", "2", "3"} {
		in = append(in, `{"kind":"event","stream":"s","seq":`+seq+`,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":1}`)
	}
	putLines(t, a, "s", in...)
	snap, err := a.Snapshot(t.Context(), "s")
	if err != nil {
		t.Fatal(err)
	}
	cursor, err := snap.Cursor(t.Context())
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path, "mode=rw")
	defer db.Close()
	if _, err := db.Exec(insert); err != nil {
		t.Fatal(err)
	}
	return a, cursor
}

// keyTypeReaders are the ways the adapter reads rows: straight from SQLite
// with the rows read ahead or not, through database/sql as a snapshot or a
// look-up does, a delta, and a writing transaction's scan.
var keyTypeReaders = []struct {
	name string
	read func(t *testing.T, a *Adapter, cursor string) error
}{
	{"Scan", func(t *testing.T, a *Adapter, _ string) error { _, err := scanWith(t.Context(), t, a, -1); return err }},
	{"ScanShared", func(t *testing.T, a *Adapter, _ string) error { _, err := scanWith(t.Context(), t, a, 0); return err }},
	{"database/sql", func(t *testing.T, a *Adapter, _ string) error { _, err := scanWith(t.Context(), t, a, -2); return err }},
	{"database/sql look-up", lookUpAll},
	{"delta", func(t *testing.T, a *Adapter, cursor string) error {
		return readSnapshot(t, a, adapters.Filter{Since: cursor})
	}},
	{"transaction", func(t *testing.T, a *Adapter, _ string) error {
		tx, err := a.Begin(t.Context(), "s")
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		return tx.Scan(t.Context(), adapters.Filter{}, func(*record.Item) error { return nil })
	}},
}

func readSnapshot(t *testing.T, a *Adapter, f adapters.Filter) error {
	snap, err := a.Snapshot(t.Context(), "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	return snap.Scan(t.Context(), f, func(*record.Item) error { return nil })
}

// lookUpAll reads both tables with scanItems, which a load's look-ups and
// a read-back without SQLite's handle read through.
func lookUpAll(t *testing.T, a *Adapter, _ string) error {
	snap, err := a.Snapshot(t.Context(), "s")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	s := snap.(*snapshot)
	var it record.Item
	fn := plain(func(*record.Item) error { return nil })
	ctx := context.Background()
	if err := scanItems(ctx, s.tx, selectRecords+"persist_records"+orderRecords, nil, "", record.KindRecord, &it, asStored, fn); err != nil {
		return err
	}
	return scanItems(ctx, s.tx, selectEvents+"persist_events"+orderEvents, nil, "", record.KindEvent, &it, asStored, fn)
}

func untypedTables(t *testing.T, path string) {
	db := rawDB(t, path, "mode=rwc")
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE persist_stores (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)`,
		`CREATE TABLE persist_records (store TEXT NOT NULL, collection NOT NULL, key NOT NULL, version INTEGER NOT NULL,
			updated_at TEXT NOT NULL, deleted INTEGER NOT NULL, value TEXT, PRIMARY KEY (store, collection, key)) WITHOUT ROWID`,
		`CREATE TABLE persist_events (store TEXT NOT NULL, stream NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
			at TEXT NOT NULL, data TEXT, PRIMARY KEY (store, stream, seq)) WITHOUT ROWID`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// A collection or stream whose name another program stored as a blob
// beside the same name as text is one name, not two: listing the names (a
// filter's check, `persist` listings) refuses it as a read does, and reads
// again once its hint is followed.
func TestNamesOfAnotherType(t *testing.T) {
	const (
		copyRecord = `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			SELECT store, CAST(collection AS BLOB), key, version, updated_at, deleted, value FROM persist_records WHERE key = 'b'`
		copyEvent = `INSERT INTO persist_events (store, stream, seq, type, at, data)
			SELECT store, CAST(stream AS BLOB), seq, type, at, data FROM persist_events WHERE seq = 2`
	)
	for _, tc := range []struct{ name, insert, want string }{
		{"collection", copyRecord, `collection "c": ` + ErrKeyType.Error()},
		{"stream", copyEvent, `stream "s": ` + ErrKeyType.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := keyTypeStore(t, tc.insert, false)
			names := func() ([]adapters.NameCount, []adapters.NameCount, error) {
				snap, err := a.Snapshot(t.Context(), "s")
				if err != nil {
					t.Fatal(err)
				}
				defer snap.Close()
				return snap.Names(t.Context())
			}
			_, _, err := names()
			if !errors.Is(err, ErrKeyType) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Names: %v, want %q", err, tc.want)
			}
			runRepairHint(t, a.path, hint.All(err))
			cols, streams, err := names()
			if err != nil || len(cols) != 1 || cols[0].Count != 3 || len(streams) != 1 || streams[0].Count != 3 {
				t.Fatalf("after the hint: %v, %v, %v", cols, streams, err)
			}
		})
	}
}

// A column that is not a key holding what its reader cannot take (a
// version stored as a real by hand) is refused by every reader, naming the
// record and the column, with SQL that mends it; after which the store
// reads again, and the next delta carries the mended record.
func TestColumnOfAnotherType(t *testing.T) {
	for _, tc := range []struct{ name, edit, want, read string }{
		{"version a real", `UPDATE persist_records SET version = 2.5 WHERE key = 'b'`,
			`record "c"/"b": ` + ErrColumnType.Error() + `: version holds a real (2.5) instead of an integer`, `"version":3`},
		{"version text", `UPDATE persist_records SET version = 'two' WHERE key = 'b'`,
			`record "c"/"b": ` + ErrColumnType.Error() + `: version holds text ("two") instead of an integer`, `"version":1`},
		{"deleted a real", `UPDATE persist_records SET deleted = 0.5 WHERE key = 'b'`,
			`record "c"/"b": ` + ErrColumnType.Error() + `: deleted holds a real (0.5) instead of an integer`, `"value":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, cursor := keyTypeStore(t, tc.edit, false)
			for _, r := range keyTypeReaders {
				err := r.read(t, a, cursor)
				if !errors.Is(err, ErrColumnType) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v\nwant an error with %q", r.name, err, tc.want)
				}
				if hints := hint.All(err); len(hints) == 0 || !strings.Contains(hints[0], "UPDATE persist_records") {
					t.Errorf("%s: hints %q, want the SQL that mends the column", r.name, hints)
				}
			}
			hints := hint.All(keyTypeReaders[0].read(t, a, cursor))
			if len(hints) == 0 || !strings.Contains(hints[0], "UPDATE") {
				t.Fatalf("no SQL in the hints %q", hints)
			}
			db := rawDB(t, a.path, "mode=rw")
			defer db.Close()
			if _, err := db.Exec(hints[0][strings.Index(hints[0], "UPDATE"):]); err != nil {
				t.Fatalf("the hint's SQL: %v", err)
			}
			for _, r := range keyTypeReaders {
				if err := r.read(t, a, cursor); err != nil {
					t.Errorf("%s after the hint was followed: %v", r.name, err)
				}
			}
			got := delta(t, a, "s", cursor)
			if len(got) != 1 || !strings.Contains(got[0], `"key":"b"`) || !strings.Contains(got[0], tc.read) {
				t.Errorf("delta after the hint: %q, want record b with %s", got, tc.read)
			}
		})
	}
}

// A version past the largest integer can get no newer one, so the store
// refuses any change to the row: the hint moves the value out and deletes
// the row outright, and, followed, the store reads again.
func TestVersionPastTheLargest(t *testing.T) {
	a, cursor := keyTypeStore(t, `UPDATE persist_records SET version = 9223372036854775808 WHERE key = 'b'`, false)
	err := keyTypeReaders[0].read(t, a, cursor)
	if !errors.Is(err, ErrColumnType) || !strings.Contains(err.Error(), `record "c"/"b"`) {
		t.Fatalf("%v, want ErrColumnType naming c/b", err)
	}
	hints := hint.All(err)
	i := -1
	if len(hints) == 1 {
		i = strings.Index(hints[0], "SELECT value")
	}
	if i < 0 || strings.Contains(hints[0], "UPDATE") || !strings.Contains(hints[0], "WHERE store = 's' AND") {
		t.Fatalf("hints %q, want the SQL that takes the value out and deletes the row", hints)
	}
	// A writer's lookup of the row, whose query names the store last, names
	// the same store.
	tx, err := a.Begin(t.Context(), "s")
	if err != nil {
		t.Fatal(err)
	}
	key := &record.Item{Kind: record.KindRecord, Collection: "c", Key: "b"}
	lerr := tx.Lock(t.Context(), []*record.Item{key}, func(*record.Item) error { return nil })
	tx.Rollback()
	if h := hint.All(lerr); !errors.Is(lerr, ErrColumnType) || len(h) != 1 || h[0] != hints[0] {
		t.Fatalf("a lookup of the row: %v, hints %q; want the reader's hint %q", lerr, h, hints[0])
	}
	db := rawDB(t, a.path, "mode=rw")
	defer db.Close()
	var value string
	if err := db.QueryRow(hints[0][i:strings.Index(hints[0], ";")]).Scan(&value); err != nil || value != "1" {
		t.Fatalf("the hint's SELECT: %q, %v", value, err)
	}
	if _, err := db.Exec(hints[0][strings.Index(hints[0], "DELETE"):]); err != nil {
		t.Fatalf("the hint's DELETE: %v", err)
	}
	for _, r := range keyTypeReaders {
		if err := r.read(t, a, ""); err != nil {
			t.Errorf("%s after the hint was followed: %v", r.name, err)
		}
	}
}

// A store's name kept as a blob (as a program that binds bytes writes it)
// is never matched by a read of the store: every reader refuses the file,
// and the hint's SQL, run as it is, gives the store back whole.
func TestStoreNameOfAnotherType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	want := sample(t, path)
	db := rawDB(t, path, "mode=rw")
	for _, q := range []string{
		`UPDATE persist_records SET store = CAST(store AS BLOB) WHERE key = 'u1'`,
		`UPDATE persist_events SET store = CAST(store AS BLOB)`,
		// A twin of the same address in text stands beside the blob.
		`INSERT INTO persist_events (store, stream, seq, type, at, data) SELECT 'app', stream, seq, type, at, data FROM persist_events`,
		// An older record in text beside the blob one: the blob's is kept.
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			SELECT 'app', collection, key, version - 1, updated_at, deleted, '"older"' FROM persist_records WHERE key = 'u1'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	a := open(t, path, Options{ReadOnly: true})
	_, serr := a.Snapshot(t.Context(), "app")
	_, lerr := a.Stores(t.Context())
	a.Close()
	w := open(t, path, Options{})
	_, werr := w.Begin(t.Context(), "app")
	w.Close()
	for _, err := range []error{serr, lerr, werr} {
		if !errors.Is(err, ErrKeyType) || !strings.Contains(err.Error(), "persist_records.store holds a blob, persist_events.store holds a blob") {
			t.Fatalf("a read of a store named by a blob: %v", err)
		}
	}
	h := hint.All(serr)
	i := strings.Index(h[0], "DELETE FROM")
	if i < 0 {
		t.Fatalf("hints %q", h)
	}
	if _, err := db.Exec(h[0][i:]); err != nil {
		t.Fatalf("the hint's SQL: %v", err)
	}
	db.Close()
	a = open(t, path, Options{ReadOnly: true})
	defer a.Close()
	if got := dumpLines(t, a, "app"); !slices.Equal(got, want) {
		t.Errorf("after the hint: %q, want %q", got, want)
	}
}

// A read or write by name seeks the name as text: a row holding that
// name as another type is refused by it as by a whole read, not passed
// over (a dump of the collection without the row, a get that misses it, a
// put that writes a twin beside it); a read by another name is not
// refused, a write is (any collection or stream of the store not text),
// and once the hint is followed every one reads and writes again.
func TestNamedReadOfAnotherType(t *testing.T) {
	const (
		records = `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			SELECT store, %s, %s, version + 1, updated_at, deleted, '{"newer":1}' FROM persist_records WHERE key = 'b'`
		events = `INSERT INTO persist_events (store, stream, seq, type, at, data)
			SELECT store, %s, %s, type, at, data FROM persist_events WHERE seq = 2`
	)
	for _, tc := range []struct {
		name, insert string
		untyped      bool
		reads        []namedRead
		want         string       // the refusal's
		write        *record.Item // a write, refused where refusesWrite
		refusesWrite bool
	}{
		{"blob twin of a collection", fmt.Sprintf(records, "CAST(collection AS BLOB)", "key"), false,
			[]namedRead{{byCollection("c"), refused}, {byKey("c", "b"), refused}, {byStream("s"), passes}},
			`record "c"/"b": ` + ErrKeyType.Error() + `: collection holds a blob`, rec("c", "b"), true},
		{"integer twin of a collection", `UPDATE persist_records SET collection = '5'; ` + fmt.Sprintf(records, "5", "key"), true,
			[]namedRead{{byCollection("5"), refused}, {byKey("5", "b"), refused}},
			`record 5/"b": ` + ErrKeyType.Error() + `: collection holds an integer`, rec("5", "b"), true},
		{"blob key", fmt.Sprintf(records, "collection", "CAST('z' AS BLOB)"), false,
			[]namedRead{{byKey("c", "b"), refused}, {byAnyKey("b"), refused}, {byCollection("c"), scansRefuse}, {byStream("s"), passes}},
			`record "c"/"z": ` + ErrKeyType.Error() + `: key holds a blob`, rec("c", "q"), false},
		{"blob twin of a stream", fmt.Sprintf(events, "CAST(stream AS BLOB)", "seq"), false,
			[]namedRead{{byStream("s"), refused}, {byCollection("c"), passes}},
			`event "s"/2: ` + ErrKeyType.Error() + `: stream holds a blob`, evt("s", 9), true},
		{"blob seq", fmt.Sprintf(events, "'s2'", "CAST('9' AS BLOB)"), false,
			[]namedRead{{byStream("s"), passes}},
			`event "s2"/"9": ` + ErrKeyType.Error() + `: seq holds a blob`, evt("s2", 9), false},
		{"a blob of another collection", fmt.Sprintf(records, "CAST('other' AS BLOB)", "key"), false,
			[]namedRead{{byCollection("c"), passes}, {byKey("c", "b"), passes}},
			`record "other"/"b": ` + ErrKeyType.Error() + `: collection holds a blob`, rec("c", "b"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := keyTypeStore(t, tc.insert, tc.untyped)
			var hints []string
			refusal := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrKeyType) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want %q", what, err, tc.want)
				}
				hints = hint.All(err)
			}
			for _, r := range tc.reads {
				for i, err := range namedReads(t, a, r.f) {
					counted := i%2 == 0
					if r.want == passes || (r.want == scansRefuse && counted) {
						if err != nil {
							t.Errorf("read %d by %+v: %v", i, r.f, err)
						}
						continue
					}
					refusal(fmt.Sprintf("read %d by %+v", i, r.f), err)
				}
			}
			for i, err := range namedWrites(t, a, tc.write) {
				if tc.refusesWrite {
					refusal(fmt.Sprintf("write %d of %s", i, describe(tc.write)), err)
				} else if err != nil {
					t.Errorf("write %d of %s: %v", i, describe(tc.write), err)
				}
			}
			if !tc.write.IsRecord() {
				// An append asks for the stream's last seq first.
				tx, err := a.Begin(t.Context(), "s")
				if err != nil {
					t.Fatal(err)
				}
				_, err = tx.MaxSeq(t.Context(), []string{tc.write.Stream})
				tx.Rollback()
				if tc.name == "blob seq" {
					refusal("the last seq", err)
				} else if err != nil {
					t.Errorf("the last seq of %q: %v", tc.write.Stream, err)
				}
			}
			runRepairHint(t, a.path, hints)
			for _, r := range tc.reads {
				for i, err := range namedReads(t, a, r.f) {
					if err != nil {
						t.Errorf("read %d by %+v after the hint: %v", i, r.f, err)
					}
				}
			}
			for i, err := range namedWrites(t, a, tc.write) {
				if err != nil {
					t.Errorf("write %d of %s after the hint: %v", i, describe(tc.write), err)
				}
			}
		})
	}
}

// namedRead is a read by name, and what becomes of it.
type namedRead struct {
	f    adapters.Filter
	want int // passes, refused, scansRefuse
}

const (
	passes      = iota
	refused     // every read refuses the row
	scansRefuse // the scans meet the row, and refuse it as a whole read does; the counts pass
)

func byCollection(c string) adapters.Filter {
	return adapters.Filter{Collections: []string{c}, NoEvents: true}
}

func byKey(c, k string) adapters.Filter {
	return adapters.Filter{Collections: []string{c}, Keys: []string{k}, NoEvents: true}
}

func byAnyKey(k string) adapters.Filter { return adapters.Filter{Keys: []string{k}, NoEvents: true} }

func byStream(s string) adapters.Filter {
	return adapters.Filter{Streams: []string{s}, NoRecords: true}
}

func rec(c, k string) *record.Item {
	return &record.Item{Kind: record.KindRecord, Collection: c, Key: k}
}

func evt(s string, seq int64) *record.Item {
	return &record.Item{Kind: record.KindEvent, Stream: s, Seq: seq}
}

// namedReads reads store "s" by f each way the adapter can, counts at even
// places: a snapshot's count and scan, a transaction's count and scan.
func namedReads(t *testing.T, a *Adapter, f adapters.Filter) []error {
	t.Helper()
	ctx := t.Context()
	none := func(*record.Item) error { return nil }
	snap, err := a.Snapshot(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	_, _, cerr := snap.Count(ctx, f)
	serr := snap.Scan(ctx, f, none)
	snap.Close()
	tx, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, _, tcerr := tx.Count(ctx, f)
	return []error{cerr, serr, tcerr, tx.Scan(ctx, f, none)}
}

// namedWrites looks it up, puts it and removes it, each in a transaction
// of its own, rolled back.
func namedWrites(t *testing.T, a *Adapter, it *record.Item) []error {
	t.Helper()
	ctx := t.Context()
	put := *it
	put.Version, put.UpdatedAt, put.At, put.Type = 9, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z", "t"
	if it.IsRecord() {
		put.Value = []byte("1")
	} else {
		put.Data = []byte("1")
	}
	var errs []error
	for _, write := range []func(adapters.Tx) error{
		func(tx adapters.Tx) error {
			return tx.Lock(ctx, []*record.Item{it}, func(*record.Item) error { return nil })
		},
		func(tx adapters.Tx) error { return tx.Put(ctx, []*record.Item{&put}, adapters.Guarded) },
		func(tx adapters.Tx) error { return tx.Remove(ctx, []*record.Item{it}) },
	} {
		tx, err := a.Begin(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, write(tx))
		tx.Rollback()
	}
	return errs
}

// runRepairHint runs on the file at path the SQL the first of hints gives
// (from its DELETE FROM on), as a person following it would.
func runRepairHint(t *testing.T, path string, hints []string) {
	t.Helper()
	i := -1
	if len(hints) > 0 {
		i = strings.Index(hints[0], "DELETE FROM")
	}
	if i < 0 {
		t.Fatalf("hints %q, want the SQL that mends the rows", hints)
	}
	db := rawDB(t, path, "mode=rw")
	defer db.Close()
	if _, err := db.Exec(hints[0][i:]); err != nil {
		t.Fatalf("the hint's SQL: %v", err)
	}
}

// A name with control characters is quoted for SQL with char(N) for each,
// which a hint shows as it is, and which SQLite reads back as the name.
func TestSQLQuoteControl(t *testing.T) {
	db := rawDB(t, filepath.Join(t.TempDir(), "q.db"), "mode=rwc")
	defer db.Close()
	for _, name := range []string{"plain", "it's", "k\x1b[31m", "\x00start", "end\x7f", "c1\u009b'", "tab\there", "lone\x9bA'q"} {
		q := sqlQuote(name)
		if strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) {
			t.Errorf("sqlQuote(%q) = %q holds a control character", name, q)
		}
		var same bool
		if err := db.QueryRow(`SELECT `+q+` = ?`, name).Scan(&same); err != nil || !same {
			t.Errorf("sqlQuote(%q) = %s reads back otherwise (%v)", name, q, err)
		}
	}
}
