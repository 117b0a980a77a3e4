package postgres

import (
	"slices"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

func rk(c, k, v string) *record.Item {
	return &record.Item{Kind: record.KindRecord, Collection: c, Key: k, Value: []byte(v)}
}

// A key set finds every key asked for, in any order of asking, once; the
// last of a key asked twice is the one found; bounds and cutShort see each
// collection as one range.
func TestKeySet(t *testing.T) {
	keys := []*record.Item{rk("b", "2", "1"), rk("a", "9", "2"), rk("b", "1", "3"), rk("a", "1", "4"),
		rk("b", "2", "5"), {Kind: record.KindEvent, Stream: "s", Seq: 1}}
	s := recordKeys(keys)
	if s.len() != 4 {
		t.Fatalf("%d keys, want 4 (b/2 asked twice, the event apart)", s.len())
	}
	names, los, his, limits := s.bounds()
	if !slices.Equal(names, []string{"a", "b"}) || !slices.Equal(los, []string{"1", "1"}) ||
		!slices.Equal(his, []string{"9", "2"}) || !slices.Equal(limits, []int64{20, 20}) {
		t.Errorf("bounds = %v %v %v %v", names, los, his, limits)
	}
	for _, row := range []struct{ c, k, want string }{
		{"b", "2", "5"}, {"a", "5", ""}, {"a", "1", "4"}, {"c", "1", ""}, {"b", "1", "3"},
		{"b", "2", ""}, // found already
	} {
		it := s.find(row.c, row.k, true)
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
	if !slices.Equal(s.read, []int64{2, 3}) {
		t.Errorf("rows counted per range: %v, want [2 3]", s.read)
	}
	// a: two rows read of a limit of 20: a/9 is simply not there. b: its
	// limit reached, b's keys not found may lie beyond.
	s.read[1] = limits[1]
	short := s.cutShort(limits)
	if len(short) != 0 {
		t.Errorf("cutShort = %d keys, want none (b's are all found)", len(short))
	}
	s.found[0] = false // a/1
	s.read[0] = limits[0]
	short = s.cutShort(limits)
	if len(short) != 2 || short[0].Key != "1" || short[1].Key != "9" {
		t.Errorf("cutShort = %v, want a/1 and a/9", short)
	}

	ev := eventKeys(keys)
	if ev.len() != 1 || ev.find("s", 1, false) != keys[5] || ev.find("s", 2, false) != nil {
		t.Error("the event key is not found as asked")
	}
}
