package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const t0, t1 = `"2026-11-25T12:00:00.000000Z"`, `"2026-11-25T13:00:00.000000Z"`

func r(coll, key string, version int, rest string) string {
	return `{"kind":"record","collection":"` + coll + `","key":"` + key + `","version":` + itoa(version) + `,"updated_at":` + t0 + `,` + rest + `}`
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

var diffCases = []struct {
	name  string
	a, b  string
	stats Stats
}{
	{
		name:  "identical",
		a:     r("users", "u1", 1, `"value":{"name":"Ada"}`),
		b:     r("users", "u1", 1, `"value":{"name":"Ada"}`),
		stats: Stats{Same: 1},
	},
	{
		name:  "only_a",
		a:     r("users", "u1", 3, `"value":{"name":"Ada"}`) + "\n" + r("users", "u2", 2, `"deleted":true`),
		b:     r("users", "u1", 3, `"value":{"name":"Ada"}`),
		stats: Stats{OnlyA: 1, Same: 1},
	},
	{
		name:  "only_b",
		a:     r("users", "u1", 3, `"value":{"name":"Ada"}`),
		b:     r("users", "u0", 1, `"value":[1,2,3]`) + "\n" + r("users", "u1", 3, `"value":{"name":"Ada"}`) + "\n" + r("users", "u2", 1, `"value":null`),
		stats: Stats{OnlyB: 2, Same: 1},
	},
	{
		name:  "changed_nested",
		a:     r("users", "u3", 3, `"value":{"address":{"city":"Paris","zip":"75001"},"name":"Ada","n":1.5}`),
		b:     r("users", "u3", 4, `"value":{"address":{"city":"Lyon","zip":"75001"},"name":"Ada","age":36,"n":1.50000000000000000001}`),
		stats: Stats{Changed: 1},
	},
	{
		name:  "arrays",
		a:     r("docs", "d1", 1, `"value":{"m":[[1,2],[3]],"tags":["a","b"]}`),
		b:     r("docs", "d1", 1, `"value":{"m":[[1,5],[3],[]],"tags":["a","b","x"]}`),
		stats: Stats{Changed: 1},
	},
	{
		name:  "type_change",
		a:     r("docs", "d1", 1, `"value":{"a":1,"b":[1],"c":null}`) + "\n" + r("docs", "d2", 1, `"value":1`),
		b:     r("docs", "d1", 1, `"value":{"a":"1","b":{"0":1},"c":false}`) + "\n" + r("docs", "d2", 1, `"value":{"x":1}`),
		stats: Stats{Changed: 2},
	},
	{
		name:  "tombstoned",
		a:     r("users", "u1", 5, `"deleted":true`),
		b:     r("users", "u1", 4, `"value":{"name":"Ada"}`),
		stats: Stats{Changed: 1},
	},
	{
		name:  "version_bumped",
		a:     r("users", "u1", 4, `"value":{"name":"Ada"}`),
		b:     r("users", "u1", 3, `"value":{"name":"Ada"}`),
		stats: Stats{Changed: 1},
	},
	{
		name:  "updated_at_only",
		a:     r("users", "u1", 3, `"value":{"name":"Ada"}`),
		b:     strings.Replace(r("users", "u1", 3, `"value":{"name":"Ada"}`), t0, t1, 1),
		stats: Stats{Changed: 1},
	},
	{
		name: "events",
		a: `{"kind":"event","stream":"orders","seq":1,"type":"placed","at":` + t0 + `,"data":{"total":12.5}}
{"kind":"event","stream":"orders","seq":2,"type":"paid","at":` + t0 + `,"data":{"total":12.5}}
{"kind":"event","stream":"orders","seq":3,"type":"shipped","at":` + t0 + `,"data":null}`,
		b: `{"kind":"event","stream":"orders","seq":1,"type":"placed","at":` + t0 + `,"data":{"total":13}}
{"kind":"event","stream":"orders","seq":2,"type":"refunded","at":` + t1 + `,"data":{"total":12.5}}
{"kind":"event","stream":"orders","seq":4,"type":"lost","at":` + t1 + `,"data":{"why":"?"}}`,
		stats: Stats{OnlyA: 1, OnlyB: 1, Changed: 2},
	},
	{
		name:  "spelling_only",
		a:     `{"kind":"record","collection":"users","key":"u1","version":1,"updated_at":"2026-11-25T13:00:00+01:00","value":{"b":1.0,"a":"\u0041\/","c":[1e2, 0.10]}}`,
		b:     `{"value":{"a":"A/","c":[100,0.1],"b":1},"updated_at":"2026-11-25T12:00:00.000000000Z","version":1,"key":"u1","collection":"users","kind":"record"}`,
		stats: Stats{Same: 1},
	},
	{
		name: "odd_names",
		a: r("my coll", "a/b", 1, `"value":{"key with space":"x","ok_1":"\u202eevil","long":"`+strings.Repeat("abcdefghij", 10)+`"}`) + "\n" +
			r("users", "", 1, `"value":1`),
		b:     r("my coll", "a/b", 1, `"value":{"key with space":"y","ok_1":"fine","long":"short"}`),
		stats: Stats{OnlyA: 1, Changed: 1},
	},
	{
		name:  "records_and_events",
		a:     r("a", "1", 1, `"value":1`) + "\n" + `{"kind":"event","stream":"s","seq":1,"type":"t","at":` + t0 + `,"data":1}`,
		b:     r("a", "1", 1, `"value":2`) + "\n" + r("b", "1", 1, `"value":1`),
		stats: Stats{OnlyA: 1, OnlyB: 1, Changed: 1},
	},
}

func runDiff(t testing.TB, a, b []*record.Item, opt Options) (Stats, string) {
	t.Helper()
	var out bytes.Buffer
	st, err := Diff(context.Background(), iter(a), iter(b), &out, opt)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	return st, out.String()
}

func TestDiffHuman(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parseLines(t, tc.a), parseLines(t, tc.b)
			st, out := runDiff(t, a, b, Options{})
			if st != tc.stats {
				t.Errorf("stats = %+v, want %+v", st, tc.stats)
			}
			if st.Differ() != (out != "") {
				t.Errorf("Differ() = %v but output is %q", st.Differ(), out)
			}
			golden(t, filepath.Join("testdata", tc.name+".golden"), out)
		})
	}
}

