package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// putAndReadBack writes items in one transaction and reads them back,
// returning the problems ReadBack found and whether it took the proof.
func putAndReadBack(t *testing.T, a *Adapter, items []*record.Item, asked []*record.Item) (problems []string, proven bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	before := provenReadBacks.Load()
	err = tx.ReadBack(ctx, asked, func(it *record.Item, p string) error {
		problems = append(problems, fmt.Sprintf("%s %s", describe(it), p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return problems, provenReadBacks.Load() > before
}

func proofItems(n int, tag string) []*record.Item {
	var items []*record.Item
	for i := range n {
		items = append(items, &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%03d", i), Version: 1,
			UpdatedAt: "2026-12-05T12:00:00.000000Z", Value: fmt.Appendf(nil, `{"%s":%d}`, tag, i)})
	}
	items = append(items, &record.Item{Kind: record.KindEvent, Stream: "s", Seq: 1, Type: "t", At: "2026-12-05T12:00:00.000000Z",
		Data: []byte(`{"e":1}`)})
	return items
}

// Where every object on Persist's tables is this release's, what a
// transaction wrote is not read back; anything else on them (a trigger, an
// index of another program's) is, and a trigger's change is caught. An
// application's own tables beside them change nothing.
func TestReadBackProof(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ddl    string
		proven bool
	}{
		{"as made", "", true},
		{"an application's table beside", `CREATE TABLE app_users (id INTEGER PRIMARY KEY, name TEXT);
			CREATE TRIGGER app_users_ins AFTER INSERT ON app_users BEGIN SELECT 1; END`, true},
		{"a trigger of another's", `CREATE TRIGGER audit AFTER INSERT ON persist_records
			WHEN NEW.key = 'k001' BEGIN UPDATE persist_records SET value = '{"x":-1}' WHERE key = NEW.key; END`, false},
		{"an index of another's", `CREATE INDEX app_by_value ON persist_records (value)`, false},
		{"a trigger on the history", `CREATE TRIGGER hist AFTER INSERT ON persist_history BEGIN SELECT 1; END`, false},
		{"a table named like Persist's", `CREATE TABLE persist_extra (x)`, false},
		// A name SQLite keeps for itself, made anyway.
		{"a trigger named like SQLite's", `PRAGMA writable_schema = ON; CREATE TRIGGER sqlite_audit AFTER INSERT ON persist_records
			WHEN NEW.key = 'k001' BEGIN UPDATE persist_records SET value = '{"x":-1}' WHERE key = NEW.key; END`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			a := open(t, path, Options{})
			defer a.Close()
			putAndReadBack(t, a, proofItems(1, "first"), nil) // the schema
			if tc.ddl != "" {
				db, err := sql.Open("sqlite3", path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(tc.ddl); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			items := proofItems(20, "v")
			problems, proven := putAndReadBack(t, a, items, items)
			if proven != tc.proven {
				t.Errorf("proof taken: %v, want %v", proven, tc.proven)
			}
			alters := strings.Contains(tc.ddl, "UPDATE")
			if alters && (len(problems) != 1 || problems[0] != `record "c"/"k001" value differs`) {
				t.Errorf("the trigger's change: problems %q", problems)
			} else if !alters && len(problems) > 0 {
				t.Errorf("problems %q", problems)
			}
		})
	}
}

// The proof covers exactly what the transaction wrote: an item asked about
// as other than it was written (another value, a buffer the caller reused,
// an address written by no statement of it, one removed since) is read
// back and compared.
func TestReadBackProofOnlyWhatWasWritten(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	defer a.Close()
	putAndReadBack(t, a, proofItems(1, "first"), nil)
	items := proofItems(5, "v")
	buf := items[2].Value
	other := *items[3]
	other.Value = []byte(`{"v":99}`)
	absent := &record.Item{Kind: record.KindRecord, Collection: "c", Key: "never", Version: 1, UpdatedAt: items[0].UpdatedAt, Value: []byte(`1`)}
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	copy(buf, `{"v":7}`) // the caller's buffer, reused after the write
	if err := tx.Remove(ctx, []*record.Item{{Kind: record.KindRemove, Collection: "c", Key: "k004"}}); err != nil {
		t.Fatal(err)
	}
	before := provenReadBacks.Load()
	var problems []string
	err = tx.ReadBack(ctx, []*record.Item{items[0], items[2], &other, absent, items[4]}, func(it *record.Item, p string) error {
		problems = append(problems, describe(it)+" "+p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`record "c"/"k002" value differs`, `record "c"/"k003" value differs`, `record "c"/"k004" ` + adapters.ProblemMissing,
		`record "c"/"never" ` + adapters.ProblemMissing}
	if fmt.Sprint(problems) != fmt.Sprint(want) {
		t.Errorf("problems\n got %q\nwant %q", problems, want)
	}
	if provenReadBacks.Load() == before {
		t.Error("the proof was not taken: the items written as asked were read back too")
	}
}

// A transaction that writes more than a batch (one for a whole stream,
// or one no ReadBack empties) notes no more than maxSent, tombstones (no
// value) too; what it did not note is read back.
func TestSentLogBounded(t *testing.T) {
	var l sentLog
	n := 2 * maxSent / sentCost
	for i := range n {
		l.note(&record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%09d", i), Version: 1,
			UpdatedAt: "2026-12-05T12:00:00.000000Z", Deleted: true})
	}
	if l.size > maxSent || len(l.items) >= n || len(l.at) != len(l.items) {
		t.Errorf("after %d tombstones: %d bytes, %d items, %d addresses; want at most %d bytes", n, l.size, len(l.items), len(l.at), maxSent)
	}
	last := &record.Item{Kind: record.KindRecord, Collection: "c", Key: fmt.Sprintf("k%09d", n-1), Version: 1,
		UpdatedAt: "2026-12-05T12:00:00.000000Z", Deleted: true}
	if l.wrote(addressOf(last), last) {
		t.Error("an item past the bound was noted")
	}
	l.reset()
	if l.size != 0 || len(l.items) != 0 || len(l.at) != 0 {
		t.Errorf("reset left %d bytes, %d items", l.size, len(l.items))
	}
}
