//go:build unix

package sqlite

import (
	"context"
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
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
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

	// Another user who may write the directory writes the file under a
	// read without locks (a checkpoint, as a writer's close makes): each
	// read after it is refused, what was read may mix the two states.
	t.Run("WALCleanWrittenUnderRead", func(t *testing.T) {
		path := mk("wal-written")
		sample(t, path)
		if err := os.Chmod(filepath.Dir(path), 0o555); err != nil {
			t.Fatal(err)
		}
		a := open(t, path, Options{ReadOnly: true})
		defer a.Close()
		if a.unlocked == nil {
			t.Fatal("the file is read with locks, in a directory that cannot be written")
		}
		s, err := a.Snapshot(t.Context(), "app")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, _, err := s.Count(t.Context(), adapters.Filter{}); err != nil {
			t.Fatalf("Count before a write: %v", err)
		}
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)                       // past the clock's tick, where times are coarse
		if err := os.WriteFile(path, page, 0o644); err != nil { // the same bytes, as a checkpoint of no change writes them
			t.Fatal(err)
		}
		// Its time of modification set back, as rsync -t or touch -r
		// would: the time of change still tells.
		if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
			t.Fatal(err)
		}
		err = s.Scan(t.Context(), adapters.Filter{}, func(*record.Item) error { return nil })
		if !errors.Is(err, ErrChangedUnderRead) {
			t.Errorf("Scan after a write: %v, want ErrChangedUnderRead", err)
		}
		if _, _, err := s.Count(t.Context(), adapters.Filter{}); !errors.Is(err, ErrChangedUnderRead) {
			t.Errorf("Count after a write: %v, want ErrChangedUnderRead", err)
		}
		if h := hint.All(err); len(h) == 0 || !strings.Contains(h[0], filepath.Dir(path)) {
			t.Errorf("hints %q", h)
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

// A writer of a database it may not write is told which of the file and
// its directory it lacks access to (SQLite says "unable to open database
// file: no such file or directory", or "attempt to write a readonly
// database"), and writes once it has it, as the hint says. Root may write
// anywhere, so as root the test reruns itself as nobody.
func TestUnwritableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestUnwritableFile")
		return
	}
	for _, tc := range []struct {
		name  string
		taken func(path string) string // what loses its write access: the file or its directory
	}{
		{"directory", filepath.Dir},
		{"file", func(p string) string { return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db", "app.db")
			if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			sample(t, path)
			taken := tc.taken(path)
			st, err := os.Stat(taken)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(taken, st.Mode().Perm()&^0o222); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(taken, st.Mode().Perm()) })
			err = writeTo(t.Context(), path)
			if !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "write "+taken+": permission denied") {
				t.Errorf("error %v, want it to name %s", err, taken)
			}
			h := hint.All(err)
			if len(h) == 0 || !strings.Contains(h[0], "chmod u+w "+taken) {
				t.Fatalf("hints %q, want one that gives write access to %s", h, taken)
			}
			cmd := h[0][strings.Index(h[0], "chmod u+w "):]
			cmd = cmd[:strings.Index(cmd, ")")]
			if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			if err := writeTo(t.Context(), path); err != nil {
				t.Errorf("after %s, as the hint says: %v", cmd, err)
			}
		})
	}
	// A scratch file (a load making a new database aside) in a directory
	// this user may not write is refused as it opens, for the same reason.
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	a, err := Open(filepath.Join(dir, "persist-copy-1.tmp"), Options{Scratch: true})
	if err == nil {
		a.Close()
	}
	if !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "write "+dir+": permission denied") ||
		len(hint.All(err)) == 0 || !strings.Contains(hint.All(err)[0], "chmod u+w "+dir) {
		t.Errorf("a scratch file in a read-only directory: %v (hints %q), want the directory named, with chmod u+w", err, hint.All(err))
	}
}

// writeTo opens the file at path read-write and commits a record to it.
func writeTo(ctx context.Context, path string) error {
	a, err := Open(path, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var l record.Line
	if err := record.ParseLine([]byte(`{"kind":"record","collection":"users","key":"u5","version":1,"updated_at":"2026-11-25T12:00:00Z","value":5}`), &l); err != nil {
		return err
	}
	if err := tx.Put(ctx, []*record.Item{&l.Item}, adapters.Guarded); err != nil {
		return err
	}
	return tx.Commit()
}
