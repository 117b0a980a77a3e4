package persist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/scratch"
)

// A link that fails says why, with a hint that can be pasted into a shell
// whatever the target's name: a directory this user may not write, a name
// taken meanwhile, or a file system without hard links.
func TestLinkError(t *testing.T) {
	target := "/data/my db/app.db"
	for _, tc := range []struct {
		errno      syscall.Errno
		msg, hint_ string
	}{
		{syscall.EACCES, "put the loaded database in place", `chmod u+w '/data/my db'`},
		{syscall.EEXIST, "was created while the loaded database was made", "run the same command again"},
		{syscall.EPERM, "put the loaded database in place", `touch '/data/my db/app.db'`},
	} {
		err := linkError(&os.LinkError{Op: "link", Old: "/data/my db/persist-copy-1.tmp", New: target, Err: tc.errno},
			target, "the loaded database")
		h := hint.All(err)
		if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "nothing was written") ||
			len(h) != 1 || !strings.Contains(h[0], tc.hint_) {
			t.Errorf("%v: %v, hints %q; want %q and a hint with %q", tc.errno, err, h, tc.msg, tc.hint_)
		}
		if tc.errno == syscall.EEXIST && (!errors.Is(err, fs.ErrExist) || strings.Count(err.Error(), "nothing was written") != 1) {
			t.Errorf("a name taken meanwhile: %v, want fs.ErrExist, saying once that nothing was written", err)
		}
	}
}

// The scratch database is noted for removal from its first moment, so a
// command that must leave at once (a second signal) removes it.
func TestAsideIsNotedForRemoval(t *testing.T) {
	dir := t.TempDir()
	w, err := openWriter(t.Context(), "sqlite:"+filepath.Join(dir, "app.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	if w.aside == "" {
		t.Fatal("a new file was not made aside")
	}
	if _, err := os.Stat(w.aside); err != nil {
		t.Fatal(err)
	}
	scratch.RemoveAll()
	if _, err := os.Stat(w.aside); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the scratch file outlived the removal of the command's temporary files: %v", err)
	}
	w.fail(errors.New("done"), 0)
}

// canLink gives a file a second name and takes it back, leaving nothing;
// where no link can be made it says so.
func TestCanLink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !canLink(p) {
		t.Error("a file in a temporary directory cannot be linked")
	}
	if canLink(filepath.Join(dir, "missing")) {
		t.Error("a missing file can be linked")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("canLink left %d files, want the one it was given", len(entries))
	}
}

// A scratch database that cannot be removed is named, with commands that
// work when pasted: put in place where it is whole, removed otherwise.
func TestDropAsideNamesWhatIsLeft(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := openWriter(t.Context(), "sqlite:"+filepath.Join(dir, "app.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.a.Close(); err != nil {
		t.Fatal(err)
	}
	// A directory entry in its place stands for a file that cannot be
	// removed: os.Remove fails on a directory that is not empty.
	keep := w.aside
	if err := os.Remove(keep); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(keep, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(keep)
	for _, whole := range []bool{true, false} {
		h := hint.All(w.dropAside(errors.New("failed"), whole))
		quoted := "'" + keep + "'"
		want := "rm -- " + quoted
		if whole {
			want = "ln -- " + quoted + " '" + filepath.Join(dir, "app.db") + "' && rm -- " + quoted
		}
		if len(h) != 1 || !strings.Contains(h[0], want) {
			t.Errorf("whole %v: hints %q, want one with %q", whole, h, want)
		}
	}
	if h := hint.All(w.dropAside(errors.New("failed"), true)); len(h) != 1 {
		t.Errorf("hints %q", h)
	}
	os.RemoveAll(keep)
	if h := hint.All(w.dropAside(errors.New("failed"), true)); len(h) != 0 {
		t.Errorf("nothing left, yet hints %q", h)
	}
}
