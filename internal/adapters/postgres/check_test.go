package postgres

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

func sqlErr(code string) error { return &pq.Error{Code: pqerror.Code(code), Message: "test"} }

var checkCases = []struct {
	name string
	it   record.Item
	ok   bool
}{
	{"plain", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":"b"}`)}, true},
	{"nul escape", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":"x\u0000y"}`)}, false},
	{"nul escape in key", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"\u0000":1}`)}, false},
	{"escaped backslash then u0000", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`"\\u0000"`)}, true},
	{"three backslashes", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`"\\\u0000"`)}, false},
	{"u0001", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`"\u0001"`)}, true},
	{"nul byte in key", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k\x00"}, false},
	{"nul byte in collection", record.Item{Kind: record.KindRecord, Collection: "\x00"}, false},
	{"invalid utf-8 key", record.Item{Kind: record.KindRecord, Collection: "c", Key: "\xff"}, false},
	{"event data", record.Item{Kind: record.KindEvent, Stream: "s", Type: "t", Data: []byte(`["\u0000"]`)}, false},
	{"event type", record.Item{Kind: record.KindEvent, Stream: "s", Type: "t\x00"}, false},
	{"event stream", record.Item{Kind: record.KindEvent, Stream: "\x00", Type: "t"}, false},
	{"remove record", record.Item{Kind: record.KindRemove, Collection: "c", Key: "\x00"}, false},
	{"remove event", record.Item{Kind: record.KindRemove, Stream: "s\x00", Seq: 1}, false},
	{"tombstone", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Deleted: true}, true},
	{"big exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`1e+131071`)}, true},
	{"too big exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`[1e+131072]`)}, false},
	{"small exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":-1e-16383}`)}, true},
	{"too small exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":1e-16384}`)}, false},
	{"too many fraction digits", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`1.5e-16383`)}, false},
	{"long fraction", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte("0." + strings.Repeat("1", 16383))}, true},
	{"too long fraction", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte("0." + strings.Repeat("1", 16384))}, false},
	{"exponent in a string", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":"1e+999999 \"2e-99999\" e"}`)}, true},
	{"exponent after strings", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":"\\","be":[7e-16384]}`)}, false},
	{"absurd exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`1e+99999999999999999999`)}, false},
	{"e in a string", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`"1e+999999"`)}, true},
	{"E after a string with escaped quotes", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a\"\\":[1E+200000]}`)}, false},
	{"signs and exponents in strings only", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":"x-1e-99999+2e+999999","b":"-","c":-1}`)}, true},
	{"an exponent among signs in strings", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`["a-b",-1e-16384,"+"]`)}, false},
	{"escaped quotes and a small exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a\"\\":[1e+20000,"2e+999999"]}`)}, true},
	// A short value's number is too big only with a long exponent; a long
	// value's mantissa counts too.
	{"four-digit exponent", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`{"a":[1e-9999,2e+9999]}`)}, true},
	{"long mantissa, exponent within", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte("1." + strings.Repeat("3", 7000) + "e-9000")}, true},
	{"long mantissa, exponent past", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte("1." + strings.Repeat("3", 7000) + "e-9999")}, false},
	// The primary keys' index entries at their limit, 2704 bytes, and one
	// byte past it, with text that does not compress.
	{"longest key", record.Item{Kind: record.KindRecord, Collection: "c", Key: incompressible(2684), Value: []byte(`1`)}, true},
	{"key too long", record.Item{Kind: record.KindRecord, Collection: "c", Key: incompressible(2685), Value: []byte(`1`)}, false},
	{"longest collection", record.Item{Kind: record.KindRecord, Collection: incompressible(2686), Key: "k", Value: []byte(`1`)}, true},
	{"collection too long", record.Item{Kind: record.KindRecord, Collection: incompressible(2687), Key: "k", Value: []byte(`1`)}, false},
	{"longest stream", record.Item{Kind: record.KindEvent, Stream: incompressible(2680), Type: "t", Data: []byte(`1`)}, true},
	{"stream too long", record.Item{Kind: record.KindEvent, Stream: incompressible(2681), Type: "t", Data: []byte(`1`)}, false},
	{"short key, a long value", record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Value: []byte(`"` + incompressible(100000) + `"`)}, true},
}

// incompressible is n letters and digits that PostgreSQL's compression of
// index entries cannot shrink, always the same for n.
func incompressible(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestCheck(t *testing.T) {
	a := &Adapter{}
	for _, tc := range checkCases {
		err := a.Check("app", &tc.it)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, adapters.ErrUnsupported) {
			t.Errorf("%s: Check = %v, want ErrUnsupported", tc.name, err)
		}
	}
	err := a.Check("app", &checkCases[1].it)
	if !strings.Contains(err.Error(), `PostgreSQL jsonb cannot hold \u0000`) {
		t.Errorf("the reason is not said: %v", err)
	}
}

// What Check accepts, PostgreSQL stores, and what it refuses, PostgreSQL
// refuses: each case is tried against the real server.
func TestCheckAgreesWithServer(t *testing.T) {
	a, _ := open(t)
	for _, tc := range checkCases {
		if tc.it.Kind == record.KindRemove {
			continue
		}
		it := tc.it
		it.Version, it.UpdatedAt, it.Seq, it.At = 1, "2026-01-01T00:00:00.000000Z", 1, "2026-01-01T00:00:00.000000Z"
		tx, err := a.Begin(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		// Put checks too; send the rows the way Put would, past the check.
		if err := tx.(*writeTx).staging(ctx); err != nil {
			t.Fatal(err)
		}
		if it.Kind == record.KindRecord {
			err = tx.(*writeTx).putRecords(ctx, []*record.Item{&it}, adapters.Guarded)
		} else {
			err = tx.(*writeTx).putEvents(ctx, []*record.Item{&it}, adapters.Guarded)
		}
		tx.Rollback()
		if tc.ok != (err == nil) {
			t.Errorf("%s: Check says ok=%v, the server says %v", tc.name, tc.ok, err)
		}
		if perr := a.Check("app", &it); !tc.ok && !errors.Is(perr, adapters.ErrUnsupported) {
			t.Errorf("%s: Check = %v", tc.name, perr)
		}
	}
}

// A time PostgreSQL refuses is one Check refuses, and the years it takes
// pass: tried against the real server.
func TestCheckTimeAgreesWithServer(t *testing.T) {
	a, _ := open(t)
	for _, tc := range []struct {
		at string
		ok bool
	}{
		{"0000-01-01T00:00:00.000000Z", false},
		{"0000-12-31T23:59:59.999999Z", false},
		{"0001-01-01T00:00:00.000000Z", true},
		{"9999-12-31T23:59:59.999999Z", true},
	} {
		rec := record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Version: 1, UpdatedAt: tc.at, Value: []byte("1")}
		ev := record.Item{Kind: record.KindEvent, Stream: "s", Seq: 1, Type: "t", At: tc.at, Data: []byte("1")}
		for _, it := range []*record.Item{&rec, &ev} {
			if err := a.Check("app", it); tc.ok != (err == nil) || !tc.ok && !errors.Is(err, adapters.ErrUnsupported) {
				t.Errorf("%s %s: Check = %v, want ok=%v", it.Kind, tc.at, err, tc.ok)
			}
			tx, err := a.Begin(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.(*writeTx).staging(ctx); err != nil {
				t.Fatal(err)
			}
			if it.IsRecord() {
				err = tx.(*writeTx).putRecords(ctx, []*record.Item{it}, adapters.Guarded)
			} else {
				err = tx.(*writeTx).putEvents(ctx, []*record.Item{it}, adapters.Guarded)
			}
			tx.Rollback()
			if tc.ok != (err == nil) {
				t.Errorf("%s %s: Check says ok=%v, the server says %v", it.Kind, tc.at, tc.ok, err)
			}
		}
	}
}

// pgTime spells what the server's timestamptz_send gives as the stream
// does, and names a time Persist cannot hold as the server prints it.
func TestPGTime(t *testing.T) {
	_, dsn := open(t)
	db := sqlDB(t, dsn)
	for _, tc := range []struct{ in, want, bad string }{
		{in: "2026-11-25 12:00:00.123456+00", want: "2026-11-25T12:00:00.123456Z"},
		{in: "2026-11-25 12:00:00.1+00", want: "2026-11-25T12:00:00.100000Z"},
		{in: "2026-11-25 12:00:00.00001+00", want: "2026-11-25T12:00:00.000010Z"},
		{in: "2026-11-25 12:00:00+00", want: "2026-11-25T12:00:00.000000Z"},
		{in: "2000-01-01 00:00:00+00", want: "2000-01-01T00:00:00.000000Z"},
		{in: "1999-12-31 23:59:59.999999+00", want: "1999-12-31T23:59:59.999999Z"},
		{in: "1969-12-31 23:59:59.5+00", want: "1969-12-31T23:59:59.500000Z"},
		{in: "0001-01-01 00:00:00+00", want: "0001-01-01T00:00:00.000000Z"},
		{in: "9999-12-31 23:59:59.999999+00", want: "9999-12-31T23:59:59.999999Z"},
		{in: "2024-02-29 23:59:59.5+00", want: "2024-02-29T23:59:59.500000Z"},
		{in: "2026-11-25 17:45:00.5+05:45", want: "2026-11-25T12:00:00.500000Z"},
		{in: "2026-11-25 07:00:00-05", want: "2026-11-25T12:00:00.000000Z"},
		{in: "infinity", bad: `infinity is not a time`},
		{in: "-infinity", bad: `-infinity is not a time`},
		{in: "10000-01-01 00:00:00+00", bad: `10000-01-01 00:00:00+00 is not a time`},
		{in: "0001-12-31 23:00:00.25+00 BC", bad: `0001-12-31 23:00:00.25+00 BC is not a time`},
		{in: "0044-03-15 12:00:00+00 BC", bad: `0044-03-15 12:00:00+00 BC is not a time`},
	} {
		var b []byte
		if err := db.QueryRow(`SELECT pg_catalog.timestamptz_send($1::timestamptz)`, tc.in).Scan(&b); err != nil {
			t.Fatal(err)
		}
		got, err := pgTime(b)
		switch {
		case tc.bad == "" && (err != nil || got != tc.want):
			t.Errorf("pgTime(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.bad != "" && (err == nil || !errors.Is(err, record.ErrTime) || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("pgTime(%s) = %q, %v; want an error saying %q", tc.in, got, err, tc.bad)
		}
	}
	for _, b := range [][]byte{nil, []byte("2026-11-25 12:00:00+00"), make([]byte, 9)} {
		if got, err := pgTime(b); err == nil {
			t.Errorf("pgTime(%q) = %q, want an error", b, got)
		}
	}
}

// The quick tests numberProblem starts with never hide a number that a
// look at every number finds out of range.
func FuzzNumberProblem(f *testing.F) {
	for _, tc := range checkCases {
		if tc.it.Value != nil {
			f.Add(tc.it.Value)
		}
	}
	f.Add([]byte(`{"a":"-e-","b":[1e-16384,"x+"]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := record.Canonical(nil, in)
		if err != nil || len(b) > maxNumericScale {
			return
		}
		if got, want := numberProblem(b), eachNumberProblem(b); got != want {
			t.Fatalf("numberProblem(%s) = %q, a look at every number says %q", b, got, want)
		}
	})
}
