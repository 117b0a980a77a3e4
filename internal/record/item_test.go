package record

import (
	"errors"
	"testing"
)

// Canonicalize rewrites a record's value or an event's data, reusing the
// buffer it is given, and leaves the item as it was when the value is not
// JSON.
func TestItemCanonicalize(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, tc := range []struct {
		name string
		it   Item
		want string // the value after; "" for none
		err  bool
	}{
		{"record", Item{Kind: KindRecord, Value: []byte(`{ "b": 1.50, "a": [ ] }`)}, `{"a":[],"b":1.5}`, false},
		{"event", Item{Kind: KindEvent, Seq: 1, Data: []byte(`1E2`)}, `100`, false},
		{"tombstone", Item{Kind: KindRecord, Deleted: true}, "", false},
		{"not json", Item{Kind: KindRecord, Value: []byte(`{"a":`)}, `{"a":`, true},
	} {
		it := tc.it
		out, err := it.Canonicalize(buf)
		if tc.err != (err != nil) || (err != nil && !errors.Is(err, ErrSyntax)) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		got := it.Value
		if it.Kind == KindEvent {
			got = it.Data
		}
		if string(got) != tc.want {
			t.Errorf("%s: value %s, want %s", tc.name, got, tc.want)
		}
		if err == nil && got != nil && &got[0] != &buf[:1][0] {
			t.Errorf("%s: the buffer given was not used", tc.name)
		}
		buf = out
	}
}
