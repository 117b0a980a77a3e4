package persist

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/location"
)

// A copy that differs from its source in one item, of any kind, fails the
// proof with ErrVerify and counts of what differs.
func TestCopyProofCatchesADifference(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.jsonl")
	lines := `{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"n":1}}
{"kind":"record","collection":"c","key":"b","version":2,"updated_at":"2026-01-01T00:00:00.000000Z","deleted":true}
{"kind":"record","collection":"c","key":"c","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":[1,2]}
{"kind":"event","stream":"s","seq":1,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":{"x":1}}
`
	if err := os.WriteFile(seed, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "sqlite:" + filepath.Join(dir, "src.db") + "#app"
	if _, err := Migrate(t.Context(), seed, src, MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, tamper := range []struct{ sql, want string }{
		{``, ""},
		{`UPDATE persist_records SET value = '{"n":2}' WHERE key = 'a'`, "holds 0 the source does not, and 1 that differ"},
		{`UPDATE persist_records SET deleted = 0, value = '1' WHERE key = 'b'`, "and 1 that differ"},
		{`DELETE FROM persist_records WHERE key = 'c'`, "lacks 1 of the source's items"},
		{`INSERT INTO persist_records VALUES ('app', 'c', 'd', 1, '2026-01-01T00:00:00.000000Z', 0, '3', NULL)`, "holds 1 the source does not"},
		{`UPDATE persist_events SET data = '{"x":2}'`, "and 1 that differ"},
		{`UPDATE persist_events SET seq = 2`, "lacks 1 of the source's items, holds 1 the source does not"},
	} {
		in, err := OpenSource(t.Context(), src, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		path := filepath.Join(dir, "copy"+string(rune('0'+i))+".db")
		if err := in.src.Copy(t.Context(), path); err != nil {
			t.Fatal(err)
		}
		if tamper.sql != "" {
			rawExec(t, path, tamper.sql)
		}
		l, err := location.Parse("sqlite:"+path, false)
		if err != nil {
			t.Fatal(err)
		}
		var sum tally
		err = compareCopy(t.Context(), in, l, &sum)
		switch {
		case tamper.want == "" && err != nil:
			t.Errorf("untouched copy: %v", err)
		case tamper.want == "" && sum.result() != mustSumOf(t, src):
			t.Errorf("untouched copy: the source sums %+v on the way, %+v alone", sum.result(), mustSumOf(t, src))
		case tamper.want != "" && (!errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), tamper.want)):
			t.Errorf("after %s: %v, want ErrVerify saying %q", tamper.sql, err, tamper.want)
		}
	}
}

// The copy is put in place only where nothing is: a file that appeared
// under the target's name meanwhile is left as it was. And only as it was
// proven: a copy written to since is not.
func TestPublishOnlyWhatWasProven(t *testing.T) {
	d, tmp, target, at := staged(t, false)
	if err := os.WriteFile(tmp+"-wal", []byte("later"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := publish(d, tmp, target, at); err == nil || !strings.Contains(err.Error(), "after it was proven") {
		t.Errorf("publish with writes in the copy's -wal: %v", err)
	}
	os.Remove(tmp + "-wal")
	if err := os.WriteFile(tmp, []byte("copy, changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := publish(d, tmp, target, at); err == nil || !strings.Contains(err.Error(), "after it was proven") {
		t.Errorf("publish of a copy changed since: %v", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the target exists: %v", err)
	}
}

// The copy is put in place only where nothing is: a file that appeared
// under the target's name meanwhile is left as it was.
func TestPublishLeavesAFileThatAppeared(t *testing.T) {
	d, tmp, target, at := staged(t, true)
	if err := publish(d, tmp, target, at); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("publish over a file that appeared: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "theirs" {
		t.Errorf("the target now holds %q", b)
	}
	os.Remove(target)
	// A write-ahead log under the target's name would be taken for the
	// copy's.
	if err := os.WriteFile(target+"-wal", []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := publish(d, tmp, target, at); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("publish beside a -wal that appeared: %v, want fs.ErrExist", err)
	}
	os.Remove(target + "-wal")
	if err := publish(d, tmp, target, at); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "copy" {
		t.Errorf("the target holds %q, want the copy", b)
	}
}

// staged makes a copy to publish ("copy") beside its target, which holds
// "theirs" when taken, and returns the copy's driver, paths and state.
func staged(t *testing.T, taken bool) (d *adapters.Driver, tmp, target string, at fs.FileInfo) {
	t.Helper()
	dir := t.TempDir()
	tmp, target = filepath.Join(dir, "persist-copy-1.tmp"), filepath.Join(dir, "x.db")
	files := map[string]string{tmp: "copy"}
	if taken {
		files[target] = "theirs"
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := location.Parse("sqlite:"+target, true)
	if err != nil {
		t.Fatal(err)
	}
	if at, err = os.Stat(tmp); err != nil {
		t.Fatal(err)
	}
	return l.Driver, tmp, target, at
}

func rawExec(t *testing.T, path, q string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mustSumOf(t *testing.T, loc string) SumResult {
	t.Helper()
	r, err := Sum(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
