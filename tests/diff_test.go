package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/pgtest"
)

// Two 100k-record stores, one SQLite and one PostgreSQL, with a known set of
// differences: persist-diff reports exactly those, in dump order, then a
// patch makes them equal.
func TestDiffKnownDifferences(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	aIn := filepath.Join(dir, "a.jsonl")
	genStream(t, aIn, 100_000, 5)
	bIn := filepath.Join(dir, "b.jsonl")
	want := makeB(t, aIn, bIn)

	a := "sqlite:" + filepath.Join(dir, "a.db") + "#d"
	b := pgtest.NewDatabase(t) + "#d"
	mustRun(t, aIn, "persist-load", "-q", a)
	mustRun(t, bIn, "persist-load", "-q", b)

	r := run(t, "", "persist-diff", "--format", "jsonl", a, b)
	if r.code != 1 {
		t.Fatalf("persist-diff exit %d, want 1: %s", r.code, r.stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var d struct {
			Op, Kind, Collection, Key, Stream string
			Seq                               int64
			Paths                             []string
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		addr := d.Collection + "/" + d.Key
		if d.Kind == "event" {
			addr = fmt.Sprintf("%s/%d", d.Stream, d.Seq)
		}
		got = append(got, d.Op+" "+addr+" "+strings.Join(d.Paths, ","))
	}
	if len(got) != len(want) {
		t.Errorf("persist-diff found %d differences, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("difference %d: got %q, want %q (order is dump order)", i, got[i], want[i])
		}
	}

	// The human form names the JSON path of a changed value, both sides.
	h := run(t, "", "persist-diff", "--color", "never", a, b)
	if h.code != 1 || !strings.HasPrefix(h.stdout, "--- sqlite:") || !strings.Contains(h.stdout, ".name: ") {
		t.Fatalf("human output (exit %d) lacks ---/+++ or a .name path:\n%.2000s", h.code, h.stdout)
	}

	// Patch B, then nothing differs and the sums agree.
	patch := filepath.Join(dir, "patch.jsonl")
	p := run(t, "", "persist-diff", "-q", "--patch", a, b)
	if p.code != 0 {
		t.Fatalf("persist-diff --patch exit %d: %s", p.code, p.stderr)
	}
	os.WriteFile(patch, []byte(p.stdout), 0o644)
	mustRun(t, patch, "persist-load", "-q", b)
	same := run(t, "", "persist-diff", a, b)
	if same.code != 0 || same.stdout != "" {
		t.Fatalf("after the patch: exit %d, output %q", same.code, same.stdout)
	}
	if sa, sb := sumOf(t, a), sumOf(t, b); sa != sb {
		t.Fatalf("after the patch sums differ: %s vs %s", sa, sb)
	}
	// The same patch again is a no-op that says so: B holds what it makes.
	again := run(t, patch, "persist-load", b)
	if again.code != 0 || !strings.Contains(again.stderr, "the patch is applied already") || sumOf(t, b) != sumOf(t, a) {
		t.Fatalf("a patch applied already: exit %d: %s", again.code, again.stderr)
	}
	// Once B has moved on, the patch is refused: it was made for another state.
	moved := filepath.Join(dir, "moved.jsonl")
	os.WriteFile(moved, []byte(`{"kind":"record","collection":"users","key":"moved-on","value":1}`+"\n"), 0o644)
	mustRun(t, moved, "persist-load", "-q", b)
	stale := run(t, patch, "persist-load", b)
	if stale.code != 2 || !strings.Contains(stale.stderr, "sum") {
		t.Fatalf("a stale patch was not refused: exit %d: %s", stale.code, stale.stderr)
	}
	// A store against its own dump: no difference.
	dump := filepath.Join(dir, "a.dump.jsonl")
	mustRun(t, "", "persist-dump", "-q", a, "-o", dump)
	if r := run(t, "", "persist-diff", a, dump); r.code != 0 || r.stdout != "" {
		t.Fatalf("store vs its own dump: exit %d, %q", r.code, r.stdout)
	}
}

var keyRE = regexp.MustCompile(`"collection":"([^"]*)","key":"k(\d+)","version":(\d+)`)
var seqRE = regexp.MustCompile(`"stream":"(s\d+)","seq":(\d+)`)

// makeB writes B: A with ~1% of records changed in value, missing, added,
// tombstoned or version-bumped, and some events missing or different. It
// returns the differences persist-diff must report, in dump order.
func makeB(t *testing.T, aIn, bOut string) []string {
	in, err := os.Open(aIn)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(bOut)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	defer w.Flush()
	var want []string
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		line := sc.Text()
		if m := keyRE.FindStringSubmatch(line); m != nil {
			i++
			addr := m[1] + "/k" + m[2]
			live := !strings.Contains(line, `"deleted":true`)
			switch {
			case i%500 == 7 && live: // value changed, version bumped
				line = strings.Replace(line, `"name":"Zoë`, `"name":"Bo`, 1)
				line = strings.Replace(line, `"version":`+m[3], fmt.Sprintf(`"version":%d`, atoi(m[3])+1), 1)
				want = append(want, "changed "+addr+" .name")
			case i%500 == 107: // only in A
				want = append(want, "only_a "+addr+" ")
				continue
			case i%500 == 207 && live: // tombstoned in B
				line = regexp.MustCompile(`,"value":.*}$`).ReplaceAllString(line, `,"deleted":true}`)
				want = append(want, "changed "+addr+" .")
			case i%500 == 307: // version bumped, same value
				line = strings.Replace(line, `"version":`+m[3], fmt.Sprintf(`"version":%d`, atoi(m[3])+1), 1)
				want = append(want, "changed "+addr+" ")
			case i%500 == 407: // only in B: an extra key right after this one
				fmt.Fprintln(w, line)
				extra := strings.Replace(line, `"key":"k`+m[2]+`"`, `"key":"k`+m[2]+`x"`, 1)
				line = extra
				want = append(want, "only_b "+m[1]+"/k"+m[2]+"x ")
			}
		} else if m := seqRE.FindStringSubmatch(line); m != nil {
			seq := atoi(m[2])
			addr := m[1] + "/" + m[2]
			switch {
			case m[1] == "s03" && seq%97 == 0:
				want = append(want, "only_a "+addr+" ")
				continue
			case m[1] == "s07" && seq%89 == 0:
				line = strings.Replace(line, `"data":{"total":`, `"data":{"total":1`, 1)
				want = append(want, "changed "+addr+" .total")
			}
		}
		fmt.Fprintln(w, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}