func TestDiffColor(t *testing.T) {
	tc := diffCases[len(diffCases)-1]
	_, out := runDiff(t, parseLines(t, tc.a), parseLines(t, tc.b), Options{Color: true, NameA: "sqlite:a.db", NameB: "postgres://u:***@h/db"})
	golden(t, filepath.Join("testdata", "color.golden"), out)
	_, plain := runDiff(t, parseLines(t, tc.a), parseLines(t, tc.b), Options{})
	if strings.Contains(plain, "\x1b") {
		t.Errorf("escape codes without Color: %q", plain)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestDiffJSONL(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parseLines(t, tc.a), parseLines(t, tc.b)
			st, out := runDiff(t, a, b, Options{Format: JSONL})
			if st != tc.stats {
				t.Errorf("stats = %+v, want %+v", st, tc.stats)
			}
			ops := map[string]int64{}
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if line == "" {
					continue
				}
				var d struct {
					Op, Kind, Collection, Key, Stream string
					Seq                               int64
					A, B                              json.RawMessage
					Fields, Paths                     []string
				}
				if err := json.Unmarshal([]byte(line), &d); err != nil {
					t.Fatalf("%v: %s", err, line)
				}
				ops[d.Op]++
				if (d.A != nil) != (d.Op != "only_b") || (d.B != nil) != (d.Op != "only_a") {
					t.Errorf("a/b presence wrong for %s: %s", d.Op, line)
				}
				if d.Op == "changed" && len(d.Fields) == 0 {
					t.Errorf("changed without fields: %s", line)
				}
				for _, side := range []json.RawMessage{d.A, d.B} {
					if side == nil {
						continue
					}
					var l record.Line
					if err := record.ParseLine(side, &l); err != nil {
						t.Errorf("embedded line: %v: %s", err, side)
					}
				}
			}
			want := map[string]int64{"only_a": tc.stats.OnlyA, "only_b": tc.stats.OnlyB, "changed": tc.stats.Changed}
			for op, n := range want {
				if ops[op] != n {
					t.Errorf("%d %s lines, want %d", ops[op], op, n)
				}
			}
		})
	}
}

