package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

func TestSummaryOutcomes(t *testing.T) {
	for _, c := range []struct {
		code        int
		err         error
		interrupted bool
		outcome     string
		errText     string
	}{
		{ExitOK, nil, false, OutcomeOK, ""},
		{ExitDiffer, ErrDiffer, false, OutcomeDifferent, ""},
		{ExitTrouble, Hint(errors.New("postgres://u:***@h/db: boom"), "do this"), false, OutcomeFailed, "postgres://u:***@h/db: boom"},
		{130, errors.New("interrupted by SIGINT"), true, OutcomeInterrupted, "interrupted by SIGINT"},
	} {
		path := filepath.Join(t.TempDir(), "run.json")
		s, err := OpenSummary(path, "persist-load", nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Update(func(r *Result) {
			r.Records = 3
			r.Targets = append(r.Targets, Target{Location: "sqlite:a.db", Store: "app", Written: 3})
		})
		if err := s.Finish(c.code, c.err, c.interrupted); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil || bytes.Count(b, []byte("\n")) != 1 {
			t.Fatalf("not one JSON object on one line: %v\n%s", err, b)
		}
		if got["outcome"] != c.outcome || got["exit_status"] != float64(c.code) || got["format"] != SummaryFormat || got["tool"] != "persist-load" {
			t.Errorf("code %d: %s", c.code, b)
		}
		if e, _ := got["error"].(string); e != c.errText {
			t.Errorf("code %d: error %q, want %q", c.code, e, c.errText)
		}
		if c.errText != "" && c.code == ExitTrouble && !strings.Contains(string(b), `"hints":["do this"]`) {
			t.Errorf("hints not kept: %s", b)
		}
		for _, field := range []string{"version", "started_at", "elapsed_seconds", "records", "events", "sum", "retries", "rejects", "sources", "targets", "output", "differences", "item"} {
			if _, ok := got[field]; !ok {
				t.Errorf("field %s missing: %s", field, b)
			}
		}
	}
}

func TestSummaryToStdout(t *testing.T) {
	var out bytes.Buffer
	s, err := OpenSummary("-", "persist-dump", &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ToStdout("the stream"); err == nil || !strings.Contains(err.Error(), "standard output carries the stream") {
		t.Fatalf("--summary - where stdout carries the stream: %v", err)
	}
	if err := s.Finish(ExitOK, nil, false); err != nil {
		t.Fatal(err)
	}
	// Refused, it writes nothing: not even the failure, which would land
	// in the stream the refusal protects.
	if out.Len() != 0 {
		t.Fatalf("a refused --summary - wrote %q", out.String())
	}
	ok, _ := OpenSummary("-", "persist-load", &out)
	if err := ok.Finish(ExitOK, nil, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `{"format":"persist.summary.v1","tool":"persist-load"`) {
		t.Fatalf("stdout got %q", out.String())
	}
	// No --summary: nothing is written, and Update is harmless.
	none, _ := OpenSummary("", "persist-dump", &out)
	none.Update(func(r *Result) { r.Records = 1 })
	if err := none.Finish(ExitTrouble, errors.New("x"), false); err != nil {
		t.Fatal(err)
	}
	// A name that cannot be written fails at once.
	if _, err := OpenSummary(filepath.Join(t.TempDir(), "no", "such", "dir.json"), "persist-dump", nil); err == nil {
		t.Fatal("a summary in a missing folder was accepted")
	}
}

// A summary replaces only a summary an earlier run wrote, or an empty
// file: never the database, a stream, or a file through a link to one.
func TestOnlyASummary(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	db := write("app.db", "SQLite format 3\x00")
	if err := os.Symlink(db, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "new.json"), true},
		{write("empty.json", ""), true},
		{write("old.json", `{"format":"persist.summary.v1","tool":"persist-sum"}`+"\n"), true},
		{db, false},
		{filepath.Join(dir, "link"), false},
		{write("d.jsonl", `{"kind":"header","format":"persist.v1"}`+"\n"), false},
		{write("short", "{"), false},
		{write("later.json", `{"format":"persist.summary.v2"}`), true},
		{filepath.Base(write("-", "not a summary")), true}, // --summary - is stdout, whatever ./- holds
		{gzipped(t, filepath.Join(dir, "s.json.gz"), `{"format":"persist.summary.v1"}`), true},
		{gzipped(t, filepath.Join(dir, "d.jsonl.gz"), `{"kind":"header"}`), false},
		{write("other.json", `{"format":"persist.v1"}`), false},
	} {
		err := onlyASummary(c.path)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok %v", filepath.Base(c.path), err, c.ok)
		}
	}
}

