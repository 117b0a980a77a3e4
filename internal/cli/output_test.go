package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist/internal/durable"
	"github.com/cuitty/persist/internal/hint"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }
func (failingWriter) Close() error              { return nil }

// An output one of whose writes failed (a full disk) is not put in place
// by Commit, nor is a file it would replace touched: an empty rejects file
// read as no rejects.
func TestCommitAfterFailedWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rejects.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := CreateOutput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.w = failingWriter{}
	if _, err := o.Write([]byte("a line\n")); err == nil {
		t.Fatal("the write did not fail")
	}
	if err := o.Commit(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Commit after a failed write = %v, want the write's error", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "old\n" {
		t.Errorf("the file is %q (%v), want the old one untouched", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// tmpfileWorks reports whether dir's file system makes files without a name
// (O_TMPFILE), asked of the kernel directly.
func tmpfileWorks(t *testing.T, dir string) bool {
	t.Helper()
	if runtime.GOOS != "linux" {
		return false
	}
	f, err := openAnon(dir, "probe")
	if err != nil {
		t.Logf("no file without a name in %s: %v", dir, err)
		return false
	}
	f.Close()
	return true
}

// names lists dir's entries.
func names(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

// eachPath runs test with anonFiles on and off: a file without a name where
// the system makes one, else, and with anonFiles off, a temporary name.
func eachPath(t *testing.T, test func(t *testing.T, dir string, anon bool)) {
	for _, anon := range []bool{true, false} {
		t.Run(fmt.Sprintf("anon=%v", anon), func(t *testing.T) {
			defer func(v bool) { anonFiles = v }(anonFiles)
			anonFiles = anon
			dir := t.TempDir()
			test(t, dir, anon && tmpfileWorks(t, dir))
		})
	}
}

// A file output is a new file until Commit puts it in place: without a
// name where the system makes such files, so that nothing of it is in the
// folder while it is written; under a hidden temporary name elsewhere.
// Either way Commit gives it the target's name, with a replaced file's
// mode or else the umask's, and Abort leaves the folder as it was.
func TestOutputNewFile(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	eachPath(t, func(t *testing.T, dir string, anon bool) {
		fresh := filepath.Join(dir, "fresh.jsonl")
		kept := filepath.Join(dir, "kept.jsonl")
		if err := os.WriteFile(kept, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(kept, 0o604); err != nil { // bits the umask would take away
			t.Fatal(err)
		}
		for _, c := range []struct {
			path string
			mode os.FileMode
		}{{fresh, 0o640}, {kept, 0o604}} {
			o, err := CreateOutput(c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if o.anon != anon {
				t.Fatalf("anon = %v, want %v", o.anon, anon)
			}
			if _, err := o.Write([]byte("new\n")); err != nil {
				t.Fatal(err)
			}
			temps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
			if anon && len(temps) != 0 {
				t.Errorf("%q in the folder while a file without a name is written", temps)
			}
			if !anon && len(temps) != 1 {
				t.Errorf("temporary files %q while written, want one", temps)
			}
			if err := o.Commit(); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(c.path); string(b) != "new\n" || st.Mode().Perm() != c.mode {
				t.Errorf("%s is %q with mode %04o, want \"new\\n\" with %04o", filepath.Base(c.path), b, st.Mode().Perm(), c.mode)
			}
		}
		o, err := CreateOutput(kept, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Write([]byte("never\n"))
		o.Abort()
		if got := names(t, dir); got != "fresh.jsonl kept.jsonl" {
			t.Errorf("the folder holds %q after an abort, want only the two files", got)
		}
		if b, _ := os.ReadFile(kept); string(b) != "new\n" {
			t.Errorf("an aborted output changed the file it would replace: %q", b)
		}
	})
}

// Commit makes the new file's bytes durable before it takes the target's
// name, and the name durable after: a crash never leaves the name on a file
// whose bytes were lost.
func TestOutputCommitSyncOrder(t *testing.T) {
	eachPath(t, func(t *testing.T, dir string, anon bool) {
		path := filepath.Join(dir, "out.jsonl")
		if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var steps []string
		defer func(f func(*os.File) error, d func(string) error) { syncFile, syncDir = f, d }(syncFile, syncDir)
		syncFile = func(f *os.File) error {
			b, _ := os.ReadFile(path)
			steps = append(steps, "file synced, target "+strings.TrimSpace(string(b)))
			return f.Sync()
		}
		syncDir = func(d string) error {
			b, _ := os.ReadFile(path)
			steps = append(steps, "folder synced, target "+strings.TrimSpace(string(b)))
			return durable.Sync(d)
		}
		o, err := CreateOutput(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Write([]byte("new\n"))
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(steps, "; "), "file synced, target old; folder synced, target new"; got != want {
			t.Errorf("Commit's steps: %s; want %s", got, want)
		}
	})
}

// A Commit whose last step fails (the name cannot be given, or the rename
// refused) puts nothing in place: the old file stays, and no temporary name
// is left beside it.
func TestOutputCommitFails(t *testing.T) {
	eachPath(t, func(t *testing.T, dir string, anon bool) {
		path := filepath.Join(dir, "out.jsonl")
		if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := CreateOutput(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Write([]byte("new\n"))
		o.final = filepath.Join(dir, "gone", "out.jsonl") // a folder that is not there
		if err := o.Commit(); err == nil {
			t.Fatal("Commit put the file in a folder that does not exist")
		}
		if got := names(t, dir); got != "out.jsonl" {
			t.Errorf("the folder holds %q, want only the old file", got)
		}
		if b, _ := os.ReadFile(path); string(b) != "old\n" {
			t.Errorf("the old file is %q, want it untouched", b)
		}

		// The target became a folder meanwhile: the rename fails after the
		// file has its temporary name.
		busy := filepath.Join(dir, "busy")
		o, err = CreateOutput(busy, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Write([]byte("new\n"))
		if err := os.MkdirAll(filepath.Join(busy, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := o.Commit(); err == nil {
			t.Fatal("Commit replaced a folder")
		}
		if got := names(t, dir); got != "busy out.jsonl" {
			t.Errorf("the folder holds %q, want the new folder and the old file only", got)
		}
	})
}

// Links that lead round in a loop are refused, as the shell's > refuses
// them, and neither is replaced by a file.
func TestOutputLinkLoop(t *testing.T) {
	dir := t.TempDir()
	l1, l2 := filepath.Join(dir, "l1"), filepath.Join(dir, "l2")
	if err := os.Symlink(l2, l1); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(l1, l2); err != nil {
		t.Fatal(err)
	}
	o, err := CreateOutput(l1, nil)
	if !errors.Is(err, syscall.ELOOP) || o != nil {
		t.Fatalf("CreateOutput of a link loop: %v, want ELOOP", err)
	}
	if h := hint.All(err); len(h) != 1 || !strings.Contains(h[0], "rm ") {
		t.Errorf("hints %q", h)
	}
	for _, l := range []string{l1, l2} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", l, err)
		}
	}
}

// An output never replaces a SQLite database, through a link or not: a
// store's file named where a stream was meant to go would be lost. The
// hint, followed (the file removed), lets the output be written; any other
// file is replaced as before.
func TestOutputNotOverADatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	content := "SQLite format 3\x00" + strings.Repeat("\x00", 100)
	if err := os.WriteFile(db, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, link} {
		o, err := CreateOutput(p, nil)
		if err == nil || o != nil || !strings.Contains(err.Error(), "is a SQLite database") {
			t.Errorf("CreateOutput(%s): %v, want refused", filepath.Base(p), err)
		}
		if h := hint.All(err); len(h) != 1 || !strings.Contains(h[0], "rm "+p) {
			t.Errorf("hints %q", h)
		}
	}
	if got, _ := os.ReadFile(db); string(got) != content {
		t.Errorf("the database changed")
	}
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{other, db} {
		if p == db {
			os.Remove(db)
		} else if err := os.WriteFile(p, []byte("SQLite format"), 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := CreateOutput(p, nil)
		if err != nil {
			t.Fatalf("CreateOutput(%s): %v", filepath.Base(p), err)
		}
		if _, err := o.Write([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// An output under a file (a path through a file that is no folder) names
// that file, not the hidden name the output would have been made under.
func TestOutputUnderAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(file, "x.jsonl"), filepath.Join(file, "deeper", "x.jsonl")} {
		o, err := CreateOutput(p, nil)
		if err == nil || o != nil || err.Error() != "create "+p+": "+file+" is a file, not a folder" || strings.Contains(err.Error(), ".tmp-") {
			t.Errorf("CreateOutput(%s): %v", p, err)
		}
		if h := hint.All(err); len(h) != 1 || !strings.Contains(h[0], file+" is not one") {
			t.Errorf("hints %q", h)
		}
	}
}

// statInfo is a FileInfo of a given owner, for writableHint.
type statInfo struct {
	fs.FileInfo
	uid uint32
}

func (s statInfo) Sys() any { return &syscall.Stat_t{Uid: s.uid} }

// A file this user owns is made writable by chmod; another user's is not
// (no chmod of this user's changes it), and the hint says whose it is.
func TestWritableHint(t *testing.T) {
	own := writableHint("a b.jsonl", statInfo{uid: uint32(os.Geteuid())})
	if own != "make it writable (chmod u+w 'a b.jsonl'), or name another file" {
		t.Errorf("own file: %s", own)
	}
	other := uint32(os.Geteuid() + 4242)
	got := writableHint("f.jsonl", statInfo{uid: other})
	if strings.Contains(got, "chmod") || !strings.Contains(got, "the file belongs to ") || !strings.Contains(got, "run the command as that user") {
		t.Errorf("another user's file: %s", got)
	}
	if u, err := user.LookupId("0"); err == nil && os.Geteuid() != 0 {
		if got := writableHint("f.jsonl", statInfo{uid: 0}); !strings.Contains(got, "belongs to "+u.Username) {
			t.Errorf("root's file: %s", got)
		}
	}
}

// A folder that does not let this user make a file: the error speaks of
// the new file that replaces the old where one is there, of the file
// where none is (nothing is replaced), and the hint names the folder.
func TestCreateErrorPermission(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	denied := &fs.PathError{Op: "open", Err: fs.ErrPermission}
	for target, want := range map[string]string{
		old:                             "does not let this user make the new file that replaces it",
		filepath.Join(dir, "new.jsonl"): "does not let this user make the file:",
	} {
		err := createError(target, target, denied)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", target, err, want)
		}
		if h := hint.All(err); len(h) != 1 || !strings.Contains(h[0], "let this user write the folder "+dir) {
			t.Errorf("%s: hints %q", target, h)
		}
	}
}
