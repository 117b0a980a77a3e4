package persist_test

import (
	"context"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/testdb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend makes a fresh, empty database location of one kind.
type backend struct {
	name string
	new  func(t *testing.T) string
}

var backends = func() []backend {
	var out []backend
	for _, db := range testdb.All {
		out = append(out, backend{db.Name, func(t *testing.T) string { return db.Location(t) }})
	}
	return out
}()

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, loc string) *persist.Store {
	t.Helper()
	s, err := persist.Open(testContext(t), loc)
	if err != nil {
		t.Fatalf("Open(%s): %v", loc, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustSum(t *testing.T, loc string) persist.SumResult {
	t.Helper()
	r, err := persist.Sum(testContext(t), loc)
	if err != nil {
		t.Fatalf("Sum(%s): %v", loc, err)
	}
	return r
}
