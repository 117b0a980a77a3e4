package postgres

import (
	"bytes"
	"testing"
)

func TestWalkSpellerAgrees(t *testing.T) {
	var w walkSpeller
	for _, v := range jsonbCorpus(t) {
		want, wok := jsonbText(nil, v)
		got, ok := w.spell(nil, v)
		if ok != wok || !bytes.Equal(got, want) {
			t.Errorf("%s: walk %s %v, hand %s %v", v, got, ok, want, wok)
		}
	}
	for _, c := range jsonbCases {
		got, ok := w.spell(nil, []byte(c.canonical))
		if !ok || string(got) != c.jsonb {
			t.Errorf("walk(%s) = %s, %v; want %s", c.canonical, got, ok, c.jsonb)
		}
	}
	for _, bad := range []string{``, `{`, `[1,`, `{"a"}`, `{"a":1 `, `"abc`, `tru`, `1e`, `1e+999999999`, `[1]x`} {
		if got, ok := w.spell(nil, []byte(bad)); ok {
			t.Errorf("walk(%q) = %q, true; want false", bad, got)
		}
	}
}

var benchValues = map[string][]byte{
	"object": []byte(`{"address":{"city":"Zürich","country":"DE","street":"ul. Floriańska 3","zip":71546},"balance":469.4,` +
		`"currency":"BRL","holder":"Chloé Østergaard","iban":"DE00207296026000306913","ledger_id":1420965449483202726,` +
		`"limits":{"daily":1000,"monthly":25000,"per_tx":999.99},"memo":"adipiscing sed naïve do dolor sed","owner":"u-000024180","tags":["churn-risk"]}`),
	"arrays": []byte(`{"a":[[1,2,3],[4.5,6e+3,-7]],"events":[{"at":"2026-01-01T00:00:00Z","n":1,"ok":true},{"at":"2026-01-02T00:00:00Z","n":2,"ok":false}],` +
		`"grid":[[0,1,0,1],[1,0,1,0],[0,0,1,1]],"id":"x-1","matrix":[[1.25,2.5],[3.75,5]],"name":"nested arrays","nil":null,"path":["a","b","c","d"],"score":12.5,"tags":["x","y"],"v":3}`),
}

func BenchmarkJSONBText(b *testing.B) {
	for _, name := range []string{"object", "arrays"} {
		v := benchValues[name]
		var buf []byte
		b.Run(name+"/hand", func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			var w jsonbWriter
			for b.Loop() {
				buf, _ = w.spell(buf[:0], v)
			}
		})
		b.Run(name+"/walk", func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			var w walkSpeller
			for b.Loop() {
				buf, _ = w.spell(buf[:0], v)
			}
		})
	}
}

func TestWalkSizerAgrees(t *testing.T) {
	values := jsonbCorpus(t)
	for _, n := range []string{"0", "1", "-1", "12.5", "0.0001", "1e-7", "1e+21", "1e+400", "1.5e-300",
		"123456789", "99999999999999999999999", "0.1234567890123456789", "1e+255", "1e+256", "1e-260", "5e-257"} {
		for _, v := range []string{n, "[" + n + "]", `{"a":` + n + `,"bb":[true,` + n + `,"x"]}`, `["abc",` + n + `,[[],{}],null]`,
			`{"a":"xyz","b":{"c":` + n + `,"dd":"e"},"fff":[` + n + `]}`} {
			values = append(values, []byte(v))
		}
	}
	for _, v := range benchValues {
		values = append(values, v)
	}
	for _, v := range values {
		want, werr := jsonbSize(v)
		got, err := walkJSONBSize(v)
		if got != want || (err == nil) != (werr == nil) {
			t.Errorf("%.80s: walk %d %v, hand %d %v", v, got, err, want, werr)
		}
	}
}

func BenchmarkJSONBSize(b *testing.B) {
	for _, name := range []string{"object", "arrays"} {
		v := benchValues[name]
		b.Run(name+"/hand", func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				jsonbSize(v)
			}
		})
		b.Run(name+"/walk", func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				walkJSONBSize(v)
			}
		})
	}
}

// bigValue is a value of about 4 MiB: what the size is asked of in earnest
// are values past jsonbCheckFrom.
func bigValue() []byte {
	b := []byte{'['}
	for i := range 10000 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, benchValues[[]string{"object", "arrays"}[i%2]]...)
	}
	return append(b, ']')
}

func BenchmarkJSONBSizeBig(b *testing.B) {
	v := bigValue()
	b.Run("hand", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		for b.Loop() {
			jsonbSize(v)
		}
	})
	b.Run("walk", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		for b.Loop() {
			walkJSONBSize(v)
		}
	})
}
