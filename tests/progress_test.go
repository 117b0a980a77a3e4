package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// onTerminal runs a shell command line with a pseudo-terminal for its
// standard streams (script(1)), as a person at a terminal would, and
// returns what the terminal was sent.
func onTerminal(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("script", "-qefc", line, "/dev/null")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "COLUMNS=120")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("on a terminal, %s: %v\n%q", line, err, out)
	}
	return string(out)
}

// In a pipeline on a terminal, one bar: the last tool's, which knows the
// total from the header; it shows the rate, the percentage and the time left,
// and is cleared at the end, the summary after it.
func TestProgressOneBarPerPipeline(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "in.jsonl")
	genStream(t, stream, 20000, 5)
	mustRun(t, stream, "persist-load", "-q", "--batch-size", "1000", "sqlite:"+filepath.Join(dir, "a.db")+"#app")

	out := onTerminal(t, dir, "persist-dump sqlite:a.db | persist-load --batch-size 1000 sqlite:b.db")
	if strings.Contains(out, "dumping") {
		t.Errorf("persist-dump drew a bar into a pipe on a terminal:\n%q", out)
	}
	bar := regexp.MustCompile(`\rloading: [0-9.k]+/22.0k items, [0-9.]+[kMG]?/s \[[= >]*\] +\d+% ETA \d+:\d\d\x1b\[K`)
	if !bar.MatchString(out) {
		t.Errorf("persist-load's bar lacks the count, rate, bar, percentage or ETA:\n%q", out)
	}
	if !strings.Contains(out, "\r\x1b[K") || !strings.Contains(out, "persist-load: sqlite:b.db (store app): 20000 written") {
		t.Errorf("the bar was not cleared before the summary (stderr is a terminal):\n%q", out)
	}

	// --progress makes the first tool draw too: the user asked.
	out = onTerminal(t, dir, "persist-dump --progress sqlite:a.db | persist-load -q sqlite:c.db")
	if !strings.Contains(out, "dumping: ") {
		t.Errorf("persist-dump --progress drew nothing:\n%q", out)
	}

	// A tool writing a file draws its own bar.
	out = onTerminal(t, dir, "persist-dump sqlite:a.db > dump.jsonl")
	if !regexp.MustCompile(`\rdumping: .* \d+% ETA `).MatchString(out) {
		t.Errorf("persist-dump > FILE drew no bar with a percentage:\n%q", out)
	}

	// Without a header, a load from a file knows its size: a percentage still.
	out = onTerminal(t, dir, "persist-load --batch-size 1000 sqlite:d.db < in.jsonl")
	if !regexp.MustCompile(`\rloading: [0-9.k]+ items, .* \d+% ETA `).MatchString(out) {
		t.Errorf("a headerless load from a file showed no percentage:\n%q", out)
	}
}

// persist migrate draws one bar over records and events, in place: no
// scrolling line per step.
func TestProgressMigrateOneBar(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "in.jsonl")
	genStream(t, stream, 20000, 6)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	mustRun(t, stream, "persist-load", "-q", "sqlite:"+filepath.Join(dir, "data", "app.db")+"#app")
	out := onTerminal(t, dir, "persist migrate app --target sqlite:copy.db --batch-size 1000")
	bars := regexp.MustCompile(`\rmigrating: [0-9.k]+/22.0k items`).FindAllString(out, -1)
	if len(bars) == 0 {
		t.Fatalf("persist migrate drew no bar over records and events:\n%q", out)
	}
	before, _, _ := strings.Cut(out, "persist: migrated app")
	if strings.Count(before, "\n") > 0 {
		t.Errorf("persist migrate's progress scrolled (%d lines before the summary):\n%q", strings.Count(before, "\n"), out)
	}
	if !strings.Contains(out, "20000 records, 2000 events") {
		t.Errorf("no summary on the terminal:\n%q", out)
	}
}
