package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

func TestCheckClash(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	db := filepath.Join(dir, "app.db")
	if err := os.WriteFile(db, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Symlink("app.db", "link.db")
	os.Symlink("nowhere.db", "dangling")
	os.Link("app.db", "hard.db")
	used := []Named{{"sqlite:app.db", "app.db"}, {"sqlite:app.db", "app.db-wal"}, {"stream", "nowhere.db"}}
	for _, out := range []string{"app.db", "./app.db", db, "link.db", "hard.db", "sub/../app.db", "app.db-wal", "dangling"} {
		if out == "sub/../app.db" {
			os.Mkdir("sub", 0o777)
		}
		err := CheckClash([]Named{{"-o", out}}, used)
		if !errors.Is(err, ErrClash) {
			t.Errorf("-o %s: got %v, want ErrClash", out, err)
		}
	}
	for _, out := range []string{"-", "", "other.jsonl", "app.db-wal.out", "/dev/null"} {
		if err := CheckClash([]Named{{"-o", out}}, used); err != nil {
			t.Errorf("-o %s: %v", out, err)
		}
	}
	if err := CheckClash([]Named{{"-o", "a.jsonl"}, {"--summary", "./a.jsonl"}}, nil); !errors.Is(err, ErrClash) {
		t.Errorf("two outputs on one file: %v", err)
	}
	if err := CheckClash([]Named{{"-o", "/dev/null"}, {"--summary", "/dev/null"}}, nil); err != nil {
		t.Errorf("two outputs on a device: %v", err)
	}
}

// A read-only file is not replaced. As root every file is writable, so the
// refusal is shown through the access check a user without the right gets.
func TestCreateOutputReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		old := accessW
		accessW = func(p string) error {
			if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o222 == 0 {
				return &os.PathError{Op: "faccessat", Path: p, Err: os.ErrPermission}
			}
			return nil
		}
		t.Cleanup(func() { accessW = old })
	}
	if _, err := CreateOutput(path, nil); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("CreateOutput on a read-only file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Fatalf("the read-only file changed: %q", b)
	}
	// Through a symlink too.
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(path, link)
	if _, err := CreateOutput(link, nil); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("CreateOutput on a link to a read-only file: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := CreateOutput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Abort()
}

// A file on a read-only mount is not the user's to chmod: the hint says
// what the trouble is.
func TestCreateOutputReadOnlyFS(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := accessW
	accessW = func(p string) error { return &os.PathError{Op: "faccessat", Path: p, Err: syscall.EROFS} }
	t.Cleanup(func() { accessW = old })
	_, err := CreateOutput(path, nil)
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "mounted read-only") {
		t.Fatalf("CreateOutput on a read-only file system: %v", err)
	}
	if h := hint.All(err); len(h) != 1 || strings.Contains(h[0], "chmod") || !strings.Contains(h[0], "remount") {
		t.Fatalf("hint %q", h)
	}
}

// -o through a symlink whose target does not exist yet writes the target,
// as the shell's > does; the link stays a link.
func TestCreateOutputDanglingLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "latest.jsonl")
	if err := os.Symlink("backups/today.jsonl", link); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "backups"), 0o777)
	out, err := CreateOutput(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("new\n"))
	if err := out.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "backups", "today.jsonl")); err != nil || string(b) != "new\n" {
		t.Fatalf("the link's target: %q %v", b, err)
	}
	// A link into a folder that does not exist fails, and leaves the link.
	gone := filepath.Join(dir, "gone.jsonl")
	os.Symlink("nosuch/dir/x.jsonl", gone)
	if _, err := CreateOutput(gone, nil); err == nil {
		t.Fatal("a link into a missing folder was written")
	}
	if fi, err := os.Lstat(gone); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
}

// A standard output that is a file the command uses is refused, however
// that file is named; one that is another file, or not a file, is not.
func TestCheckStdout(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	other := filepath.Join(dir, "out.jsonl")
	for _, p := range []string{db, other} {
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(db, filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	used := []Named{{What: "sqlite:link.db", Path: filepath.Join(dir, "link.db")}, {What: "stdin", Path: "-"}}
	open := func(p string) *os.File {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	err := CheckStdout(open(db), used)
	if !errors.Is(err, ErrClash) || !strings.Contains(err.Error(), "standard output") || !strings.Contains(err.Error(), "sqlite:link.db") {
		t.Errorf("stdout onto the database: %v", err)
	}
	if err := CheckStdout(open(other), used); err != nil {
		t.Errorf("stdout onto another file: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := CheckStdout(w, used); err != nil {
		t.Errorf("stdout a pipe: %v", err)
	}
	if err := CheckStdout(new(strings.Builder), used); err != nil {
		t.Errorf("stdout not a file: %v", err)
	}
}

// A free name is beside the file, or in the working directory for a
// device or a process's file, where no file can be made.
func TestFreeName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	taken := filepath.Join(dir, "d.jsonl.out")
	if err := os.WriteFile(taken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		filepath.Join(dir, "d.jsonl"): filepath.Join(dir, "d.jsonl.out2"),
		filepath.Join(dir, "e.jsonl"): filepath.Join(dir, "e.jsonl.out"),
		"/dev/stdin":                  "stdin.out",
		"/proc/self/fd/0":             "0.out",
	} {
		if got := freeName(in); got != want {
			t.Errorf("freeName(%s) = %s, want %s", in, got, want)
		}
	}
}
