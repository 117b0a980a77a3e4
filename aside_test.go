package persist_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

// dirNames lists dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// loadNew loads a stream of n records (writeStream) into the SQLite file
// target, and returns the stream's path with the load's result.
func loadNew(t *testing.T, n int, target string, opt persist.LoadOptions) (string, persist.LoadResult, error) {
	t.Helper()
	seed := writeStream(t, n)
	in, err := os.Open(seed)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, err := persist.Load(t.Context(), in, "sqlite:"+target, opt)
	return seed, res, err
}

// A load into a SQLite file that does not exist makes it aside: the file
// appears only once the load is whole, in WAL mode as every file Persist
// makes, and sums as the stream; while the load runs there is no file
// under the target's name.
func TestLoadMakesANewFileAside(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	target := filepath.Join(dir, "app.db")
	var during []string
	seed, res, err := loadNew(t, 3000, target, persist.LoadOptions{BatchSize: 500, OnProgress: func(persist.Progress) {
		if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the target is there before the load is whole (%v)", err)
		}
		during = dirNames(t, dir)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Made || res.Batches < 6 {
		t.Errorf("result %+v, want Made and at least 6 batches", res)
	}
	if len(during) == 0 || !strings.HasSuffix(during[0], ".tmp") || slices.ContainsFunc(during, func(n string) bool { return !strings.HasPrefix(n, during[0]) }) {
		t.Errorf("while loading, the directory held %q, want one scratch database (and its journal)", during)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"app.db"}) {
		t.Errorf("after the load, the directory holds %q, want app.db alone", got)
	}
	db, err := sql.Open("sqlite3", "file:"+target+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
	want, err := persist.Sum(ctx, seed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := persist.Sum(ctx, "sqlite:"+target)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum != want.Sum {
		t.Errorf("the new file sums %s, the stream %s", got.Sum, want.Sum)
	}
}

// A load into a new file that fails after batches committed leaves no
// file at all, and says that nothing of it was kept; into a file that
// exists, the batches committed stay, as before.
func TestLoadFailingLeavesNoNewFile(t *testing.T) {
	ctx := t.Context()
	var stream bytes.Buffer
	for i := range 40 {
		stream.WriteString(`{"kind":"record","collection":"c","key":"` + fmt.Sprintf("k%02d", i) + `","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}` + "\n")
	}
	stream.WriteString("not json\n")
	dir := t.TempDir()
	target := filepath.Join(dir, "app.db")
	res, err := persist.Load(ctx, bytes.NewReader(stream.Bytes()), "sqlite:"+target, persist.LoadOptions{BatchSize: 10})
	if err == nil {
		t.Fatalf("load of a bad line: %v", err)
	}
	if !res.Made || res.Batches != 0 || res.Written != 0 {
		t.Errorf("result %+v, want Made with nothing written or committed", res)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("a failed load into a new file left %q", got)
	}

	// With the bad line set aside, the load is whole: the file is put in
	// place with every other line.
	var rejects bytes.Buffer
	res, err = persist.Load(ctx, bytes.NewReader(stream.Bytes()), "sqlite:"+target, persist.LoadOptions{BatchSize: 10, Rejects: &rejects})
	if !errors.Is(err, persist.ErrRejected) || !res.Made || res.Written != 40 || res.Rejects != 1 {
		t.Errorf("with --rejects: result %+v, %v; want Made, 40 written, 1 rejected", res, err)
	}
	if got, err := persist.Sum(ctx, "sqlite:"+target); err != nil || got.Records != 40 {
		t.Errorf("with --rejects, the file holds %+v (%v), want 40 records", got, err)
	}
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(target, nil, 0o644); err != nil { // touch: a database yet to be written, in place
		t.Fatal(err)
	}
	res, err = persist.Load(ctx, bytes.NewReader(stream.Bytes()), "sqlite:"+target, persist.LoadOptions{BatchSize: 10})
	if err == nil || res.Made || res.Batches != 4 {
		t.Errorf("into an empty file: result %+v, %v; want 4 batches kept", res, err)
	}
}

// A file made under the target's name while the load ran is left as it
// is, and the load fails saying so; the scratch file is removed.
func TestLoadNewFileTakenMeanwhile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "app.db")
	theirs := []byte("another program's file")
	_, _, err := loadNew(t, 2000, target, persist.LoadOptions{BatchSize: 500, OnProgress: func(persist.Progress) {
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
			os.WriteFile(target, theirs, 0o644)
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "was created while the loaded database was made, and was left as it is") {
		t.Fatalf("load into a name taken meanwhile: %v", err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, theirs) {
		t.Errorf("the other program's file now holds %q", got)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"app.db"}) {
		t.Errorf("the directory holds %q, want the other program's app.db alone", got)
	}
}

// A load whose stream is in, but whose cursor cannot be noted (a trailer's
// cursor from a later release), keeps what it loaded, into a new file as
// into one that exists, and says so.
func TestLoadNewFileKeptWhenTheCursorIsNotNoted(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	if _, _, err := loadNew(t, 100, src, persist.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := persist.Dump(ctx, "sqlite:"+src, &dump, persist.DumpOptions{}); err != nil {
		t.Fatal(err)
	}
	future := regexp.MustCompile(`"cursor":"[^"]*"`).ReplaceAll(dump.Bytes(), []byte(`"cursor":"p9:a later release's"`))
	if bytes.Equal(future, dump.Bytes()) {
		t.Fatal("the dump has no cursor to edit")
	}
	target := filepath.Join(dir, "new.db")
	res, err := persist.Load(ctx, bytes.NewReader(future), "sqlite:"+target, persist.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "the stream was loaded, but its trailer's cursor is not one this release reads") {
		t.Fatalf("load with a later release's cursor: %v", err)
	}
	if !res.Made || res.Written != 100 {
		t.Errorf("result %+v, want Made with the records written", res)
	}
	if got, err := persist.Sum(ctx, "sqlite:"+target); err != nil || got.Records != 100 {
		t.Errorf("the new file holds %+v (%v), want the 100 records", got, err)
	}
}
