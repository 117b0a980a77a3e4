package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// A copy of the file from before the cursor, put back and written to
// until its counter passes the cursor's, is told by its history: the
// counter alone would take it for the store the cursor came from.
func TestCursorOfRestoredCopyWrittenTo(t *testing.T) {
	dir := t.TempDir()
	path, copyPath := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	sample(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	a := open(t, path, Options{})
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	c := cursor(t, a, "app")
	a.Close()

	old := open(t, copyPath, Options{})
	defer old.Close()
	putLines(t, old, "app", `{"kind":"record","collection":"users","key":"x1","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
	db := rawDB(t, copyPath, "mode=rw&_busy_timeout=5000")
	if _, err := db.Exec(`UPDATE persist_records SET value = '"by hand"' WHERE key = 'u1'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := old.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = s.Count(t.Context(), adapters.Filter{Since: c})
	if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "history") {
		t.Errorf("Count since a cursor on an older copy written to since: %v, want ErrCursor (history)", err)
	}
}

// A trigger dropped by hand makes the store give no cursor until Upgrade
// repairs it; cursors from before the repair are refused, since changes
// may have gone unrecorded meanwhile.
func TestTrackingRepaired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{})
	defer a.Close()
	c1 := cursor(t, a, "app")
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER persist_records_upd`, `UPDATE persist_records SET value = '"unseen"' WHERE key = 'u1'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cursor(t.Context()); !errors.Is(err, adapters.ErrNoCursor) {
		t.Errorf("Cursor with a trigger dropped: %v, want ErrNoCursor", err)
	}
	if _, _, err := s.Count(t.Context(), adapters.Filter{Since: c1}); !errors.Is(err, adapters.ErrNoCursor) {
		t.Errorf("delta with a trigger dropped: %v, want ErrNoCursor", err)
	}
	s.Close()
	if u, err := a.Upgrade(t.Context()); err != nil || u != (adapters.Upgraded{From: schemaVersion, To: schemaVersion, Repaired: true}) {
		t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: schemaVersion, To: schemaVersion, Repaired: true})
	}
	s, err = a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Count(t.Context(), adapters.Filter{Since: c1}); !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("delta since a cursor from before the repair: %v, want ErrCursor", err)
	}
	s.Close()
	c2 := cursor(t, a, "app")
	if _, err := db.Exec(`UPDATE persist_records SET value = '"seen"' WHERE key = 'u1'`); err != nil {
		t.Fatal(err)
	}
	if got := delta(t, a, "app", c2); len(got) != 1 || !strings.Contains(got[0], `"seen"`) {
		t.Errorf("delta after the repair: %q", got)
	}
}

// A version 2 file (no history) is upgraded in place, and its cursors,
// which name no history entry, are still taken.
func TestUpgradeFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	defer db.Close()
	for _, tr := range ownTriggers {
		if _, err := db.Exec(`DROP TRIGGER ` + tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{`DROP TABLE persist_history`, `UPDATE persist_meta SET value = '2' WHERE key = 'schema_version'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	v2 := open(t, path, Options{ReadOnly: true})
	defer v2.Close()
	c1 := cursor(t, v2, "app")
	if c, err := adapters.ParseCursor(c1); err != nil || c.Mark.Token != "" {
		t.Fatalf("cursor of a version 2 file: %+v, %v", c, err)
	}
	w := open(t, path, Options{})
	defer w.Close()
	if u, err := w.Upgrade(t.Context()); err != nil || u != (adapters.Upgraded{From: 2, To: 3}) {
		t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 2, To: 3})
	}
	if _, err := db.Exec(`UPDATE persist_records SET value = '"by hand"' WHERE key = 'u1'`); err != nil {
		t.Fatal(err)
	}
	if got := delta(t, w, "app", c1); len(got) != 1 || !strings.Contains(got[0], `"by hand"`) {
		t.Errorf("delta since a version 2 cursor after the upgrade: %q", got)
	}
	if c, err := adapters.ParseCursor(cursor(t, w, "app")); err != nil || c.Mark.Token == "" {
		t.Errorf("cursor after the upgrade: %+v, %v; want a history entry", c, err)
	}
}
