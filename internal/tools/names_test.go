package tools

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
)

// NAME becomes ./data/NAME.db: anything but a plain file name there is
// refused before a file is made, with a hint naming a command that works.
func TestStoreLocationRefusesNames(t *testing.T) {
	t.Setenv("PERSIST_URL", "")
	t.Chdir(t.TempDir())
	again := func(store string) string { return command("put", nil, store, "c", "k", "1") }
	for _, tc := range []struct{ name, err, hint string }{
		{"my-app", "", ""},
		{"Zoë \\ app", "", ""},
		{"a:b", "", ""},
		{"sqlite:a.db", "sqlite:a.db is a location", "PERSIST_URL=sqlite:a.db persist put a c k 1"},
		{"", "it is empty", "persist put my-app c k 1"},
		{".", "starts with '.'", "persist put my-app c k 1"},
		{"..", "starts with '.'", "PERSIST_URL=sqlite:stores.db persist put .. c k 1"},
		{"-x", "starts with '-'", "PERSIST_URL=sqlite:stores.db persist put -- -x c k 1"},
		{"a#b", "holds a '#'", "persist put my-app c k 1"},
		{"../escape", "../escape is a location, not a store's name", "PERSIST_URL=sqlite:../escape persist put escape c k 1"},
		// The write makes the file, not its folder: the hint makes that.
		{"a/b", "a/b is a location, not a store's name", ": mkdir -p a && PERSIST_URL=sqlite:a/b persist put b c k 1"},
		{"sqlite:../a.db", "sqlite:../a.db is a location", "PERSIST_URL=sqlite:../a.db persist put a c k 1"},
		{"sqlite:x.db#billing", "is a location", "PERSIST_URL=sqlite:x.db persist put billing c k 1"},
		{"postgres://u:secret@127.0.0.1:1/db#app", "is a location", "PERSIST_URL=postgres://u@127.0.0.1:1/db persist put app c k 1"},
		// A server's database names no store: the example name, never a
		// piece of the connection string.
		{"postgres:host=127.0.0.1 port=1 password=secret", "is a location", "PERSIST_URL='postgres:host=127.0.0.1 port=1 ' persist put my-app c k 1"},
	} {
		loc, err := storeLocation(context.Background(), tc.name, again, nil)
		if tc.err == "" {
			if err != nil || loc != "sqlite:./data/"+tc.name+".db" {
				t.Errorf("%q: %q, %v", tc.name, loc, err)
			}
			continue
		}
		hints := strings.Join(hint.All(err), "; ")
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(hints, tc.hint) {
			t.Errorf("%q: %v (hint: %s); want %q, hint %q", tc.name, err, hints, tc.err, tc.hint)
		}
		if strings.Contains(err.Error()+hints, "secret") {
			t.Errorf("%q: a password shown: %v %s", tc.name, err, hints)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("refusing names made %v", entries)
	}
}

// With $PERSIST_URL, NAME is a store in that database, not a file: any
// name goes.
func TestStoreLocationWithURL(t *testing.T) {
	t.Setenv("PERSIST_URL", "sqlite:./x.db")
	for _, name := range []string{"../escape", "-x", "a#b"} {
		if loc, err := storeLocation(context.Background(), name, nil, nil); err != nil || loc != "sqlite:./x.db" {
			t.Errorf("%q: %q, %v", name, loc, err)
		}
	}
}

// A reader's hint for a database file that does not exist is the write
// that makes it; for one that holds stores, a store it holds.
func TestStoreLocationReaderHints(t *testing.T) {
	t.Setenv("PERSIST_URL", "")
	t.Chdir(t.TempDir())
	ls := func(store string) string { return command("ls", nil, store) }
	_, err := storeLocation(context.Background(), "sqlite:new.db", ls, makeStore)
	if h := strings.Join(hint.All(err), ""); !strings.Contains(h, "new.db does not exist either") || !strings.Contains(h, "makes it: PERSIST_URL=sqlite:new.db persist put new users u1 '{}'") {
		t.Errorf("no database: %v: %s", err, h)
	}
	_, err = storeLocation(context.Background(), "sqlite:sub/new.db", ls, makeStore)
	if h := strings.Join(hint.All(err), ""); !strings.Contains(h, "makes it: mkdir -p sub && PERSIST_URL=sqlite:sub/new.db persist put new users u1 '{}'") {
		t.Errorf("no database, no folder: %v: %s", err, h)
	}
	s, err := persist.OpenStore(context.Background(), "sqlite:held.db", "billing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "c", "k", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = storeLocation(context.Background(), "sqlite:held.db", ls, makeStore)
	if h := strings.Join(hint.All(err), ""); !strings.Contains(h, "PERSIST_URL=sqlite:held.db persist ls billing") {
		t.Errorf("one store: %v: %s", err, h)
	}
}

// A value that is not one JSON value gets the hint that fits it.
func TestOneJSON(t *testing.T) {
	for _, tc := range []struct{ in, err, hint string }{
		{`{"a":1}`, "", ""},
		{" 1 \n", "", ""},
		{`Ada`, "is not valid JSON", "quote a string as JSON"},
		{`{"a":1} x`, `after {"a":1} comes x`, "give one value"},
		{"1 2", "after 1 comes 2", "several go in one array"},
		{`{"a":}`, "invalid character '}'", ""},
	} {
		err := oneJSON([]byte(tc.in), "the value")
		hints := strings.Join(hint.All(err), "; ")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
		case tc.err != "" && !strings.Contains(hints, tc.hint):
			t.Errorf("%q: hint %q, want %q", tc.in, hints, tc.hint)
		case tc.err != "" && tc.hint == "" && hints != "":
			t.Errorf("%q: hint %q fits no malformed value", tc.in, hints)
		}
	}
}

// export of a store that does not exist says so as get and events do.
func TestExportNoStore(t *testing.T) {
	t.Setenv("PERSIST_URL", "")
	t.Chdir(t.TempDir())
	var out, errs bytes.Buffer
	err := Export(context.Background(), Stdio{Stdout: &out, Stderr: &errs}, ExportOptions{Name: "nosuch", Format: "jsonl", Output: "x.jsonl"})
	h := strings.Join(hint.All(err), "")
	if err == nil || !strings.Contains(err.Error(), "no store nosuch: ./data/nosuch.db does not exist") ||
		!strings.Contains(h, "make one with: persist put nosuch users u1 '{}'") {
		t.Errorf("%v: %s", err, h)
	}
	if _, err := os.Stat("x.jsonl"); err == nil {
		t.Error("x.jsonl made for a store that does not exist")
	}
}

// A reader's hint for a name that cannot be a file names no store that
// does not exist; a store an earlier release made under a name starting
// with '.' or '-' is reached by that name still.
func TestStoreLocationOddNames(t *testing.T) {
	t.Setenv("PERSIST_URL", "")
	t.Chdir(t.TempDir())
	again := func(store string) string { return command("get", nil, store, "c", "k") }
	maker := func(store string) string { return command("put", nil, store, "c", "k", "1") }
	for _, name := range []string{"..", "-x", "a#b"} {
		_, err := storeLocation(context.Background(), name, again, maker)
		if hints := strings.Join(hint.All(err), "; "); err == nil || hints != "persist stores lists the stores kept in ./data" {
			t.Errorf("%q: %v, hint %q", name, err, hints)
		}
	}
	if err := os.MkdirAll("data", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"-x", ".hidden"} {
		if err := os.WriteFile(filepath.Join("data", name+".db"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if loc, err := storeLocation(context.Background(), name, again, maker); err != nil || loc != "sqlite:./data/"+name+".db" {
			t.Errorf("%q kept by an earlier release: %q, %v", name, loc, err)
		}
	}
}

// A hint that shows an import or a migration again keeps the flags it was
// given: followed, it replaces where the command was to replace.
func TestLoadFlagsArgs(t *testing.T) {
	retry := 30 * time.Second
	f := LoadFlags{Mode: "replace", Atomic: true, BatchSize: 100, RetryFor: &retry, Rejects: "bad lines.jsonl", IgnoreTrailer: true}
	got := strings.Join(f.args(), " ")
	want := "--mode replace --atomic --batch-size 100 --retry-for 30s --rejects 'bad lines.jsonl' --ignore-trailer"
	if got != want {
		t.Errorf("args = %s\nwant   %s", got, want)
	}
	if got := (LoadFlags{Mode: "merge"}).args(); len(got) != 0 {
		t.Errorf("defaults gave %q, want none", got)
	}
}
