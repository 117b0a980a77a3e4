package sqlite

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
)

// A full disk is said as such, and is syscall.ENOSPC to a caller, as a
// write's own error would be; SQLite's error stays in the chain.
func TestExplainFullDisk(t *testing.T) {
	a := &Adapter{path: "/full/app.db"}
	full := sqlite3.Error{Code: sqlite3.ErrFull}
	err := a.Explain(full)
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, adapters.ErrFull) || !strings.Contains(err.Error(), "the disk holding /full/app.db") {
		t.Fatalf("Explain(SQLITE_FULL) = %v", err)
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("SQLite's error is not in the chain: %v", err)
	}
	if other := (sqlite3.Error{Code: sqlite3.ErrCorrupt}); a.Explain(other) != error(other) {
		t.Fatalf("Explain changed an error it has nothing to say of: %v", a.Explain(other))
	}
}