func TestDiffJSONLPaths(t *testing.T) {
	c := diffCases[3] // changed_nested
	_, out := runDiff(t, parseLines(t, c.a), parseLines(t, c.b), Options{Format: JSONL})
	var d struct{ Fields, Paths []string }
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(d.Fields, " "), "version value"; got != want {
		t.Errorf("fields %q, want %q", got, want)
	}
	if got, want := strings.Join(d.Paths, " "), ".address.city .age .n"; got != want {
		t.Errorf("paths %q, want %q", got, want)
	}
}

func TestDiffSummary(t *testing.T) {
	c := diffCases[len(diffCases)-1]
	_, out := runDiff(t, parseLines(t, c.a), parseLines(t, c.b), Options{Format: Summary})
	if want := "only in A: 1, only in B: 1, changed: 1, same: 0\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestDiffInputErrors(t *testing.T) {
	ok := parseLines(t, r("a", "1", 1, `"value":1`))
	for _, tc := range []struct {
		name string
		a    string
		want error
	}{
		{"order", r("a", "2", 1, `"value":1`) + "\n" + r("a", "1", 1, `"value":1`), ErrOrder},
		{"events before records", `{"kind":"event","stream":"s","seq":1,"type":"t","data":1}` + "\n" + r("a", "1", 1, `"value":1`), ErrOrder},
		{"seq order", `{"kind":"event","stream":"s","seq":10,"type":"t","data":1}` + "\n" + `{"kind":"event","stream":"s","seq":9,"type":"t","data":1}`, ErrOrder},
		{"duplicate", r("a", "1", 1, `"value":1`) + "\n" + r("a", "1", 2, `"value":1`), ErrDuplicate},
		{"remove", `{"kind":"remove","collection":"a","key":"1"}`, ErrItemKind},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Diff(context.Background(), iter(parseLines(t, tc.a)), iter(ok), &bytes.Buffer{}, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "A: ") {
				t.Errorf("error does not name the side: %v", err)
			}
		})
	}
}

func TestDiffCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := parseLines(t, r("a", "1", 1, `"value":1`))
	if _, err := Diff(ctx, iter(a), iter(a), &bytes.Buffer{}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{Human, JSONL, Summary, Patch} {
		if g, err := ParseFormat(f.String()); err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), g, err)
		}
	}
	if _, err := ParseFormat("xml"); !errors.Is(err, ErrFormat) {
		t.Errorf("ParseFormat(xml): %v", err)
	}
}

// failAfter yields its items, then fails instead of ending: a stream on a
// pipe found cut short or out of order after some of it was merged.
type failAfter struct{ sliceIter }

func (f *failAfter) Next() (*record.Item, error) {
	if f.i == len(f.items) {
		return nil, errors.New("stream truncated")
	}
	return f.sliceIter.Next()
}

// With Hold, what differs reaches w only once both sides were read whole:
// a side failing after differences were found leaves w empty; one that
// ends well gets what Diff without Hold writes, byte for byte.
func TestHold(t *testing.T) {
	a := parseLines(t, `{"kind":"record","collection":"c","key":"a","value":1}
{"kind":"record","collection":"c","key":"b","value":2}`)
	b := parseLines(t, `{"kind":"record","collection":"c","key":"a","value":9}`)
	for _, f := range []Format{Human, JSONL, Summary, Patch} {
		var w bytes.Buffer
		_, err := Diff(context.Background(), iter(a), &failAfter{sliceIter{items: b}}, &w, Options{Format: f, Hold: true, TempDir: t.TempDir()})
		if err == nil || w.Len() != 0 {
			t.Errorf("%v: %v, and %q written; want the error and nothing", f, err, w.String())
		}
		var held, direct bytes.Buffer
		if _, err := Diff(context.Background(), iter(a), iter(b), &held, Options{Format: f, Hold: true, TempDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		if _, err := Diff(context.Background(), iter(a), iter(b), &direct, Options{Format: f, TempDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
		if held.String() != direct.String() || held.Len() == 0 {
			t.Errorf("%v: held %q, direct %q", f, held.String(), direct.String())
		}
	}
}
