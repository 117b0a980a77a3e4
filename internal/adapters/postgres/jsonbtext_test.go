package postgres

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// jsonbCases are canonical values and their text as PostgreSQL 15 prints
// them from jsonb.
var jsonbCases = []struct{ canonical, jsonb string }{
	{`null`, `null`},
	{`true`, `true`},
	{`"a\"b\\c\n\u001f/é"`, `"a\"b\\c\n\u001f/é"`},
	{`{}`, `{}`},
	{`[]`, `[]`},
	{`{"a":1,"b":[true,null]}`, `{"a": 1, "b": [true, null]}`},
	{`{"aa":1,"b":2,"c":{"":0,"zz":[],"y":{}}}`, `{"b": 2, "c": {"": 0, "y": {}, "zz": []}, "aa": 1}`},
	{`{"a\"":1,"ab":2,"b":3}`, `{"b": 3, "a\"": 1, "ab": 2}`},
	{`{"\u0001x":1,"a":2,"ab":3}`, `{"a": 2, "\u0001x": 1, "ab": 3}`},
	{`{"ab":2,"z":3,"é":1}`, `{"z": 3, "ab": 2, "é": 1}`},
	{`[1.5,-2,0.000001,123456789012345678901]`, `[1.5, -2, 0.000001, 123456789012345678901]`},
	{`[1e+21,-1.5e+22,1e-7,-1.25e-7]`, `[1000000000000000000000, -15000000000000000000000, 0.0000001, -0.000000125]`},
	{`1.23456789012345678901234567890123456789e+29`, `123456789012345678901234567890.123456789`},
	{`[[1,[2]],{"k":[{"a":1,"bb":2,"c":3}]}]`, `[[1, [2]], {"k": [{"a": 1, "c": 3, "bb": 2}]}]`},
}

func TestJSONBText(t *testing.T) {
	for _, c := range jsonbCases {
		got, ok := jsonbText(nil, []byte(c.canonical))
		if !ok || string(got) != c.jsonb {
			t.Errorf("jsonbText(%s) = %s, %v; want %s", c.canonical, got, ok, c.jsonb)
		}
	}
	for _, bad := range []string{``, `{`, `[1,`, `{"a"}`, `{"a":1 `, `"abc`, `tru`, `1e`, `1e+999999999`, `[1]x`} {
		if got, ok := jsonbText(nil, []byte(bad)); ok {
			t.Errorf("jsonbText(%q) = %q, true; want false", bad, got)
		}
	}
}

// jsonbCorpus is every value of the shared vectors and jsonbCases, canonical.
func jsonbCorpus(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	add := func(v []byte) {
		c, err := record.Canonical(nil, v)
		if err != nil {
			t.Fatalf("corpus value %s: %v", v, err)
		}
		out = append(out, c)
	}
	for _, c := range jsonbCases {
		add([]byte(c.canonical))
	}
	const vectors = "../../record/testdata/vectors/"
	f, err := os.Open(vectors + "values.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var v struct{ In string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		add([]byte(v.In))
	}
	data, err := os.ReadFile(vectors + "stream-small.canonical.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(data) {
		var l record.Line
		if err := record.ParseLine(bytes.TrimSuffix(line, []byte("\n")), &l); err != nil {
			t.Fatal(err)
		}
		for _, v := range [][]byte{l.Item.Value, l.Item.Data} {
			if v != nil {
				add(v)
			}
		}
	}
	return out
}

// FuzzJSONBText holds jsonbText to what the read-back relies on: whatever
// it spells for a canonical value means that value.
func FuzzJSONBText(f *testing.F) {
	for _, v := range jsonbCorpus(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := record.Canonical(nil, in)
		if err != nil {
			return
		}
		spelled, ok := jsonbText(nil, v)
		if !ok {
			if bytes.Contains(v, []byte("e+")) || bytes.Contains(v, []byte("e-")) {
				return // an exponent beyond what numeric holds
			}
			t.Fatalf("jsonbText(%s) refused a canonical value", v)
		}
		back, err := record.Canonical(nil, spelled)
		if err != nil || !bytes.Equal(back, v) {
			t.Fatalf("jsonbText(%s) = %s, which is %s (%v)", v, spelled, back, err)
		}
	})
}

