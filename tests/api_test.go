package tests

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/pgtest"
)

// The Go API and the commands are one implementation: on the same input
// they give the same answer, byte for byte where the answer is bytes.
func TestAPIAndCommandsAgree(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stream := filepath.Join(dir, "in.jsonl")
	genStream(t, stream, 3000, 11)
	lite := "sqlite:" + filepath.Join(dir, "a.db") + "#app"
	pg := pgtest.NewDatabase(t) + "#app"

	// Load: the API into SQLite, the command into PostgreSQL; the same counts.
	f, err := os.Open(stream)
	if err != nil {
		t.Fatal(err)
	}
	res, err := persist.Load(ctx, f, lite, persist.LoadOptions{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := mustRun(t, stream, "persist-load", "-v", pg)
	for _, want := range []string{
		" " + itoa(res.Written) + " written,", " " + itoa(res.Events) + " events written,",
	} {
		if !strings.Contains(cmd.stderr, want) {
			t.Errorf("persist-load says %q; the API wrote %+v", cmd.stderr, res)
		}
	}

	for _, loc := range []string{lite, pg, stream} {
		// Dump: the same bytes. Without the cursor: on PostgreSQL it
		// names the server's transactions, which other databases of the
		// same server move on between the two dumps.
		var api bytes.Buffer
		opt := persist.DumpOptions{ReadOptions: persist.ReadOptions{NoCursor: true}}
		if _, err := persist.Dump(ctx, loc, &api, opt); err != nil && loc != stream {
			t.Fatalf("Dump %s: %v", loc, err)
		}
		if loc != stream {
			if out := mustRun(t, "", "persist-dump", "-q", "--no-cursor", loc).stdout; out != api.String() {
				t.Fatalf("Dump(%s) and persist-dump differ (%d and %d bytes)", loc, api.Len(), len(out))
			}
		}
		// Sum: the same line.
		s, err := persist.Sum(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := sumOf(t, loc); got != strings.Join(strings.Fields(s.String()), " ") {
			t.Fatalf("Sum(%s) = %s, persist-sum says %s", loc, s, got)
		}
	}

	// Diff: change one record on one side; the same output and verdict.
	if _, err := persist.Dump(ctx, lite, &bytes.Buffer{}, persist.DumpOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := persist.Open(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "users", "k0000001", map[string]any{"changed": true}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, format := range []struct {
		api  persist.DiffFormat
		flag []string
	}{{persist.DiffHuman, []string{"--color", "never"}}, {persist.DiffJSONL, []string{"--format", "jsonl"}}, {persist.DiffPatch, []string{"--patch"}}} {
		var api bytes.Buffer
		r, err := persist.Diff(ctx, lite, pg, &api, persist.DiffOptions{Format: format.api})
		if err != nil {
			t.Fatal(err)
		}
		out := run(t, "", "persist-diff", append(format.flag, "-q", lite, pg)...)
		if out.stdout != api.String() {
			t.Fatalf("Diff format %d and persist-diff %v differ:\n%s\n---\n%s", format.api, format.flag, api.String(), out.stdout)
		}
		wantCode := 1
		if format.api == persist.DiffPatch {
			wantCode = 0
		}
		if !r.Differ() || out.code != wantCode {
			t.Fatalf("Diff says differ=%v, persist-diff %v exits %d", r.Differ(), format.flag, out.code)
		}
	}

	// Compare (persist verify) and Migrate (persist migrate): the same verdicts.
	c, err := persist.Compare(ctx, lite, pg, persist.CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := run(t, "", "persist", "verify", "app", "--source", lite, "--target", pg)
	if c.Equal() || v.code != 1 || !strings.Contains(v.stdout, c.SumA.Sum) || !strings.Contains(v.stdout, c.SumB.Sum) {
		t.Fatalf("Compare equal=%v %s/%s; persist verify exit %d:\n%s", c.Equal(), c.SumA, c.SumB, v.code, v.stdout)
	}
	copyA := "sqlite:" + filepath.Join(dir, "m1.db")
	copyB := "sqlite:" + filepath.Join(dir, "m2.db")
	m, err := persist.Migrate(ctx, lite, copyA, persist.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "persist", "migrate", "app", "--source", lite, "--target", copyB)
	if a, b := sumOf(t, copyA), sumOf(t, copyB); a != b || !strings.HasPrefix(a, m.Sum) {
		t.Fatalf("Migrate gave %s (result sum %s), persist migrate %s", a, m.Sum, b)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
