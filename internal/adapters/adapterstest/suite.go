// Package adapterstest is the conformance suite every adapter passes.
//
// Each test builds what it expects from the contract in package adapters and
// compares canonical stream lines (record.AppendItem), so that two adapters
// that pass it dump the same store to the same bytes.
package adapterstest

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// Option adds to what Run covers.
type Option func(*config)

type config struct {
	pair func(t *testing.T) (adapters.Adapter, adapters.Adapter)
	raw  func(t *testing.T, a adapters.Adapter) *sql.DB
}

// WithPair gives the suite two adapters opened on one fresh, empty database,
// as two processes would have (named differently where the database can
// be: the second through another spelling of its location), for the tests of concurrent schema creation
// and of snapshots while another handle writes. The suite closes both.
func WithPair(pair func(t *testing.T) (a, b adapters.Adapter)) Option {
	return func(c *config) { c.pair = pair }
}

type test struct {
	name string
	fn   func(t *testing.T, a adapters.Adapter)
}

var tests = []test{
	{"EmptyDatabase", testEmptyDatabase},
	{"SchemaIdempotent", testSchemaIdempotent},
	{"StoresSorted", testStoresSorted},
	{"EmptyStore", testEmptyStore},
	{"NoStore", testNoStore},
	{"RoundTrip", testRoundTrip},
	{"Lookup", testLookup},
	{"LookupMany", testLookupMany},
	{"LookupSparse", testLookupSparse},
	{"FreshPut", testFreshPut},
	{"ReadBack", testReadBack},
	{"ReadBackRuns", testReadBackRuns},
	{"CheckLimits", testCheckLimits},
	{"Times", testTimes},
	{"Order", testOrder},
	{"Filters", testFilters},
	{"ScanShared", testScanShared},
	{"GuardedPut", testGuardedPut},
	{"UnguardedPut", testUnguardedPut},
	{"NextPastLimit", testNextPastLimit},
	{"Remove", testRemove},
	{"Clear", testClear},
	{"Rollback", testRollback},
	{"TxScan", testTxScan},
	{"MaxSeq", testMaxSeq},
	{"SnapshotIsolation", testSnapshotIsolation},
	{"SnapshotWhileScanning", testSnapshotWhileScanning},
	{"CallsWhileScanning", testCallsWhileScanning},
	{"TwoStores", testTwoStores},
	{"BigValue", testBigValue},
	{"CallbackError", testCallbackError},
	{"CancelledScan", testCancelledScan},
	{"CancelledPut", testCancelledPut},
	{"LockStore", testLockStore},
	{"ConcurrentWriters", testConcurrentWriters},
}

var pairTests = []struct {
	name string
	fn   func(t *testing.T, a, b adapters.Adapter)
}{
	{"ConcurrentSchema", testPairConcurrentSchema},
	{"SnapshotIsolation", testPairSnapshotIsolation},
	{"Identity", testPairIdentity},
}

// Run runs the whole suite. open returns a fresh, empty database for each
// subtest; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) adapters.Adapter, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	for _, tc := range slices.Concat(tests, cursorTests) {
		t.Run(tc.name, func(t *testing.T) {
			a := open(t)
			defer closeAdapter(t, a)
			tc.fn(t, a)
		})
	}
	t.Run("IdentityDistinct", func(t *testing.T) { testIdentityDistinct(t, open) })
	if cfg.raw != nil {
		for _, tc := range rawTests {
			t.Run(tc.name, func(t *testing.T) {
				a := open(t)
				defer closeAdapter(t, a)
				// The schema exists before the other program writes.
				write(t, a, "app", adapters.Guarded)
				db := cfg.raw(t, a)
				defer db.Close()
				tc.fn(t, a, db)
			})
		}
	}
	if cfg.pair == nil {
		return
	}
	for _, tc := range pairTests {
		t.Run("Pair/"+tc.name, func(t *testing.T) {
			a, b := cfg.pair(t)
			defer closeAdapter(t, a)
			defer closeAdapter(t, b)
			tc.fn(t, a, b)
		})
	}
}

func closeAdapter(t *testing.T, a adapters.Adapter) {
	t.Helper()
	if err := a.Close(); err != nil {
		t.Errorf("Adapter.Close: %v", err)
	}
}
