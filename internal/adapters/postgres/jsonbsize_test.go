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
		values = append(values, n, "["+n+"]", `{"a":`+n+`,"bb":[true,`+n+`,"x"]}`, `["abc",`+n+`,[[],{}],null]`,
			`{"a":"xyz","b":{"c":`+n+`,"dd":"e"},"fff":[`+n+`]}`, `{"abc":[`+n+`],"d":{"ee":[1,"x",`+n+`]},"é":`+n+`}`)
	}
	values = append(values, `[`+strings.Repeat(`"x",`, 300)+`1]`, `{"`+strings.Repeat("k", 300)+`":[1,2,3]}`,
		string(sizeBench["object"]), string(sizeBench["arrays"]))
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

// sizeBench are values such as applications store: an object of a dozen
// members, and one of nested arrays.
var sizeBench = map[string][]byte{
	"object": []byte(`{"address":{"city":"Zürich","country":"DE","street":"ul. Floriańska 3","zip":71546},"balance":469.4,` +
		`"currency":"BRL","holder":"Chloé Østergaard","iban":"DE00207296026000306913","ledger_id":1420965449483202726,` +
		`"limits":{"daily":1000,"monthly":25000,"per_tx":999.99},"memo":"adipiscing sed naïve do dolor sed","owner":"u-000024180","tags":["churn-risk"]}`),
	"arrays": []byte(`{"a":[[1,2,3],[4.5,6e+3,-7]],"events":[{"at":"2026-01-01T00:00:00Z","n":1,"ok":true},{"at":"2026-01-02T00:00:00Z","n":2,"ok":false}],` +
		`"grid":[[0,1,0,1],[1,0,1,0],[0,0,1,1]],"id":"x-1","matrix":[[1.25,2.5],[3.75,5]],"name":"nested arrays","nil":null,"path":["a","b","c","d"],"score":12.5,"tags":["x","y"],"v":3}`),
}

// BenchmarkJSONBSize sizes the values of sizeBench, and an array of 10000
// of them (3 MiB): Check sizes only values past jsonbCheckFrom.
func BenchmarkJSONBSize(b *testing.B) {
	big := []byte{'['}
	for i := range 10000 {
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, sizeBench[[]string{"object", "arrays"}[i%2]]...)
	}
	big = append(big, ']')
	for _, name := range []string{"object", "arrays", "big"} {
		v := sizeBench[name]
		if name == "big" {
			v = big
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				if _, err := jsonbSize(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
