package adapterstest

import (
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// ScanShared yields what Scan yields once every value handed on unchecked
// is settled, and checks every value in its share itself: two snapshots
// taking shares 0 and 1 check each address on at least one side.
func testScanShared(t *testing.T, a adapters.Adapter) {
	items := storable(t, a, corpus()...)
	write(t, a, "app", adapters.Guarded, items...)
	for share := range 2 {
		for _, f := range []adapters.Filter{{}, {Collections: []string{"values"}, NoEvents: true}} {
			s := snapshot(t, a, "app")
			type pending struct {
				it     *record.Item
				settle adapters.Settle
			}
			var got []pending
			err := s.ScanShared(t.Context(), f, share, func(it *record.Item, settle adapters.Settle) error {
				if settle == nil {
					checkItem(t, it)
				} else if adapters.InShare(it, share) {
					t.Errorf("share %d: %s is in the share but came unchecked", share, line(it))
				}
				// Settled after fn returns, on a copy, as the contract allows.
				got = append(got, pending{it.Clone(), settle})
				return nil
			})
			if err != nil {
				t.Fatalf("ScanShared(%+v, %d): %v", f, share, err)
			}
			var out []string
			var buf []byte
			for _, p := range got {
				if p.settle != nil {
					if err := p.settle(p.it, &buf); err != nil {
						t.Fatalf("settle %s: %v", line(p.it), err)
					}
					checkItem(t, p.it)
				}
				out = append(out, line(p.it))
			}
			same(t, "ScanShared", out, lines(filtered(f, items...)...))
		}
	}
}
