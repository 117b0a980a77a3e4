//go:build unix

package sqlite

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyDirectory reads databases in a directory it cannot write to:
// a WAL database closed cleanly (no -wal, no -shm, which SQLite could not
// create), one with its -wal and -shm, one whose -wal holds transactions but
// has no -shm (refused with advice, never read without them), and a
// rollback-journal database. Root may write anywhere, so as root the test
// reruns itself as nobody.
func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestReadOnlyDirectory")
		return
	}
	base := t.TempDir()
	t.Cleanup(func() { chmodTree(base, 0o755) }) // so TempDir can remove it

	mk := func(name string) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "app.db")
	}
	seal := func(path string) {
		chmodTree(filepath.Dir(path), 0o555)
		if err := os.Chmod(filepath.Dir(path), 0o555); err != nil {
			t.Fatal(err)
		}
	}
	readable := func(t *testing.T, path string, want []string) {
		t.Helper()
		a := open(t, path, Options{ReadOnly: true})
		defer a.Close()
		if got := dumpLines(t, a, "app"); !slices.Equal(got, want) {
			t.Errorf("%s: dump = %q, want %q", path, got, want)
		}
		if _, err := a.Begin(t.Context(), "app"); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Begin: %v, want ErrReadOnly", err)
		}
	}

	t.Run("WALClean", func(t *testing.T) {
		path := mk("wal-clean")
		want := sample(t, path)
		if !isWAL(path) {
			t.Fatal("sample database is not in WAL mode")
		}
		seal(path)
		readable(t, path, want)
		if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
			t.Errorf("directory holds %d entries, want only the database", len(ents))
		}
	})

	// Copies of a database that a writer holds open: its -wal has content.
	live := mk("live")
	want := sample(t, live)
	w := open(t, live, Options{})
	defer w.Close()
	extra := sampleMore(t, w)
	copyDB := func(name string, suffixes ...string) string {
		path := mk(name)
		for _, s := range append([]string{""}, suffixes...) {
			copyFile(t, live+s, path+s)
		}
		return path
	}

	t.Run("WALWithShm", func(t *testing.T) {
		path := copyDB("wal-shm", "-wal", "-shm")
		seal(path)
		// Dump order: the new record sorts before the event.
		readable(t, path, slices.Concat(want[:2], extra, want[2:]))
	})

	t.Run("WALWithoutShm", func(t *testing.T) {
		path := copyDB("wal-no-shm", "-wal")
		if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("the copy has no -wal content: %v", err)
		}
		seal(path)
		a, err := Open(path, Options{ReadOnly: true})
		if err == nil {
			a.Close()
			t.Fatal("opened a WAL database without its -shm in a read-only directory, which reads no -wal")
		}
		if !strings.Contains(err.Error(), "wal_checkpoint") {
			t.Errorf("error gives no advice: %v", err)
		}
	})

	t.Run("RollbackJournal", func(t *testing.T) {
		path := mk("delete")
		want := sample(t, path)
		db := rawDB(t, path, "mode=rw")
		if _, err := db.Exec("PRAGMA journal_mode=DELETE"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if isWAL(path) {
			t.Fatal("still in WAL mode")
		}
		seal(path)
		readable(t, path, want)
	})
}

// sampleMore commits more items through w and returns their lines.
func sampleMore(t *testing.T, w *Adapter) []string {
	t.Helper()
	return putLines(t, w, "app", `{"kind":"record","collection":"users","key":"u3","version":1,"updated_at":"2026-11-25T12:00:03.000000Z","value":"in the wal"}`)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func chmodTree(dir string, mode os.FileMode) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, mode)
		}
		return nil
	})
}

// runAsNobody reruns one test of this binary as user nobody, from a copy of
// the binary that nobody can execute.
func runAsNobody(t *testing.T, name string) {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("look up user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "persist-sqlite-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sqlite.test")
	copyFile(t, self, bin)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(tmp, 0o777)
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("%s as nobody: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s did not run as nobody", name)
	}
}
