package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
