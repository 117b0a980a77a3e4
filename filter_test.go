package persist_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cuitty/persist"
)

// Parts of a filter that cancel each other are refused before anything is
// read: together they would select less than each says.
func TestFilterCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    persist.Filter
		bad  bool
	}{
		{"everything", persist.Filter{}, false},
		{"records", persist.Filter{Records: true}, false},
		{"events", persist.Filter{Events: true}, false},
		{"collection, records", persist.Filter{Collections: []string{"c"}, Records: true}, false},
		{"stream, events", persist.Filter{Streams: []string{"s"}, Events: true}, false},
		{"collection and stream", persist.Filter{Collections: []string{"c"}, Streams: []string{"s"}}, false},
		{"events and live", persist.Filter{Events: true, Live: true}, false},
		{"records and events", persist.Filter{Records: true, Events: true}, true},
		{"collection, events", persist.Filter{Collections: []string{"c"}, Events: true}, true},
		{"stream, records", persist.Filter{Streams: []string{"s"}, Records: true}, true},
		{"collection and stream, records", persist.Filter{Collections: []string{"c"}, Streams: []string{"s"}, Records: true}, true},
		{"empty list of collections", persist.Filter{Collections: []string{}}, true},
		{"empty list of streams", persist.Filter{Streams: []string{}}, true},
		{"the collection named empty", persist.Filter{Collections: []string{""}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Check()
			if got := errors.Is(err, persist.ErrFilter); got != tc.bad {
				t.Fatalf("Check() = %v, want ErrFilter: %v", err, tc.bad)
			}
		})
	}
	// OpenSource checks before it opens anything: the store is not made.
	path := filepath.Join(t.TempDir(), "none.db")
	_, err := persist.OpenSource(context.Background(), "sqlite:"+path, persist.ReadOptions{Filter: persist.Filter{Records: true, Events: true}})
	if !errors.Is(err, persist.ErrFilter) {
		t.Fatalf("OpenSource: %v, want ErrFilter", err)
	}
}
