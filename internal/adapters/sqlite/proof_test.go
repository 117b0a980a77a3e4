package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// putAndReadBack writes items in one transaction (mode; then between, if
// any) and reads asked back, returning the problems ReadBack found, sorted,
// and whether it took the proof. The transaction is rolled back.
func putAndReadBack(t *testing.T, a *Adapter, mode adapters.PutMode, items []*record.Item, between func(adapters.Tx), asked []*record.Item) (problems []string, proven bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, mode); err != nil {
		t.Fatal(err)
	}
	if between != nil {
		between(tx)
	}
	before := provenReadBacks.Load()
	err = tx.ReadBack(ctx, asked, func(it *record.Item, p string) error {
		problems = append(problems, describe(it)+" "+p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(problems)
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
			putAndReadBack(t, a, adapters.Overwrite, proofItems(1, "first"), nil, nil) // the schema
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
			problems, proven := putAndReadBack(t, a, adapters.Overwrite, items, nil, items)
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

// The proof covers exactly what the transaction wrote: items other than
// those Put wrote (another value, an address no statement wrote), or rows
// a Remove may have taken since, are read back and compared; a row a
// guarded statement left as it was is not this transaction's.
func TestReadBackProofOnlyWhatWasWritten(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	defer a.Close()
	putAndReadBack(t, a, adapters.Overwrite, proofItems(1, "first"), nil, nil)
	ctx := context.Background()
	run := func(name string, mode adapters.PutMode, items []*record.Item, between func(adapters.Tx), asked []*record.Item, wantProof bool, want ...string) {
		t.Helper()
		problems, proven := putAndReadBack(t, a, mode, items, between, asked)
		if fmt.Sprint(problems) != fmt.Sprint(want) {
			t.Errorf("%s: problems\n got %q\nwant %q", name, problems, want)
		}
		if proven != wantProof {
			t.Errorf("%s: proof taken %v, want %v", name, proven, wantProof)
		}
	}
	items := proofItems(5, "v")
	run("as written", adapters.Overwrite, items, nil, items, true)

	other := *items[3]
	other.Value = []byte(`{"v":99}`)
	absent := &record.Item{Kind: record.KindRecord, Collection: "c", Key: "never", Version: 1, UpdatedAt: items[0].UpdatedAt, Value: []byte(`1`)}
	run("others", adapters.Overwrite, items, nil, []*record.Item{items[0], &other, absent}, false,
		`record "c"/"k003" value differs`, `record "c"/"never" `+adapters.ProblemMissing)

	removed := func(tx adapters.Tx) {
		if err := tx.Remove(ctx, []*record.Item{{Kind: record.KindRemove, Collection: "c", Key: "k004"}}); err != nil {
			t.Fatal(err)
		}
	}
	run("removed since", adapters.Overwrite, items, removed, items, false, `record "c"/"k004" `+adapters.ProblemMissing)

	putLines(t, a, "app", `{"kind":"record","collection":"c","key":"k001","version":2,"updated_at":"2026-12-05T12:00:00.000000Z","value":2}`)
	older := []*record.Item{{Kind: record.KindRecord, Collection: "c", Key: "k001", Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`0`)}}
	run("left by a guard", adapters.Guarded, older, nil, older, true, `record "c"/"k001" `+adapters.ProblemNotOurs)
}
