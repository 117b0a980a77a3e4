package diff

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// lazyIter hands on the raw value of the items whose keys it names as
// unchecked; Settle respells it canonical, or fails on what is not JSON.
type lazyIter struct {
	sliceIter
	raw     map[string]string
	pending bool
	settled []string
}

func (l *lazyIter) Next() (*record.Item, error) {
	it, err := l.sliceIter.Next()
	l.pending = false
	if err == nil {
		if v, ok := l.raw[it.Key]; ok {
			it.Value, l.pending = []byte(v), true
		}
	}
	return it, err
}

func (l *lazyIter) Unchecked() bool { return l.pending }

func (l *lazyIter) Settle() error {
	if !l.pending {
		return nil
	}
	l.pending = false
	l.settled = append(l.settled, l.cur.Key)
	v, err := record.Canonical(nil, l.cur.Value)
	if err != nil {
		return err
	}
	l.cur.Value = v
	return nil
}

func TestDiffSettlesWhatItCannotVouchFor(t *testing.T) {
	a := parseLines(t, `
{"kind":"record","collection":"c","key":"same","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}
{"kind":"record","collection":"c","key":"spelled","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":15}}
{"kind":"record","collection":"c","key":"changed","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}
{"kind":"record","collection":"c","key":"onlyA","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}
{"kind":"record","collection":"c","key":"both","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}`)
	b := parseLines(t, `
{"kind":"record","collection":"c","key":"same","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}
{"kind":"record","collection":"c","key":"spelled","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":15}}
{"kind":"record","collection":"c","key":"changed","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":2}}
{"kind":"record","collection":"c","key":"onlyB","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}
{"kind":"record","collection":"c","key":"both","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}`)
	sortItems(a)
	sortItems(b)
	la := &lazyIter{sliceIter: *iter(a), raw: map[string]string{
		"same": `{"a":1}`, "spelled": `{ "a" : 1.5E1 }`, "changed": `{ "a":1 }`, "onlyA": `{"a" :1}`, "both": `{"a":1}`,
	}}
	lb := &lazyIter{sliceIter: *iter(b), raw: map[string]string{"onlyB": `{"a": 1}`, "both": `{"a":1}`}}
	var out bytes.Buffer
	st, err := Diff(t.Context(), la, lb, &out, Options{Format: JSONL})
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{OnlyA: 1, OnlyB: 1, Changed: 1, Same: 3}) {
		t.Fatalf("stats %+v", st)
	}
	// Equal bytes against a checked value need no check; everything else
	// is checked before it is compared or shown, and one of two unchecked
	// values equal byte for byte.
	if got := strings.Join(la.settled, ","); got != "both,changed,onlyA,spelled" {
		t.Errorf("A settled %s", got)
	}
	if got := strings.Join(lb.settled, ","); got != "onlyB" {
		t.Errorf("B settled %s", got)
	}
	if strings.Contains(out.String(), " ") {
		t.Errorf("a value not canonical reached the output:\n%s", out.String())
	}

	// A value that is not JSON is an error, whichever side holds it.
	for _, side := range []string{"A", "B"} {
		la := &lazyIter{sliceIter: *iter(a)}
		lb := &lazyIter{sliceIter: *iter(b)}
		bad := map[string]string{"same": `{"a":`}
		if side == "A" {
			la.raw = bad
		} else {
			lb.raw = bad
		}
		_, err := Diff(t.Context(), la, lb, &out, Options{Format: Summary})
		if err == nil || !strings.Contains(err.Error(), "read "+side) {
			t.Errorf("not JSON on %s: %v", side, err)
		}
	}
}
