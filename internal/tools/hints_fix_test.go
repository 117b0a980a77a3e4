package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
)

// With several targets persist-tee refuses --rejects, so a line one target
// rejects must not be met with "use --rejects FILE": the hint is the
// persist-load of that target with a rejects file, its flags kept.
func TestTeeRejectsHintWorksWithSeveralTargets(t *testing.T) {
	cause := fmt.Errorf("%w: line 2: %w: the store holds version 1 of users/u1 with other content", persist.ErrRejected, persist.ErrConflict)
	for _, appended := range []int64{0, 2} {
		res := persist.LoadResult{Appended: appended, AppendedFirst: 3, AppendedLast: 4}
		if hs := hint.All(loadEnd(res, cause, LoadFlags{}, nil)); !strings.Contains(strings.Join(hs, "\n"), "use --rejects FILE") {
			t.Fatalf("a load on its own: hints %q, want --rejects FILE", hs)
		}
		got := loadEnd(res, cause, LoadFlags{BatchSize: 10, Mode: "replace", teeTarget: "postgres://u:pw@db.example/app#app"}, nil)
		if got.Error() != cause.Error() || !errors.Is(got, persist.ErrConflict) {
			t.Errorf("the error itself changed: %v", got)
		}
		hs := hint.All(got)
		all := strings.Join(hs, "\n")
		if strings.Contains(all, "use --rejects FILE") {
			t.Errorf("still sends to --rejects, which persist-tee refuses with several targets: %q", hs)
		}
		if want := "persist-load --mode replace --batch-size 10 --rejects FILE postgres://u@db.example/app#app < STREAM"; !strings.Contains(all, want) {
			t.Errorf("hints %q do not say %q", hs, want)
		}
		if !strings.Contains(all, "PGPASSWORD") || strings.Contains(all, "pw") {
			t.Errorf("hints %q: the password must be left out and said where it comes from", hs)
		}
		if kept := strings.Contains(all, "appends again"); kept != (appended > 0) {
			t.Errorf("appended %d: the appended-events hint kept %v: %q", appended, kept, hs)
		}
	}
	// Another error keeps its own hint.
	other := loadEnd(persist.LoadResult{}, persist.ErrGaveUp, LoadFlags{teeTarget: "sqlite:a.db"}, nil)
	if hs := hint.All(other); len(hs) != 1 || !strings.Contains(hs[0], "run the same load again") {
		t.Errorf("another error: %q", hs)
	}
}

// --adapter and --connection naming two adapters is refused, naming both,
// either way round: read as the adapter's own, the connection was junk.
func TestImportAdapterMustMatchConnection(t *testing.T) {
	for _, tc := range []struct{ adapter, conn, other string }{
		{"sqlite", "postgres://postgres@127.0.0.1/db", "postgres"},
		{"sqlite", "postgresql://u:secret@h/db", "postgres"},
		{"sqlite", "postgres:host=h dbname=d", "postgres"},
		{"postgres", "sqlite:./x.db", "sqlite"},
	} {
		_, err := adapterLocation(tc.adapter, tc.conn, "x")
		if err == nil {
			t.Errorf("--adapter %s --connection %s: accepted", tc.adapter, tc.conn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "--adapter "+tc.adapter+" --connection ") || strings.Contains(msg, "secret") {
			t.Errorf("--adapter %s --connection %s: %v", tc.adapter, tc.conn, err)
		}
		if hs := strings.Join(hint.All(err), "\n"); !strings.Contains(hs, "is a "+tc.other+" location: use --adapter "+tc.other) || strings.Contains(hs, "mkdir") {
			t.Errorf("--adapter %s --connection %s: hint %q", tc.adapter, tc.conn, hs)
		}
	}
	for _, tc := range []struct{ adapter, conn, want string }{
		{"sqlite", "./x.db", "sqlite:./x.db"},
		{"sqlite", "sqlite:./x.db", "sqlite:./x.db"},
		{"postgres", "postgres://h/db", "postgres://h/db"},
		{"postgres", "host=h dbname=d", "postgres:host=h dbname=d"},
	} {
		if got, err := adapterLocation(tc.adapter, tc.conn, "x"); err != nil || got != tc.want {
			t.Errorf("--adapter %s --connection %s: %q, %v", tc.adapter, tc.conn, got, err)
		}
	}
}

// failReader fails the test that reads it: a flag refused must be refused
// before stdin is taken.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("stdin was read before the flag was checked")
	return 0, errors.New("read")
}

// A negative --if-version, as the parser's own suggestion spells it, is
// refused with what the flag takes, not left to the store's error.
func TestPutNegativeIfVersionSaysWhatItTakes(t *testing.T) {
	var out, errw bytes.Buffer
	v := int64(-1)
	err := Put(context.Background(), Stdio{Stdin: failReader{t}, Stdout: &out, Stderr: &errw},
		PutOptions{Name: "a", Collection: "c", Key: "-k", IfVersion: &v})
	if err == nil || !strings.Contains(err.Error(), "--if-version -1") {
		t.Fatalf("%v", err)
	}
	hs := strings.Join(hint.All(err), "\n")
	if !strings.Contains(hs, "persist get --record -- a c -k") || !strings.Contains(hs, "--if-version 0") {
		t.Errorf("hint %q", hs)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out.String())
	}
}

// --from below 1 names no event: refused, not read as the whole stream.
func TestEventsFromBelowOne(t *testing.T) {
	for _, from := range []int64{-1, -5} {
		var out bytes.Buffer
		err := Events(context.Background(), Stdio{Stdout: &out, Stderr: &out}, EventsOptions{Name: "a", Stream: "s", From: from})
		if err == nil || !strings.Contains(err.Error(), "seqs start at 1") {
			t.Errorf("--from %d: %v", from, err)
			continue
		}
		if hs := strings.Join(hint.All(err), "\n"); !strings.Contains(hs, "--from 1") {
			t.Errorf("--from %d: hint %q", from, hs)
		}
		if out.Len() != 0 {
			t.Errorf("--from %d: wrote %q", from, out.String())
		}
	}
}

// --from 0 is the start of the stream ("${LAST:-0}"), not a refusal.
func TestEventsFromZero(t *testing.T) {
	t.Setenv("PERSIST_URL", "sqlite:"+filepath.Join(t.TempDir(), "z.db"))
	var out bytes.Buffer
	st := Stdio{Stdin: strings.NewReader(`{"n":1}`), Stdout: &out, Stderr: &out}
	if err := Append(context.Background(), st, AppendOptions{Name: "a", Stream: "s", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := Events(context.Background(), st, EventsOptions{Name: "a", Stream: "s", From: 0}); err != nil {
		t.Fatalf("--from 0: %v", err)
	}
	if !strings.Contains(out.String(), `"seq":1`) {
		t.Errorf("--from 0 printed %q", out.String())
	}
}
