package persist_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
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
		{"keys", persist.Filter{Keys: []string{"a"}}, false},
		{"collection and keys", persist.Filter{Collections: []string{"c"}, Keys: []string{"a"}}, false},
		{"records and keys", persist.Filter{Records: true, Keys: []string{"a"}}, false},
		{"empty list of keys", persist.Filter{Keys: []string{}}, true},
		{"events and keys", persist.Filter{Events: true, Keys: []string{"a"}}, true},
		{"stream and keys", persist.Filter{Streams: []string{"s"}, Keys: []string{"a"}}, true},
		{"first seq", persist.Filter{FromSeq: 2}, false},
		{"stream and first seq", persist.Filter{Streams: []string{"s"}, FromSeq: 2}, false},
		{"events and first seq", persist.Filter{Events: true, FromSeq: 2}, false},
		{"records and first seq", persist.Filter{Records: true, FromSeq: 2}, true},
		{"collection and first seq", persist.Filter{Collections: []string{"c"}, FromSeq: 2}, true},
		{"negative first seq", persist.Filter{FromSeq: -5}, true},
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

// A delta without tombstones is refused: a copy brought up to date with it
// would keep every record deleted since its cursor. A full dump with Live,
// and a delta with tombstones, are read.
func TestLiveDeltaRefused(t *testing.T) {
	ctx := testContext(t)
	loc := "sqlite:" + filepath.Join(t.TempDir(), "app.db") + "#app"
	s := open(t, loc)
	if _, err := s.Put(ctx, "users", "a", 1); err != nil {
		t.Fatal(err)
	}
	var full strings.Builder
	res, err := persist.Dump(ctx, loc, &full, persist.DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "users", "a"); err != nil {
		t.Fatal(err)
	}
	_, err = persist.OpenSource(ctx, loc, persist.ReadOptions{Since: res.Cursor, Filter: persist.Filter{Live: true}})
	if !errors.Is(err, persist.ErrLiveDelta) || !errors.Is(err, persist.ErrFilter) {
		t.Fatalf("a live delta: %v, want ErrLiveDelta", err)
	}
	for _, opt := range []persist.ReadOptions{{Filter: persist.Filter{Live: true}}, {Since: res.Cursor}} {
		src, err := persist.OpenSource(ctx, loc, opt)
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		src.Close()
	}
}
