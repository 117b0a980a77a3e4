package main

import "strconv"

// The value of each collection: about 400 bytes of JSON shaped like what an
// application stores. Members are in the order an application writes them,
// not sorted, and amounts keep their trailing zero: making them canonical is
// the loader's job, and part of what is measured. Every pool string is
// already a valid JSON string body.

var (
	firstNames = []string{"Ada", "Zoë", "José", "Grace", "Linus", "Søren", "Ngozi", "Ærin", "Yūki", "Chloé", "Mateusz", "Ilse", "Олег", "محمد", "Priya", "Björn"}
	lastNames  = []string{"Lovelace", "Müller", "García", "Hopper", "Østergaard", "Okafor", "Tanaka", "Dubois", "Kowalski", "Ńowak", "Иванов", "Nakamura", "Fernández", "Åberg"}
	cities     = []string{"東京", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Paris", "Lagos", "Berlin", "Montréal", "Αθήνα", "München", "Toronto", "Москва", "대한민국 서울"}
	streets    = []string{"Hauptstraße 12", "1-1 Chiyoda", "Rua Augusta 1500", "ul. Floriańska 3", "Laugavegur 7", "12 rue de Rivoli", "221B Baker Street", "Calle Mayor 4"}
	countries  = []string{"JP", "CH", "BR", "PL", "IS", "FR", "NG", "DE", "CA", "GR"}
	currencies = []string{"EUR", "USD", "JPY", "CHF", "GBP", "BRL"}
	statuses   = []string{"new", "paid", "shipped", "delivered", "cancelled", "refunded"}
	tagPool    = []string{"admin", "beta", "vip", "newsletter", "trial", "churn-risk", "b2b", "früh", "テスト"}
	notes      = []string{
		"leave at the door",
		"fragile — handle with care",
		"call before delivery: \\\"ring twice\\\"",
		"gift wrap, no invoice in the box",
		"line one\\nline two",
		"配達前に電話してください",
		"tab\\tseparated",
		"",
	}
	words  = []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "naïve", "café", "über"}
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"curl/8.5.0",
	}
)

// big is above 2^53: float64 would round it, canonical JSON must not.
const big = uint64(1) << 60

func str(b []byte, name, v string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	b = append(b, v...)
	return append(b, '"')
}

func num(b []byte, name string, v uint64) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendUint(b, v, 10)
}

func money(b []byte, name string, r *rng) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return appendMoney(b, r)
}

func boolean(b []byte, name string, v bool) []byte {
	b = append(b, '"')
	b = append(b, name...)
	if v {
		return append(b, `":true`...)
	}
	return append(b, `":false`...)
}

func ref(b []byte, name, prefix string, r *rng, n uint64) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	b = append(b, prefix...)
	b = appendPadded(b, 2*(r.next()%n), 9)
	return append(b, '"')
}

func sentence(b []byte, name string, r *rng, n int) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, pick(r, words)...)
	}
	return append(b, '"')
}

func tags(b []byte, r *rng) []byte {
	b = append(b, `"tags":[`...)
	for i, n := 0, int(r.next()%4); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, pick(r, tagPool)...)
		b = append(b, '"')
	}
	return append(b, ']')
}

func address(b []byte, r *rng) []byte {
	b = append(b, `"address":{`...)
	b = str(b, "street", pick(r, streets))
	b = append(b, ',')
	b = str(b, "city", pick(r, cities))
	b = append(b, ',')
	b = num(b, "zip", 10000+r.next()%89999)
	b = append(b, ',')
	b = str(b, "country", pick(r, countries))
	return append(b, '}')
}

func email(b []byte, r *rng) []byte {
	b = append(b, `"email":"`...)
	b = append(b, "user"...)
	b = strconv.AppendUint(b, r.next()%10_000_000, 10)
	b = append(b, "@example.com\""...)
	return b
}

func userValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = str(b, "name", pick(r, firstNames)+" "+pick(r, lastNames))
	b = append(b, ',')
	b = email(b, r)
	b = append(b, ',')
	b = num(b, "age", 18+r.next()%70)
	b = append(b, ',')
	b = address(b, r)
	b = append(b, ',')
	b = tags(b, r)
	b = append(b, ',')
	b = money(b, "balance", r)
	b = append(b, `,"prefs":{`...)
	b = boolean(b, "newsletter", r.next()%2 == 0)
	b = append(b, ',')
	b = str(b, "lang", pick(r, []string{"en", "de", "ja", "pt-BR", "fr"}))
	b = append(b, ',')
	b = str(b, "theme", pick(r, []string{"dark", "light", "system"}))
	b = append(b, `},`...)
	b = num(b, "external_id", big+r.next()%big)
	b = append(b, ',')
	b = sentence(b, "bio", r, 8+int(r.next()%8))
	b = append(b, `,"last_login":null}`...)
	return b
}

func orderValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "customer", "u-", r, 150000)
	b = append(b, ',')
	b = str(b, "status", pick(r, statuses))
	b = append(b, `,"items":[`...)
	for i, n := 0, 1+int(r.next()%3); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = ref(b, "sku", "sku-", r, 50000)
		b = append(b, ',')
		b = num(b, "qty", 1+r.next()%5)
		b = append(b, ',')
		b = money(b, "price", r)
		b = append(b, ',')
		b = str(b, "title", pick(r, words)+" "+pick(r, words))
		b = append(b, '}')
	}
	b = append(b, `],`...)
	b = money(b, "total", r)
	b = append(b, ',')
	b = str(b, "currency", pick(r, currencies))
	b = append(b, `,"tax_rate":0.19,"discount":1e-7,`...)
	b = append(b, `"shipping":{`...)
	b = str(b, "name", pick(r, firstNames)+" "+pick(r, lastNames))
	b = append(b, ',')
	b = address(b, r)
	b = append(b, `},`...)
	b = str(b, "note", pick(r, notes))
	return append(b, '}')
}

func productValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = sentence(b, "title", r, 3)
	b = append(b, ',')
	b = money(b, "price", r)
	b = append(b, ',')
	b = str(b, "currency", pick(r, currencies))
	b = append(b, ',')
	b = num(b, "stock", r.next()%1000)
	b = append(b, `,"dimensions":{"w":`...)
	b = strconv.AppendUint(b, 1+r.next()%100, 10)
	b = append(b, `.5,"h":`...)
	b = strconv.AppendUint(b, 1+r.next()%100, 10)
	b = append(b, `,"d":2.25E1,"unit":"cm"},`...)
	b = tags(b, r)
	b = append(b, ',')
	b = sentence(b, "description", r, 25+int(r.next()%10))
	b = append(b, ',')
	b = boolean(b, "active", r.next()%10 != 0)
	b = append(b, ',')
	b = num(b, "barcode", big+r.next()%1_000_000_000)
	return append(b, '}')
}

func invoiceValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "order", "ord-", r, 250000)
	b = append(b, ',')
	b = ref(b, "customer", "u-", r, 150000)
	b = append(b, `,"number":"INV-2025-`...)
	b = appendPadded(b, r.next()%1_000_000, 6)
	b = append(b, `","lines":[`...)
	for i, n := 0, 1+int(r.next()%3); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = sentence(b, "text", r, 3)
		b = append(b, ',')
		b = money(b, "net", r)
		b = append(b, `,"vat":0.190}`...)
	}
	b = append(b, `],`...)
	b = money(b, "net", r)
	b = append(b, ',')
	b = money(b, "gross", r)
	b = append(b, ',')
	b = str(b, "currency", pick(r, currencies))
	b = append(b, ',')
	b = boolean(b, "paid", r.next()%3 != 0)
	b = append(b, ',')
	b = str(b, "issuer", "Müller & Söhne GmbH, Zürich")
	b = append(b, ',')
	b = sentence(b, "terms", r, 10)
	return append(b, '}')
}

func sessionValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "user", "u-", r, 150000)
	b = append(b, `,"token":"`...)
	for i := 0; i < 4; i++ {
		b = strconv.AppendUint(b, r.next(), 16)
	}
	b = append(b, `",`...)
	b = str(b, "ip", "192.0.2."+strconv.FormatUint(r.next()%255, 10))
	b = append(b, ',')
	b = str(b, "agent", pick(r, agents))
	b = append(b, `,"scopes":["read","write"],`...)
	b = num(b, "ttl", 3600*(1+r.next()%24))
	b = append(b, `,"geo":{`...)
	b = str(b, "city", pick(r, cities))
	b = append(b, `,"lat":`...)
	b = strconv.AppendUint(b, r.next()%90, 10)
	b = append(b, '.')
	b = appendPadded(b, r.next()%1_000_000, 6)
	b = append(b, `,"lon":-`...)
	b = strconv.AppendUint(b, r.next()%180, 10)
	b = append(b, '.')
	b = appendPadded(b, r.next()%1_000_000, 6)
	b = append(b, `},`...)
	b = boolean(b, "mfa", r.next()%2 == 0)
	b = append(b, ',')
	b = sentence(b, "device", r, 8)
	return append(b, '}')
}

func auditValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "actor", "u-", r, 150000)
	b = append(b, ',')
	b = str(b, "action", pick(r, []string{"login", "logout", "update", "delete", "export", "grant"}))
	b = append(b, ',')
	b = ref(b, "target", "ord-", r, 250000)
	b = append(b, `,"before":{`...)
	b = str(b, "status", pick(r, statuses))
	b = append(b, ',')
	b = money(b, "total", r)
	b = append(b, `},"after":{`...)
	b = str(b, "status", pick(r, statuses))
	b = append(b, ',')
	b = money(b, "total", r)
	b = append(b, `},`...)
	b = num(b, "request_id", big+r.next()%big)
	b = append(b, `,"latency_s":`...)
	b = strconv.AppendUint(b, 1+r.next()%9, 10)
	b = append(b, `e-7,`...)
	b = sentence(b, "message", r, 14+int(r.next()%10))
	b = append(b, ',')
	b = str(b, "ip", "2001:db8::"+strconv.FormatUint(r.next()%65536, 16))
	return append(b, '}')
}

func cartValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "user", "u-", r, 150000)
	b = append(b, `,"items":[`...)
	for i, n := 0, int(r.next()%5); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = ref(b, "sku", "sku-", r, 50000)
		b = append(b, ',')
		b = num(b, "qty", 1+r.next()%3)
		b = append(b, ',')
		b = money(b, "price", r)
		b = append(b, '}')
	}
	b = append(b, `],`...)
	b = str(b, "currency", pick(r, currencies))
	b = append(b, ',')
	b = str(b, "coupon", pick(r, []string{"", "WELCOME10", "ÉTÉ2025", "黒字"}))
	b = append(b, ',')
	b = sentence(b, "gift_message", r, 12+int(r.next()%6))
	b = append(b, `,"expires_in":86400,"meta":{"source":"web","ab":[1,2,3],"score":-0.0}}`...)
	return b
}

func accountValue(b []byte, r *rng) []byte {
	b = append(b, '{')
	b = ref(b, "owner", "u-", r, 150000)
	b = append(b, `,"iban":"DE`...)
	b = appendPadded(b, r.next()%1_000_000_000_000_000_000, 20)
	b = append(b, `",`...)
	b = money(b, "balance", r)
	b = append(b, ',')
	b = str(b, "currency", pick(r, currencies))
	b = append(b, ',')
	b = num(b, "ledger_id", big+r.next()%big)
	b = append(b, `,"limits":{"daily":1000.00,"monthly":2.5e4,"per_tx":999.99},`...)
	b = str(b, "holder", pick(r, firstNames)+" "+pick(r, lastNames))
	b = append(b, ',')
	b = address(b, r)
	b = append(b, ',')
	b = tags(b, r)
	b = append(b, ',')
	b = sentence(b, "memo", r, 6)
	return append(b, '}')
}