// --rejects replaces only rejects an earlier load wrote, or an empty file:
// never a backup, a database or a note named there by mistake (a load
// that rejects nothing still writes the file).
func TestOnlyRejects(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "new.jsonl"), true},
		{write("empty.jsonl", ""), true},
		{write("old.jsonl", `{"line":2,"reason":"conflict","raw":"{}"}`+"\n"), true},
		{gzipped(t, filepath.Join(dir, "old.jsonl.gz"), `{"line":7,"reason":"x"}`), true},
		{write("app.db", "SQLite format 3\x00"), false},
		{write("backup.jsonl", `{"kind":"header","format":"persist.v1"}`+"\n"), false},
		{write("notes.txt", "remember the milk\n"), false},
		{gzipped(t, filepath.Join(dir, "b.jsonl.gz"), `{"kind":"header"}`), false},
	} {
		err := OnlyRejects(c.path)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok %v", filepath.Base(c.path), err, c.ok)
		}
		if err != nil && !strings.Contains(strings.Join(hint.All(err), " "), "name a new file for --rejects") {
			t.Errorf("%s: hints %q", filepath.Base(c.path), hint.All(err))
		}
	}
}

// writer writes files of a name and content in dir, returning each path.
func writer(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// gzipped writes content to path gzip-compressed, as --summary FILE.gz does.
func gzipped(t *testing.T, path, content string) string {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write([]byte(content))
	z.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// What stderr says of a run, its summary keeps: the hints of a difference,
// the error of one said as an error (a conditional write), every error of
// a joined one, apart, with each one's hints, and the hints the report
// adds for a cause it knows (a full file system).
func TestSummaryKeepsWhatStderrSays(t *testing.T) {
	full := &os.PathError{Op: "write", Path: "out.jsonl", Err: syscall.ENOSPC}
	for _, c := range []struct {
		name    string
		code    int
		err     error
		errText string // "" for null
		hints   []string
		stderr  []string
	}{
		{"a difference with a hint", ExitDiffer, Hint(ErrDiffer, "see each difference with: persist-diff a b"), "",
			[]string{"see each difference with: persist-diff a b"},
			[]string{"persist: hint: see each difference with: persist-diff a b"}},
		{"a difference said as an error", ExitDiffer, Differ(Hint(errors.New("put c/k: version mismatch"), "read it again")),
			"put c/k: version mismatch", []string{"read it again"},
			[]string{"persist: error: put c/k: version mismatch", "persist: hint: read it again"}},
		{"two errors joined", ExitTrouble, errors.Join(Hint(errors.New("target a: refused"), "grant it"),
			Hint(errors.New("target b: stopped with the others"), "load it again")),
			"target a: refused; target b: stopped with the others", []string{"grant it", "load it again"},
			[]string{"persist: error: target a: refused", "persist: hint: grant it",
				"persist: error: target b: stopped with the others", "persist: hint: load it again"}},
		{"a full file system", ExitTrouble, full, "write out.jsonl: no space left on device",
			[]string{"the file system is full: free space on it, or write elsewhere, then run the command again"},
			[]string{"persist: error: write out.jsonl: no space left on device", "persist: hint: the file system is full"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := Report(&stderr, "persist", c.err); code != c.code {
				t.Errorf("Report: exit %d, want %d", code, c.code)
			}
			for _, want := range c.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			}
			path := filepath.Join(t.TempDir(), "run.json")
			s, err := OpenSummary(path, "persist", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Finish(c.code, c.err, false); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got Result
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if e := got.Error; (e == nil) != (c.errText == "") || (e != nil && *e != c.errText) {
				t.Errorf("error %s, want %q", b, c.errText)
			}
			if !slices.Equal(got.Hints, c.hints) {
				t.Errorf("hints %q, want %q", got.Hints, c.hints)
			}
		})
	}
}

// An error of fmt.Errorf with two %w is one message, not two: its own
// words stay, on stderr and in the summary.
func TestTwoWrapsAreOneError(t *testing.T) {
	err := fmt.Errorf("get c/k: %w: %w", errors.New("not found"), errors.New("a deleted record"))
	var stderr bytes.Buffer
	Report(&stderr, "persist", err)
	if got := stderr.String(); got != "persist: error: get c/k: not found: a deleted record\n" {
		t.Errorf("stderr %q", got)
	}
	if got := messages(err); got != "get c/k: not found: a deleted record" {
		t.Errorf("messages %q", got)
	}
	if got := messages(errors.Join(err, errors.New("b"))); got != "get c/k: not found: a deleted record; b" {
		t.Errorf("messages of a join %q", got)
	}
}

// A summary that cannot take its place (a full disk: its write, or its
// commit, fails) leaves no summary of an earlier run there either: a
// script would read that one's "ok" after this run's failure.
func TestSummaryNotWrittenLeavesNoOldOne(t *testing.T) {
	for _, stage := range []string{"write", "commit"} {
		t.Run(stage, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.json")
			old, err := OpenSummary(path, "persist-dump", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := old.Finish(ExitOK, nil, false); err != nil {
				t.Fatal(err)
			}
			s, err := OpenSummary(path, "persist-diff", nil)
			if err != nil {
				t.Fatal(err)
			}
			full := &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
			if stage == "write" {
				s.out.f.Close() // its write fails
			} else {
				s.out.werr = full // a write before failed, which Commit reports
			}
			err = s.Finish(ExitTrouble, errors.New("diff: read A: refused"), false)
			if err == nil || !strings.Contains(err.Error(), "the file there, an earlier run's summary, or empty, was removed") {
				t.Errorf("Finish: %v, want it to say the old summary was removed", err)
			}
			if b, err := os.ReadFile(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s holds %q (%v), want no file", path, b, err)
			}
		})
	}
}
