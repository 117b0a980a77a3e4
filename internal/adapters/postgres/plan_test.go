package postgres

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A whole-store scan of tables without statistics (just loaded, never
// analyzed) reads the primary key in order instead of sorting; a delta
// leaves the planner free to sort what the change index finds. Neither
// compiles its expressions (JIT), nor does a snapshot's count.
func TestWholeScanReadsTheIndex(t *testing.T) {
	a, dsn := open(t)
	var items []*record.Item
	for i := range 2000 {
		items = append(items, rec("c", fmt.Sprintf("k%05d", i), 1, `{"n":1}`))
	}
	put(t, a, "app", adapters.Fresh, items...)
	db := sqlDB(t, dsn)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SET LOCAL work_mem = '64kB'`); err != nil {
		t.Fatal(err)
	}
	if err := orderByIndex(ctx, tx, nil); err != nil {
		t.Fatal(err)
	}
	if p := recordsPlan(t, tx, nil); strings.Contains(p, "Sort") || !strings.Contains(p, "Index Scan using persist_records_pkey") {
		t.Errorf("a whole scan's plan:\n%s", p)
	}
	var jit string
	if err := tx.QueryRow(`SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Errorf("a scan's jit = %q, %v", jit, err)
	}
	if err := orderByIndex(ctx, tx, &pgPos{}); err != nil {
		t.Fatal(err)
	}
	sn, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	if err := sn.(*snapshot).tx.QueryRow(`SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Errorf("a snapshot's jit, before its counts = %q, %v", jit, err)
	}
	var workers string
	if err := sn.(*snapshot).tx.QueryRow(`SHOW max_parallel_workers_per_gather`).Scan(&workers); err != nil || workers != "0" {
		t.Errorf("a snapshot's parallel workers, before its counts = %q, %v", workers, err)
	}
	var on string
	if err := tx.QueryRow(`SHOW enable_sort`).Scan(&on); err != nil || on != "on" {
		t.Errorf("a delta's enable_sort = %q, %v", on, err)
	}
}

// recordsPlan is the server's plan, EXPLAIN's lines, for the records scan
// of store "app" that a dump (since nil) or a delta runs.
func recordsPlan(t *testing.T, q querier, since *pgPos) string {
	t.Helper()
	w, args := where(nil, "collection", false, since)
	args[0] = "app"
	rows, err := q.QueryContext(ctx, `EXPLAIN SELECT `+recordCols+` FROM persist_records`+w+` ORDER BY collection, key`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		b.WriteString(l + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
