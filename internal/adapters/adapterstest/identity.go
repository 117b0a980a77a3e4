package adapterstest

import (
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// identity is Identity, which must not fail on a database that exists.
func identity(t *testing.T, a adapters.Adapter) string {
	t.Helper()
	id, err := a.Identity(t.Context())
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	return id
}

// Two databases have two identities, and one keeps its own, whatever is
// written into it.
func testIdentityDistinct(t *testing.T, open func(t *testing.T) adapters.Adapter) {
	a, b := open(t), open(t)
	defer closeAdapter(t, a)
	defer closeAdapter(t, b)
	write(t, a, "app", adapters.Guarded, rec("c", "k", 1, T0, `1`))
	write(t, b, "app", adapters.Guarded, rec("c", "k", 1, T0, `1`))
	ida := identity(t, a)
	if ida == "" {
		t.Fatal("Identity of a database that exists is empty")
	}
	if idb := identity(t, b); idb == ida {
		t.Errorf("two databases have one identity, %q", ida)
	}
	write(t, a, "other", adapters.Guarded, rec("c", "k", 2, T0, `2`))
	if again := identity(t, a); again != ida {
		t.Errorf("Identity changed with a write: %q, then %q", ida, again)
	}
}

// Two handles on one database, named as two programs may name it, see
// one identity.
func testPairIdentity(t *testing.T, a, b adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "k", 1, T0, `1`))
	ida, idb := identity(t, a), identity(t, b)
	if ida == "" || ida != idb {
		t.Errorf("two handles on one database: identities %q and %q, want one, not empty", ida, idb)
	}
}
