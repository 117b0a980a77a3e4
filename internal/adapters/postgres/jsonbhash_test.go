package postgres

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// TestJSONBHashMatchesServer holds jsonbHash and its parts to the server's
// own functions: hash_bytes_extended through hashtextextended, numbers
// through hash_numeric_extended, whole values through jsonb_hash_extended.
func TestJSONBHashMatchesServer(t *testing.T) {
	_, dsn := open(t)
	db := sqlDB(t, dsn)

	// Every length around the twelve-byte blocks, and bytes above 0x7f.
	var texts []string
	for n := range 40 {
		texts = append(texts, strings.Repeat("abcdefghij", 4)[:n], strings.Repeat("é", n))
	}
	compare := func(what, expr string, args []string, mine func(string) (uint64, bool)) {
		t.Helper()
		for i, server := range fromServer(t, db, expr, args) {
			got, ok := mine(args[i])
			if !ok || strconv.FormatInt(int64(got), 10) != server {
				t.Errorf("%s %.80q: mine %d (%v), the server's %s", what, args[i], int64(got), ok, server)
			}
		}
	}
	compare("text", "hashtextextended(v, 0)",
		texts, func(s string) (uint64, bool) { return hashBytes([]byte(s)), true })

	var numbers []string
	f, err := os.Open("../../record/testdata/vectors/numbers.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if l := sc.Text(); l != "" && l[0] != '#' {
			numbers = append(numbers, strings.Split(l, "\t")[1])
		}
	}
	numbers = append(numbers, "1", "-1", "10000", "0.0001", "123456789.987654321", "1e+21", "-1.5e-7", "99999999",
		"0.1", "1234.5678", "100000000", "1.23456789012345678901234567890123456789e+29", "1e-16383", "1e+131071")
	for i := range 60 {
		numbers = append(numbers, fmt.Sprintf("%d.%d", i*7919, i*104729), fmt.Sprintf("1e-%d", i), fmt.Sprintf("7e+%d", i+21))
	}
	compare("number", "hash_numeric_extended(v::numeric, 0)",
		numbers, func(s string) (uint64, bool) { return jsonbHashScalar(s) })

	vals := storableCorpus(t)
	for _, n := range numbers {
		vals = append(vals, n, "["+n+"]")
	}
	compare("value", "jsonb_hash_extended(v::jsonb, 0)",
		vals, func(s string) (uint64, bool) { return jsonbHash([]byte(s)) })
}

// jsonbHashScalar is a number's hash_numeric_extended.
func jsonbHashScalar(n string) (uint64, bool) {
	w := jsonbHasher{src: []byte(n)}
	end, h, ok := w.number(0)
	return h, ok && end == len(n)
}

// FuzzJSONBHash: jsonbHash accepts every canonical value, and tells apart
// values that differ in a string or in a number's magnitude.
func FuzzJSONBHash(f *testing.F) {
	for _, v := range jsonbCorpus(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := record.Canonical(nil, in)
		if err != nil {
			return
		}
		if _, ok := jsonbHash(v); !ok && !bytes.Contains(v, []byte("e+")) && !bytes.Contains(v, []byte("e-")) {
			t.Fatalf("jsonbHash(%s) refused a canonical value", v)
		}
	})
}
