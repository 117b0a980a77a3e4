package adapters

import (
	"errors"
	"testing"
)

func TestPlanSchema(t *testing.T) {
	errRead := errors.New("no such table")
	for _, tc := range []struct {
		from   int
		create bool
		intact error // nil: intact; errBroken: not; else the error
		want   SchemaWork
		asked  bool
	}{
		{from: 0, want: SchemaAsIs},
		{from: 0, create: true, want: SchemaUpgrade},
		{from: 1, want: SchemaUpgrade},
		{from: 2, create: true, want: SchemaUpgrade},
		{from: 3, want: SchemaAsIs, asked: true},
		{from: 3, intact: errBroken, want: SchemaRepair, asked: true},
		{from: 3, intact: errRead, want: SchemaAsIs, asked: true},
		// A writer leaves a repair to Upgrade.
		{from: 3, create: true, intact: errBroken, want: SchemaAsIs},
		{from: 4, want: SchemaTooNew},
		{from: 4, create: true, want: SchemaTooNew},
	} {
		asked := false
		got, err := PlanSchema(tc.from, 3, tc.create, func() (bool, error) {
			asked = true
			switch tc.intact {
			case nil:
				return true, nil
			case errBroken:
				return false, nil
			}
			return false, tc.intact
		})
		wantErr := tc.intact != nil && tc.intact != errBroken && tc.asked
		if got != tc.want || asked != tc.asked || (err != nil) != wantErr {
			t.Errorf("from %d, create %v, intact %v: %v (asked %v), %v; want %v (asked %v)",
				tc.from, tc.create, tc.intact, got, asked, err, tc.want, tc.asked)
		}
	}
}

var errBroken = errors.New("a trigger is missing")
