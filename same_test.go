package persist_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/testdb"
)

// One store, named twice as two programs may name it (a link to the
// file's folder; another spelling of the server's address), is refused
// by everything that needs two: a comparison or a diff would find it
// equal to itself, a migration and a dual-write copy it onto itself. Another store
// of the same database is another store.
func TestOneStoreNamedTwice(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t)
		s := open(t, loc+"#app")
		if _, err := s.Put(ctx, "users", "u1", map[string]any{"name": "Ada"}); err != nil {
			t.Fatal(err)
		}
		other := db.Respell(t, loc)

		_, err := persist.Compare(ctx, loc+"#app", other+"#app", persist.CompareOptions{})
		if !errors.Is(err, persist.ErrSameStore) {
			t.Errorf("Compare of one store named twice: %v, want ErrSameStore", err)
		}
		var patch strings.Builder
		r, err := persist.Diff(ctx, loc+"#app", other+"#app", &patch, persist.DiffOptions{Format: persist.DiffPatch})
		if !errors.Is(err, persist.ErrSameStore) || r.Differ() || patch.Len() > 0 {
			t.Errorf("Diff of one store named twice: %+v, %q, %v; want ErrSameStore and nothing written", r, patch.String(), err)
		}
		_, err = persist.Migrate(ctx, loc+"#app", other+"#app", persist.MigrateOptions{})
		if !errors.Is(err, persist.ErrSameStore) {
			t.Errorf("Migrate onto itself: %v, want ErrSameStore", err)
		}
		if d, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: other}); !errors.Is(err, persist.ErrSameStore) || d != nil {
			t.Errorf("EnableDualWrite onto itself: %v, want ErrSameStore and no dual-write", err)
		}
		if err != nil && !strings.Contains(err.Error(), `"app"`) {
			t.Errorf("the error does not name the store: %v", err)
		}
		anotherStore(t, s, loc+"#app", other+"#copy")
	})
}

// anotherStore checks that copy, another store of the database s is in,
// is one: migrated into, compared with, written to in a dual-write.
func anotherStore(t *testing.T, s *persist.Store, loc, copy string) {
	t.Helper()
	ctx := testContext(t)
	if _, err := persist.Migrate(ctx, loc, copy, persist.MigrateOptions{}); err != nil {
		t.Fatalf("Migrate into another store of the database: %v", err)
	}
	c, err := persist.Compare(ctx, loc, copy, persist.CompareOptions{})
	if err != nil || !c.Equal() {
		t.Errorf("Compare with the copy: %+v, %v; want equal", c, err)
	}
	if r, err := persist.Diff(ctx, loc, copy, io.Discard, persist.DiffOptions{}); err != nil || r.Differ() {
		t.Errorf("Diff with the copy: %+v, %v; want no difference", r, err)
	}
	d, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: copy})
	if err != nil {
		t.Fatalf("EnableDualWrite into another store of the database: %v", err)
	}
	d.Disable()
}

// A load's Claim hears the store's identity before anything is written,
// one for two spellings of one store, and its refusal stops the load with
// nothing made.
func TestLoadClaim(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t)
		open(t, loc+"#app").Close() // the database exists
		other := db.Respell(t, loc)
		refused := errors.New("refused")
		var ids []string
		claim := func(id string) error {
			ids = append(ids, id)
			return refused
		}
		stream := `{"kind":"record","collection":"c","key":"k","version":1,"value":1}` + "\n"
		for _, l := range []string{loc + "#new", other + "#new", other + "#app"} {
			_, err := persist.Load(ctx, strings.NewReader(stream), l, persist.LoadOptions{Claim: claim})
			if !errors.Is(err, refused) {
				t.Errorf("Load into %s with a Claim that refuses: %v", l, err)
			}
		}
		if len(ids) != 3 || ids[0] == "" || ids[0] != ids[1] || ids[1] == ids[2] {
			t.Fatalf("claimed %q: want one identity for store new named twice, another for store app", ids)
		}
		targetIdentities(t, loc, other, ids[0], ids[2])
		infos, err := persist.Stores(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(infos, func(s persist.StoreInfo) bool { return s.Name == "new" }); i >= 0 {
			t.Errorf("a refused load made store new: %+v", infos)
		}
	})
}

// A dual-write asked of a closed store says so, before it asks any
// database which it is.
func TestDualWriteOnClosedStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		loc := db.Location(t)
		s := open(t, loc+"#app")
		s.Close()
		if _, err := persist.EnableDualWrite(testContext(t), s, persist.DualWriteOptions{Target: db.Location(t)}); !errors.Is(err, persist.ErrClosed) {
			t.Errorf("EnableDualWrite on a closed store: %v, want ErrClosed", err)
		}
	})
}

// targetIdentities checks that TargetIdentity tells, before a load, the
// store it will claim: by the name, by the flag, or as the one store the
// database holds.
func targetIdentities(t *testing.T, loc, other, newID, appID string) {
	t.Helper()
	for _, tc := range []struct{ loc, store, want string }{
		{other + "#new", "", newID}, {loc, "new", newID}, {loc, "", appID}, {other + "#app", "", appID},
	} {
		if got, err := persist.TargetIdentity(testContext(t), tc.loc, tc.store); err != nil || got != tc.want {
			t.Errorf("TargetIdentity(%s, %q) = %q, %v; want %q", tc.loc, tc.store, got, err, tc.want)
		}
	}
}

// A migration between two stores of one SQLite file lets its snapshot go
// before its load ends: the load's checkpoint then waits for no reader,
// and leaves the file whole on its own (an empty log).
func TestMigrateWithinOneFile(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, "sqlite:"+path+"#app")
	for i := range 50 {
		if _, err := s.Put(ctx, "users", fmt.Sprint(i), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := persist.Migrate(ctx, "sqlite:"+path+"#app", "sqlite:"+path+"#copy", persist.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("after the migration the log holds %d bytes: the file alone is not the database", st.Size())
	}
}
