//go:build linux

package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

// A database on a read-only mount is said to be one, with a hint whose way
// out works, whether SQLite fails to open the file (WAL: no -shm can be
// made) or opens it read-only and fails the first write (a rollback
// journal); and so is a copy (VACUUM INTO) made there. Mounting needs
// root and a kernel that lets the test mount; otherwise the test is
// skipped, and TestUnwritableFile covers what permissions show.
func TestReadOnlyMount(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	wal, journal := filepath.Join(mnt, "wal.db"), filepath.Join(mnt, "journal.db")
	want := sample(t, wal)
	sample(t, journal)
	db := rawDB(t, journal, "mode=rw")
	if _, err := db.Exec("PRAGMA journal_mode=DELETE"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount the tmpfs read-only: %v", err)
	}
	for _, path := range []string{wal, journal} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			err := writeTo(t.Context(), path)
			wantReadOnlyFS(t, err, "copy the database")
			elsewhere := filepath.Join(t.TempDir(), "app.db")
			copyFile(t, path, elsewhere)
			if err := writeTo(t.Context(), elsewhere); err != nil {
				t.Fatalf("writing to the copy, as the hint says: %v", err)
			}
			a := open(t, elsewhere, Options{ReadOnly: true})
			defer a.Close()
			if got := dumpLines(t, a, "app"); !slices.Equal(got[:2], want[:2]) || len(got) != len(want)+1 {
				t.Errorf("the copy written to: %q", got)
			}
		})
	}
	t.Run("copy", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "src.db")
		sample(t, src)
		err := copyOf(t, src, "app", filepath.Join(mnt, "copy.db"), nil)
		wantReadOnlyFS(t, err, "make the copy in a directory")
		if err := copyOf(t, src, "app", filepath.Join(t.TempDir(), "copy.db"), nil); err != nil {
			t.Errorf("a copy made elsewhere, as the hint says: %v", err)
		}
	})
}

func wantReadOnlyFS(t *testing.T, err error, way string) {
	t.Helper()
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("error %v, want one saying the file system is read-only", err)
	}
	if h := hint.All(err); len(h) == 0 || !strings.Contains(h[0], "mounted read-only") || !strings.Contains(h[0], way) {
		t.Errorf("hints %q, want the file system named read-only, and %q", h, way)
	}
}
