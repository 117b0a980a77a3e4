package persist_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cuitty/persist"
)

// A caller's deadline bounds a write waiting for a SQLite lock another
// connection holds: it ends with context.DeadlineExceeded soon after it,
// not after the 5 s a lock is waited for; a read does not wait at all; and
// once the lock is let go, the store is written as before.
func TestSQLiteLockWaitEndsWithDeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	s := open(t, "sqlite:"+path+"#app")
	ctx := testContext(t)
	if _, err := s.Put(ctx, "u", "k", 0); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"put", func(ctx context.Context) error { _, err := s.Put(ctx, "u", "k", 1); return err }},
		// A store opened behind the lock: its first write makes sure of
		// the schema first, in a transaction of its own.
		{"first put of a store opened since", func(ctx context.Context) error {
			fresh, err := persist.Open(ctx, "sqlite:"+path+"#app")
			if err != nil {
				return err
			}
			defer fresh.Close()
			_, err = fresh.Put(ctx, "u", "k", 1)
			return err
		}},
		// A deadline that ends about when the wait begins.
		{"put with a deadline of 1ms", func(ctx context.Context) error {
			short, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			_, err := s.Put(short, "u", "k", 1)
			return err
		}},
	} {
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		err := op.do(dctx)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s behind a held lock: %v, want context.DeadlineExceeded", op.name, err)
		}
		// The busy timeout is 5 s; the deadline 0.3 s.
		if took > 3*time.Second {
			t.Errorf("%s behind a held lock took %v, past its deadline of 300ms", op.name, took)
		}
	}
	// A read takes no write lock: it answers at once with what was
	// committed, however long the other writer holds its lock.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	r, err := s.Get(dctx, "u", "k")
	cancel()
	if err != nil || r.Version != 1 || string(r.Value) != "0" {
		t.Errorf("get behind a held write lock: %+v, %v; want version 1, value 0", r, err)
	}
	if _, err := holder.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Put(ctx, "u", "k", 2); err != nil || r.Version != 2 {
		t.Fatalf("put after the lock was let go: %+v, %v; want version 2", r, err)
	}
}

// A store whose row was removed by hand, and which holds nothing, has no
// such record: Get says ErrNotFound, as Delete does (and ErrNoStore too).
func TestGetOfAStoreGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.db")
	s := open(t, "sqlite:"+path+"#app")
	ctx := testContext(t)
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM persist_stores WHERE name = 'app'`); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "u", "k")
	if !errors.Is(err, persist.ErrNotFound) || !errors.Is(err, persist.ErrNoStore) {
		t.Fatalf("get in a store gone: %v, want ErrNotFound and ErrNoStore", err)
	}
	if _, err := s.Delete(ctx, "u", "k"); !errors.Is(err, persist.ErrNotFound) {
		t.Fatalf("delete in a store gone: %v, want ErrNotFound", err)
	}
}
