package adapterstest

import (
	"fmt"

	"github.com/cuitty/persist/internal/record"
)

// values are canonical JSON texts that a database must give back byte for
// byte: numbers beyond float64 and int64, exact decimals, non-ASCII text,
// escapes, and objects whose canonical member order (bytewise) differs from
// the order a database may keep them in (jsonb: shorter keys first).
var values = []string{
	`null`, `true`, `false`, `0`, `-1`, `12.5`, `0.1`, `-0.000001`, `1e-7`, `1e+21`, `1e+400`,
	`9007199254740993`, `-9223372036854775809`, `123456789012345678901`,
	`1.2345678901234567890123456789e+29`,
	`3.1415926535897932384626433832795028841971693993751`,
	`""`, `"Ünïcödé 日本語 😀"`, `"tab\tnl\ncr\r"`, `"\u001f\b\f"`, `"quote\" back\\ slash / <&>"`,
	"\"\u2028\u2029\u007f\u0080 raw\"",
	`[]`, `{}`, `[{}]`, `[1,"a",null,[true,{"b":[]}]]`,
	`{"a":1,"bb":{"c":[1,2,{"d":null}]},"c":"x"}`,
	`{"":0,"Z":1,"a":2,"aa":3,"b":4,"é":5,"日":6,"😀":7}`,
	`{"a b":"c","日本":{"b":[100,{"x":false,"y":null}]}}`,
	// Check may refuse these (PostgreSQL jsonb cannot hold \u0000).
	`"nul\u0000"`, `{"\u0000":1}`,
}

// keys sort differently as bytes than by any collation, case folding or
// UTF-16 order: "B" < "a" < "ab" < "aé" < "e\u0301" < "é" < U+FFFF < 😀.
var keys = []string{
	"", "B", "a", "A", "ab", "a b", "a\u00e9", "aé!", "e\u0301", "é", "z", "Z",
	"\uffff", "😀", "k10", "k9", "a\u007f", "a\u0001",
	// What bulk-load formats escape: tab, newline, carriage return,
	// backslash, and the spelling of NULL in COPY's text format.
	"a\tb", "a\nb", "a\rb", `a\b`, `\N`, `\\N`,
	"a\x00b", // Check may refuse a NUL byte (PostgreSQL text cannot hold it)
}

// times are canonical and must come back exactly, to the microsecond.
var times = []string{
	T0, "2026-11-25T12:00:00.000001Z", "2024-02-29T23:59:59.123456Z", "1970-01-01T00:00:00.000000Z",
	"1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
	"2000-01-01T00:00:00.100000Z",
}

// corpus is a store's worth of items exercising every value, key and time,
// in several collections and streams, with tombstones.
func corpus() []*record.Item {
	var items []*record.Item
	for i, v := range values {
		items = append(items, rec("values", fmt.Sprintf("v%02d", i), int64(i+1), times[i%len(times)], v))
	}
	for i, k := range keys {
		items = append(items,
			rec("keys", k, 1, T0, fmt.Sprintf(`{"i":%d}`, i)),
			rec(k, "x", int64(1+i), times[i%len(times)], `"by collection"`),
			ev(k, 1, "by stream", times[i%len(times)], fmt.Sprintf(`[%d]`, i)))
	}
	items = append(items,
		tomb("keys", "deleted", 7, "2026-11-25T12:00:01.000002Z"),
		tomb("values", "v00-deleted", 1, T0),
		rec("values", "nil value", 3, T0, ""),
		rec("big", "max version", 9223372036854775807, T0, `"max"`),
	)
	items[len(items)-2].Value = nil // absent: stored and read as null
	for i, t := range times {
		items = append(items, ev("orders", int64(i+1), "placed", t, fmt.Sprintf(`{"total":%d.5}`, i)))
	}
	items = append(items,
		ev("orders", 10, "é type 😀", T0, `null`),
		ev("orders", 9007199254740993, "big seq", T0, `{}`),
		ev("orders", 9223372036854775807, "max seq", T0, `[]`),
		ev("nil data", 1, "", T0, ""),
	)
	items[len(items)-1].Data = nil
	return items
}
