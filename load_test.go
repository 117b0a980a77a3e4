package persist_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

// A store name PostgreSQL cannot hold is the store's fault, not any line's:
// the load stops at its start, with nothing written and no line set aside,
// even with a rejects writer, where every line used to be rejected as a key
// too long.
func TestStoreNameTooLongStopsTheLoad(t *testing.T) {
	ctx := testContext(t)
	var pg string
	for _, b := range backends {
		if b.name == "postgres" {
			pg = b.new(t)
		}
	}
	if pg == "" {
		t.Fatal("no postgres backend")
	}
	long := strings.Repeat("x", 3000)
	in := `{"kind":"record","collection":"c","key":"k","value":1}` + "\n"
	var rejects bytes.Buffer
	_, err := persist.Load(ctx, strings.NewReader(in), pg+"#"+long, persist.LoadOptions{Rejects: &rejects})
	if !errors.Is(err, persist.ErrStoreName) || errors.Is(err, persist.ErrUnsupported) || errors.Is(err, persist.ErrRejected) {
		t.Fatalf("Load into a store named with 3000 bytes: %v, want ErrStoreName alone", err)
	}
	if rejects.Len() != 0 {
		t.Errorf("lines set aside: %s", rejects.String())
	}
	if stores, err := persist.Stores(ctx, pg); err != nil || len(stores) != 0 {
		t.Errorf("stores after the refused load: %v, %v", stores, err)
	}
}