// TestJSONBTextMatchesServer checks the spelling against the server's own,
// value by value: where they differ, every read-back of such a value takes
// the slow way.
func TestJSONBTextMatchesServer(t *testing.T) {
	_, dsn := open(t)
	vals := storableCorpus(t)
	for i, server := range fromServer(t, sqlDB(t, dsn), "v::jsonb::text", vals) {
		got, ok := jsonbText(nil, []byte(vals[i]))
		if !ok || string(got) != server {
			t.Errorf("value %.80s: jsonbText gives %.80s, the server %.80s", vals[i], got, server)
		}
	}
	if len(vals) < 50 {
		t.Fatalf("only %d values compared", len(vals))
	}
	if t.Failed() {
		t.Log(strings.Repeat("-", 20), "a mismatch costs speed, not correctness: the read-back falls back to parsing")
	}
}

// storableCorpus is jsonbCorpus less what jsonb cannot hold (\u0000).
func storableCorpus(t testing.TB) []string {
	var vals []string
	for _, v := range jsonbCorpus(t) {
		if !bytes.Contains(v, []byte(`\u0000`)) {
			vals = append(vals, string(v))
		}
	}
	return vals
}

// fromServer evaluates expr, over v, on the server for each of args, in order.
func fromServer(t *testing.T, db *sql.DB, expr string, args []string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT (`+expr+`)::text FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i`, pq.Array(args))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(args) {
		t.Fatalf("%s: the server gave %d results for %d values", expr, len(out), len(args))
	}
	return out
}

// TestLockSparesParsing loads the shared vectors' stream and looks it up
// with each item as its own key, as a rerun of a load does: every value must
// be recognised from the server's text without being parsed. Written and
// read back in one transaction, the server compares every row and sends
// none back.
func TestLockSparesParsing(t *testing.T) {
	a, _ := open(t)
	data, err := os.ReadFile("../../record/testdata/vectors/stream-small.canonical.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	var want []string
	for line := range bytes.Lines(data) {
		var l record.Line
		if err := record.ParseLine(bytes.TrimSuffix(line, []byte("\n")), &l); err != nil {
			t.Fatal(err)
		}
		if (l.Kind == record.KindRecord || l.Kind == record.KindEvent) && a.Check("app", &l.Item) == nil {
			items = append(items, l.Item.Clone())
			want = append(want, string(bytes.TrimSuffix(line, []byte("\n"))))
		}
	}
	if len(items) < 100 {
		t.Fatalf("only %d items in the vectors", len(items))
	}
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	before := readBackRows.Load()
	err = tx.ReadBack(ctx, items, func(it *record.Item, p string) error {
		t.Errorf("%s: %s", record.AppendItem(nil, it), p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := readBackRows.Load() - before; n != 0 {
		t.Errorf("%d read-backs read rows back instead of comparing on the server", n)
	}
	before = reparsed.Load()
	var got []string
	err = tx.Lock(ctx, items, func(it *record.Item) error {
		got = append(got, string(record.AppendItem(nil, it)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Lock found %d items, not the %d written", len(got), len(want))
	}
	if n := reparsed.Load() - before; n != 0 {
		t.Errorf("%d of %d values were parsed again: jsonbText spells them otherwise than the server", n, len(items))
	}
}

// BenchmarkReadBackValue compares the two ways a value looked up is
// recognised: spelling the expected value as jsonb does, or parsing the
// server's text into canonical JSON.
func BenchmarkReadBackValue(b *testing.B) {
	v := []byte(`{"address":{"city":"Zürich","country":"DE","street":"ul. Floriańska 3","zip":71546},"balance":469.4,` +
		`"currency":"BRL","holder":"Chloé Østergaard","iban":"DE00207296026000306913","ledger_id":1420965449483202726,` +
		`"limits":{"daily":1000,"monthly":25000,"per_tx":999.99},"memo":"adipiscing sed naïve do dolor sed","owner":"u-000024180","tags":["churn-risk"]}`)
	server, _ := jsonbText(nil, v)
	var buf []byte
	b.Run("jsonbText", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		var w jsonbWriter
		for b.Loop() {
			buf, _ = w.spell(buf[:0], v)
			if !bytes.Equal(buf, server) {
				b.Fatal("differs")
			}
		}
	})
	b.Run("Canonical", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		for b.Loop() {
			buf, _ = record.Canonical(buf[:0], server)
		}
	})
}
