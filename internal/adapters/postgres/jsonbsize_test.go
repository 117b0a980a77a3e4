package postgres

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// jsonbSize is the size the server gives each value: every value of the
// shared vectors, and values made to cross alignments, header sizes and
// numeric formats.
func TestJSONBSizeMatchesServer(t *testing.T) {
	_, dsn := open(t)
	db := sqlDB(t, dsn)
	var values []string
	f, err := os.Open("../../record/testdata/vectors/values.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if v, err := record.Canonical(nil, bytes.TrimSpace(sc.Bytes())); err == nil && checkJSON("v", v) == nil {
			values = append(values, string(v))
		}
	}
	for _, n := range []string{"0", "1", "-1", "12.5", "0.0001", "1e-7", "1e+21", "1e+400", "1.5e-300",
		"123456789", "99999999999999999999999", "0.1234567890123456789", "1e+255", "1e+256", "1e-260", "5e-257"} {
		values = append(values, n, "["+n+"]", `{"a":`+n+`,"bb":[true,`+n+`,"x"]}`, `["abc",`+n+`,[[],{}],null]`)
	}
	values = append(values, `[`+strings.Repeat(`"x",`, 300)+`1]`, `{"`+strings.Repeat("k", 300)+`":[1,2,3]}`)
	for _, v := range values {
		want := 0
		if err := db.QueryRow(`SELECT pg_column_size($1::jsonb)`, v).Scan(&want); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got, err := jsonbSize([]byte(v))
		if err != nil || got != want {
			t.Errorf("jsonbSize(%.80s) = %d, %v; the server says %d", v, got, err, want)
		}
	}
	if len(values) < 80 {
		t.Errorf("only %d values tried", len(values))
	}
}

// Check refuses a value past jsonb's limits on containers, and takes one
// within them; both past the size from which it looks.
func TestCheckJSONBLimits(t *testing.T) {
	many := func(n int, elem string) []byte {
		var b bytes.Buffer
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(elem)
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	for _, tc := range []struct {
		v    []byte
		want string // in the error; "" for none
	}{
		{many(jsonbMaxElems, "null"), ""},
		{many(jsonbMaxElems+1, "null"), "more than jsonb's 33554431"},
		{many(24_000_000, "1"), "more than its 268435455"},
		{many(20_000_000, "1"), ""},
	} {
		err := checkJSON("value", tc.v)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d bytes: %v, want %q", len(tc.v), err, tc.want)
		}
	}
}
