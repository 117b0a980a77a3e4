package record

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkCanonical(b *testing.B) {
	cases := map[string]string{
		"canonical": `{"a":[1,2.5,"x"],"name":"Ada Lovelace","nested":{"k":true,"v":null},"tags":["analyst","mathematician"]}`,
		"unsorted":  `{"tags": ["analyst", "mathematician"], "nested": {"v": null, "k": true}, "name": "Ada Lovelace", "a": [1.0, 2.50, "x"]}`,
		"escapes":   `{"text":"line\none \u00e9\u00e8 \ud83d\ude00 \/ \"quoted\" \\ back","n":1.25e3}`,
		// A value of the benchmark store (make bench): short strings, some not ASCII.
		"accents": `{"address":{"city":"Zürich","country":"DE","street":"ul. Floriańska 3","zip":71546},"balance":469.4,` +
			`"currency":"BRL","holder":"Chloé Østergaard","iban":"DE00207296026000306913","ledger_id":1420965449483202726,` +
			`"limits":{"daily":1000,"monthly":25000,"per_tx":999.99},"memo":"adipiscing sed naïve do dolor sed","owner":"u-000024180","tags":["churn-risk"]}`,
	}
	for name, src := range cases {
		b.Run(name, func(b *testing.B) {
			in := []byte(src)
			dst := make([]byte, 0, 1024)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = Canonical(dst[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The check a value read from a store goes through before it would be
// copied (Item.Canonicalize): most are canonical already.
func BenchmarkIsCanonical(b *testing.B) {
	for name, src := range map[string]string{
		"canonical": `{"a":[1,2.5,"x"],"name":"Ada Lovelace","nested":{"k":true,"v":null},"tags":["analyst","mathematician"]}`,
		"accents": `{"address":{"city":"Zürich","country":"DE","street":"ul. Floriańska 3","zip":71546},"balance":469.4,` +
			`"currency":"BRL","holder":"Chloé Østergaard","iban":"DE00207296026000306913","ledger_id":1420965449483202726,` +
			`"limits":{"daily":1000,"monthly":25000,"per_tx":999.99},"memo":"adipiscing sed naïve do dolor sed","owner":"u-000024180","tags":["churn-risk"]}`,
	} {
		b.Run(name, func(b *testing.B) {
			in := []byte(src)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := IsCanonical(in); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkReader(b *testing.B) {
	for name, file := range map[string]string{"input": "stream-small.jsonl", "canonical": "stream-small.canonical.jsonl"} {
		b.Run(name, func(b *testing.B) {
			in := bytes.Repeat(vector(b, file), 10)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(in), ReaderOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := r.Next(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}
