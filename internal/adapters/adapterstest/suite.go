// Package adapterstest is the conformance suite every adapter passes.
package adapterstest

import (
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// Run runs the whole suite. open returns a fresh, empty database for each
// subtest; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) adapters.Adapter) {
	t.Helper()
	t.Fatal("conformance suite not written yet")
}
