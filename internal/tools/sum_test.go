package tools

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

// Names are escaped as sha256sum escapes them, and read back whole.
func TestEscapeName(t *testing.T) {
	for _, tc := range []struct {
		name, escaped string
		needed        bool
	}{
		{"a.jsonl", "a.jsonl", false},
		{"with space.jsonl", "with space.jsonl", false},
		{"nl\nname.jsonl", `nl\nname.jsonl`, true},
		{`back\slash`, `back\\slash`, true},
		{"cr\rname", `cr\rname`, true},
		{`\n`, `\\n`, true},
		{"tab\tname", "tab\tname", false},
	} {
		got, needed := escapeName(tc.name)
		if got != tc.escaped || needed != tc.needed {
			t.Errorf("escapeName(%q) = %q, %v; want %q, %v", tc.name, got, needed, tc.escaped, tc.needed)
		}
		back, ok := unescapeName(got)
		if needed && (!ok || back != tc.name) {
			t.Errorf("unescapeName(%q) = %q, %v; want %q", got, back, ok, tc.name)
		}
	}
	for _, bad := range []string{`a\`, `a\t`, `\x41`} {
		if _, ok := unescapeName(bad); ok {
			t.Errorf("unescapeName(%q) accepted an escape sha256sum never writes", bad)
		}
	}
}

// --by's lines are told from the inputs' own, even when a name holds the
// marker itself.
func TestSplitGroups(t *testing.T) {
	entries := []checkEntry{
		{input: "a.jsonl  collection=users"},
		{input: "a.jsonl  stream=orders  collection=x"},
		{input: "a.jsonl"},
		{input: "odd  collection=name.jsonl  collection=c"},
		{input: "odd  collection=name.jsonl"},
		{input: "cut.jsonl  collection=c"},
		// A collection's name with the marker, beside one it begins with.
		{input: "b.db  collection=a"},
		{input: "b.db  collection=a  collection=b"},
		{input: "b.db"},
	}
	splitGroups(entries)
	want := []checkEntry{
		{input: "a.jsonl", kind: "collection", group: "users"},
		{input: "a.jsonl", kind: "stream", group: "orders  collection=x"},
		{input: "a.jsonl"},
		{input: "odd  collection=name.jsonl", kind: "collection", group: "c"},
		{input: "odd  collection=name.jsonl"},
		{input: "cut.jsonl", kind: "collection", group: "c"},
		{input: "b.db", kind: "collection", group: "a"},
		{input: "b.db", kind: "collection", group: "a  collection=b"},
		{input: "b.db"},
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, entries[i], want[i])
		}
	}
}

// A name that ends as a --by line's does is refused before a line is
// written: once the file was gone, --check would read its line as another
// input's collection or stream.
func TestSumRefusesGroupLikeNames(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, n := range []string{"x  collection=y.jsonl", "x  stream=s", "a  collection=b  stream=c"} {
		if err := os.WriteFile(n, []byte("{}\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := Sum(context.Background(), Stdio{Stdout: &out, Stderr: io.Discard}, SumOptions{Inputs: []string{"plain-first-is-fine-but-missing.jsonl", n}})
		if err == nil || !strings.Contains(err.Error(), "the name holds two spaces and collection= or stream=") || out.Len() > 0 {
			t.Errorf("%q: %v, stdout %q", n, err, out.String())
		}
	}
}

// Every line persist-sum writes, --by's included and whatever else the
// input's name holds, is read back by --check.
func TestCheckReadsWhatSumWrites(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	stream := `{"kind":"record","collection":"users","key":"u1","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}
{"kind":"record","collection":"we\\ird\nc","key":"u1","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":2}
{"kind":"event","stream":"orders","seq":1,"type":"placed","at":"2026-01-01T00:00:00.000000Z","data":null}
`
	names := []string{"plain.jsonl", "nl\nname.jsonl", `back\slash.jsonl`, "cr\rname.jsonl", "two  spaces.jsonl", "two  stream.jsonl"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(stream), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for _, by := range []string{"", "collection"} {
		var sums, out, errs bytes.Buffer
		ctx := context.Background()
		if err := Sum(ctx, Stdio{Stdout: &sums, Stderr: &errs}, SumOptions{Inputs: names, By: by}); err != nil {
			t.Fatalf("--by %q: %v\n%s", by, err, errs.String())
		}
		lines := strings.Split(strings.TrimSuffix(sums.String(), "\n"), "\n")
		if want := len(names) * map[string]int{"": 1, "collection": 4}[by]; len(lines) != want {
			t.Fatalf("--by %q: %d lines, want %d:\n%s", by, len(lines), want, sums.String())
		}
		if err := os.WriteFile("SUMS", sums.Bytes(), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := Sum(ctx, Stdio{Stdout: &out, Stderr: &errs}, SumOptions{Check: "SUMS"}); err != nil {
			t.Fatalf("--by %q: --check: %v %q\n%s\n%s", by, err, hint.All(err), out.String(), errs.String())
		}
		if got := strings.Count(out.String(), ": OK\n"); got != len(lines) {
			t.Errorf("--by %q: %d OK for %d lines:\n%s", by, got, len(lines), out.String())
		}
		if strings.Contains(out.String(), "FAILED") {
			t.Errorf("--by %q:\n%s", by, out.String())
		}
	}
}

// A line of --by output checks on its own, and a changed collection fails
// its line only.
func TestCheckByLines(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	rec := func(c string, v int) string {
		return `{"kind":"record","collection":"` + c + `","key":"k","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":` + string(rune('0'+v)) + "}\n"
	}
	os.WriteFile("a.jsonl", []byte(rec("users", 1)+rec("items", 1)), 0o666)
	var sums, out, errs bytes.Buffer
	ctx := context.Background()
	if err := Sum(ctx, Stdio{Stdout: &sums, Stderr: &errs}, SumOptions{Inputs: []string{"a.jsonl"}, By: "collection"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("a.jsonl", []byte(rec("users", 2)+rec("items", 1)), 0o666)
	os.WriteFile("SUMS", sums.Bytes(), 0o666)
	err := Sum(ctx, Stdio{Stdout: &out, Stderr: &errs}, SumOptions{Check: "SUMS"})
	if err == nil {
		t.Fatalf("--check passed a changed collection:\n%s", out.String())
	}
	want := "a.jsonl  collection=items: OK\na.jsonl  collection=users: FAILED\na.jsonl: FAILED\n"
	if out.String() != want {
		t.Errorf("--check:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(errs.String(), "2 of 3 computed sums did NOT match") {
		t.Errorf("stderr: %s", errs.String())
	}
}

// A line that is not a sum line is refused with a hint about escaping.
func TestCheckBadLine(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, line := range []string{
		"not a sum",
		`\persist1:` + strings.Repeat("0", 64) + `  records=0 events=0  bad\xescape`,
	} {
		os.WriteFile("SUMS", []byte(line+"\n"), 0o666)
		var out, errs bytes.Buffer
		err := Sum(context.Background(), Stdio{Stdout: &out, Stderr: &errs}, SumOptions{Check: "SUMS"})
		if err == nil || !strings.Contains(err.Error(), "line 1: not a persist-sum line") || len(hint.All(err)) == 0 {
			t.Errorf("%q: %v", line, err)
		}
	}
}
