// Package bench holds make bench's script; this test holds the table it
// prints to verdicts a reader can trust.
package bench

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// tableScript fills the measurements as bench/run.sh would and prints the
// table: a Persist command that meets its goal in every run, one whose runs
// fall on both sides of it, one over the memory goal, a label holding a
// pipe, a failed command, and goals whose baseline is missing or failed.
const tableScript = `set -euo pipefail
source ./table.sh
TIMES[fast]="1.0 1.2 0.9 "; RSS[fast]="20480 20480 20480 "; BYTES[fast]=2000000
TIMES[ref]="2.0 2.0 2.0 "; RSS[ref]="4096 4096 4096 "
TIMES[mixed]="1.4 1.8 2.2 "; RSS[mixed]="30000 30000 30000 "
TIMES[slow]="3.0 2.4 2.6 "; RSS[slow]="1024 1024 1024 "
TIMES[one]="5 "; RSS[one]="70000 "
TIMES[a|b]="1 1 1 "; RSS[a|b]="1024 1024 1024 "
TIMES[lonely]="1 1 1 "; RSS[lonely]="1024 1024 1024 "
FAILED[broke]="exit 2 (see x.log)"
ABSENT[tool]="tool is not installed (apt-get install tool)"
row s fast ref "≤ 0.7×" "r <= 0.7"
row s ref
row s mixed ref "≤ 0.9×" "r <= 0.9"
row s slow ref "≤ 1.0×" "r <= 1.0"
row s one "" "≤ 64 MiB" "m <= 64"
row s "a|b" ref
row s broke ref "≤ 0.5×" "r <= 0.5"
row s lonely tool "≤ 0.5×" "r <= 0.5"
row s lonely broke "≤ 0.5×" "r <= 0.5"
row s tool
render
`

func TestTable(t *testing.T) {
	cmd := exec.Command("bash", "-c", tableScript)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := []string{
		"| section | command | median s | dump MB/s | peak RSS MiB | ratio | vs | goal | met |",
		"|---|---|--:|--:|--:|--:|---|---|---|",
		// Met in every run.
		"| s | `fast` | 1.0 | 2 | 20.0 | 0.50× | ref | ≤ 0.7× | yes (runs 0.45–0.60×) |",
		"| s | `ref` | 2.0 |  | 4.0 |  |  |  |  |",
		// The median meets the goal, not every run: the reader is told.
		"| s | `mixed` | 1.8 |  | 29.3 | 0.90× | ref | ≤ 0.9× | yes (runs 0.70–1.10×: some met it, some not) |",
		// Missed in every run.
		"| s | `slow` | 2.6 |  | 1.0 | 1.30× | ref | ≤ 1.0× | **no** (runs 1.20–1.50×) |",
		// Over the memory goal; one run shows no spread.
		"| s | `one` | 5 |  | 68.4 |  |  | ≤ 64 MiB | **no** |",
		"| s | `a\\|b` | 1 |  | 1.0 | 0.50× | ref |  | (runs 0.50–0.50×) |",
		// A command that failed does not meet its goal.
		"| s | `broke` | failed: exit 2 (see x.log) | | | | ref | ≤ 0.5× | **no** |",
		// A goal whose baseline could not be measured says why.
		"| s | `lonely` | 1 |  | 1.0 |  | tool | ≤ 0.5× | n/a: tool is not installed (apt-get install tool) |",
		"| s | `lonely` | 1 |  | 1.0 |  | broke | ≤ 0.5× | n/a: broke failed |",
		"| s | `tool` | not run: tool is not installed (apt-get install tool) | | | | | | |",
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// run.sh parses, and refuses what it cannot run before it touches anything,
// saying what would work.
func TestRunRefusesBadSettings(t *testing.T) {
	if out, err := exec.Command("bash", "-n", "run.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n run.sh: %v\n%s", err, out)
	}
	for _, c := range []struct {
		env  []string
		want []string
	}{
		{[]string{"BENCH_ONLY=dump nope"}, []string{`unknown section "nope"`,
			"hint: the sections are: dump sum load diff delta memory api linear baseline"}},
		{[]string{"BENCH_ONLY=baseline"}, []string{"needs BENCH_BASELINE=REV", "hint: e.g. BENCH_BASELINE=main"}},
		{[]string{"BENCH_BASELINE=no-such-revision"}, []string{"is not a commit of this repository", "hint: "}},
		{[]string{"BENCH_PG_PREFIX=Bad-Name"}, []string{"is not a plain database name", "hint: "}},
	} {
		cmd := exec.Command("bash", "run.sh")
		cmd.Env = append(cmd.Environ(), c.env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("run.sh with %v: %v, want exit 2\n%s", c.env, err, out)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(string(out), want) {
				t.Errorf("run.sh with %v: output lacks %q:\n%s", c.env, want, out)
			}
		}
	}
}
