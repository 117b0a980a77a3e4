package postgres

import (
	"testing"

	"github.com/cuitty/persist/internal/record"
)

func rk(c, k, v string) *record.Item {
	return &record.Item{Kind: record.KindRecord, Collection: c, Key: k, Value: []byte(v)}
}

// A key set finds every key asked for, in any order of asking, once; the
// last of a key asked twice is the one found; missing lists the others.
func TestKeySet(t *testing.T) {
	keys := []*record.Item{rk("b", "2", "1"), rk("a", "9", "2"), rk("b", "1", "3"), rk("a", "1", "4"),
		rk("b", "2", "5"), {Kind: record.KindEvent, Stream: "s", Seq: 1}}
	s := recordKeys(keys)
	if s.len() != 4 {
		t.Fatalf("%d keys, want 4 (b/2 asked twice, the event apart)", s.len())
	}
	for _, row := range []struct{ c, k, want string }{
		{"b", "2", "5"}, {"a", "5", ""}, {"a", "1", "4"}, {"c", "1", ""}, {"b", "1", "3"},
		{"b", "2", ""}, // found already
	} {
		it := s.find(row.c, row.k)
		if row.want == "" {
			if it != nil {
				t.Errorf("find(%s/%s) = %+v, want nil", row.c, row.k, it)
			}
			continue
		}
		if it == nil || it.Collection != row.c || it.Key != row.k || string(it.Value) != row.want {
			t.Errorf("find(%s/%s) = %+v, want the key with value %s", row.c, row.k, it, row.want)
		}
	}
	if m := s.missing(); len(m) != 1 || m[0].Key != "9" {
		t.Errorf("missing = %v, want a/9", m)
	}

	ev := eventKeys(keys)
	if ev.len() != 1 || ev.find("s", 1) != keys[5] || ev.find("s", 2) != nil {
		t.Error("the event key is not found as asked")
	}
}
