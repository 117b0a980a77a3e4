package persist_test

import (
	"bytes"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

// twoSQLiteStores loads the same stream of n records into two fresh SQLite
// files and returns their locations.
func twoSQLiteStores(t *testing.T, n int) (a, b string) {
	t.Helper()
	stream := writeStream(t, n)
	var locs [2]string
	for i := range locs {
		locs[i] = backends[0].new(t)
		f, err := os.Open(stream)
		if err != nil {
			t.Fatal(err)
		}
		_, err = persist.Load(testContext(t), f, locs[i], persist.LoadOptions{})
		f.Close()
		if err != nil {
			t.Fatalf("load %s: %v", locs[i], err)
		}
	}
	return locs[0], locs[1]
}

// editValues sets the stored value of the live records matching where, as
// a program other than Persist might.
func editValues(t *testing.T, loc, where, value string) {
	t.Helper()
	db, err := sql.Open("sqlite3", strings.TrimPrefix(loc, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE persist_records SET value = ? WHERE deleted = 0 AND `+where, value); err != nil {
		t.Fatal(err)
	}
}

func diffOut(t *testing.T, a, b string, f persist.DiffFormat) (string, persist.DiffResult, error) {
	t.Helper()
	var out bytes.Buffer
	r, err := persist.Diff(testContext(t), a, b, &out, persist.DiffOptions{Format: f})
	return out.String(), r, err
}

// Two SQLite stores share out the checking of values: each side checks
// about half, and a value equal byte for byte to the other side's checked
// one is not checked again. The answer must be what checking every value
// gives: a spelling that is not canonical is no difference, a value that is
// not JSON is an error whichever side would have checked it.
func TestDiffSQLiteSharesChecks(t *testing.T) {
	if backends[0].name != "sqlite" {
		t.Skip("needs SQLite first among the test databases")
	}
	const n = 60 // enough keys to fall in both shares
	t.Run("equal stores", func(t *testing.T) {
		a, b := twoSQLiteStores(t, n)
		_, r, err := diffOut(t, a, b, persist.DiffSummary)
		if err != nil || r.Differ() || r.Same == 0 {
			t.Fatalf("Diff = %+v, %v; want all the same", r, err)
		}
	})
	t.Run("same other spelling on both sides", func(t *testing.T) {
		a, b := twoSQLiteStores(t, n)
		editValues(t, a, "1", `{ "z": [ ], "a" : 1.50E1 }`)
		editValues(t, b, "1", `{ "z": [ ], "a" : 1.50E1 }`)
		_, r, err := diffOut(t, a, b, persist.DiffSummary)
		if err != nil || r.Differ() {
			t.Fatalf("Diff = %+v, %v; want all the same", r, err)
		}
	})
	t.Run("other spelling on one side", func(t *testing.T) {
		a, b := twoSQLiteStores(t, n)
		editValues(t, a, "1", `{ "z": [ ], "a" : 1.50E1 }`)
		editValues(t, b, "1", `{"a":15,"z":[]}`)
		_, r, err := diffOut(t, a, b, persist.DiffSummary)
		if err != nil || r.Differ() {
			t.Fatalf("Diff = %+v, %v; want all the same", r, err)
		}
	})
	t.Run("other value spelled otherwise", func(t *testing.T) {
		a, b := twoSQLiteStores(t, n)
		editValues(t, a, "1", `{ "a" : 1.50E1 }`)
		editValues(t, b, "1", `{"a":16}`)
		out, r, err := diffOut(t, a, b, persist.DiffJSONL)
		if err != nil || r.Changed != 58 || r.OnlyA+r.OnlyB != 0 {
			t.Fatalf("Diff = %+v, %v; want the 58 live records changed", r, err)
		}
		if strings.Contains(out, "1.50E1") || !strings.Contains(out, `"a":15`) {
			t.Fatalf("the difference shows a value not canonical:\n%s", out)
		}
	})
	// One key at a time, so that each share is tried on its own.
	for _, side := range []string{"both", "A", "B"} {
		t.Run("not JSON on "+side, func(t *testing.T) {
			a, b := twoSQLiteStores(t, n)
			for i := 10; i < 22; i++ { // live records
				where := "key = 'k" + pad(i) + "'"
				if side != "B" {
					editValues(t, a, where, `{"a":`)
				}
				if side != "A" {
					editValues(t, b, where, `{"a":`)
				}
				_, r, err := diffOut(t, a, b, persist.DiffSummary)
				if err == nil || !strings.Contains(err.Error(), "not valid JSON") || !strings.Contains(err.Error(), "k"+pad(i)) {
					t.Fatalf("Diff with k%s not JSON on %s = %+v, %v; want an error naming it", pad(i), side, r, err)
				}
				editValues(t, a, where, `{"fixed":1}`)
				editValues(t, b, where, `{"fixed":1}`)
			}
		})
	}
}

// Every output is the same whether a side is a store, checked in shares,
// or its dump, checked in full.
func TestDiffSharedOutputsAsDump(t *testing.T) {
	if backends[0].name != "sqlite" {
		t.Skip("needs SQLite first among the test databases")
	}
	a, b := twoSQLiteStores(t, 60)
	editValues(t, a, "key IN ('k00001', 'k00002', 'k00003', 'k00010')", `{ "edited" : 1.0 }`)
	editValues(t, b, "key IN ('k00002', 'k00004', 'k00011')", `{"edited":2}`)
	dumpB := t.TempDir() + "/b.jsonl"
	f, err := os.Create(dumpB)
	if err != nil {
		t.Fatal(err)
	}
	src, err := persist.OpenSource(testContext(t), b, persist.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Dump(testContext(t), f, nil); err != nil {
		t.Fatal(err)
	}
	src.Close()
	f.Close()
	for _, format := range []persist.DiffFormat{persist.DiffHuman, persist.DiffJSONL, persist.DiffSummary, persist.DiffPatch} {
		stores, r1, err1 := diffOut(t, a, b, format)
		dump, r2, err2 := diffOut(t, a, dumpB, format)
		if err1 != nil || err2 != nil || r1 != r2 || r1.Changed == 0 {
			t.Fatalf("format %d: stores %+v, %v; dump %+v, %v", format, r1, err1, r2, err2)
		}
		if format == persist.DiffHuman {
			// Past the "---" and "+++" lines, which name the locations.
			stores, dump = afterLines(stores, 2), afterLines(dump, 2)
		}
		if stores != dump {
			t.Errorf("format %d: the stores' diff differs from the dump's:\n%s\n---\n%s", format, stores, dump)
		}
	}
}

func pad(i int) string {
	s := "0000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
	return s[len(s)-5:]
}

func afterLines(s string, n int) string {
	for range n {
		_, s, _ = strings.Cut(s, "\n")
	}
	return s
}
