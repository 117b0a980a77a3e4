package persist_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/cuitty/persist"
)

// tempDir makes a directory for an example; the caller removes it.
func tempDir() string {
	dir, err := os.MkdirTemp("", "persist-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir
}

func Example() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := persist.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	r, err := s.Put(ctx, "users", "u1", map[string]any{"name": "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Version, string(r.Value))

	r, _ = s.Put(ctx, "users", "u1", map[string]any{"name": "Ada Lovelace", "born": 1815})
	fmt.Println(r.Version, string(r.Value))

	del, _ := s.Delete(ctx, "users", "u1")
	fmt.Println(del.Version, del.Deleted)
	_, err = s.Get(ctx, "users", "u1")
	fmt.Println(errors.Is(err, persist.ErrNotFound))

	e, _ := s.Append(ctx, "orders", "placed", map[string]any{"total": 12.50})
	fmt.Println(e.Stream, e.Seq, e.Type, string(e.Data))
	// Output:
	// 1 {"name":"Ada"}
	// 2 {"born":1815,"name":"Ada Lovelace"}
	// 3 true
	// true
	// orders 1 placed {"total":12.5}
}

func ExampleStore_Get() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := persist.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db#billing"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	type invoice struct {
		Customer string  `json:"customer"`
		Total    float64 `json:"total"`
	}
	s.Put(ctx, "invoices", "2026-001", invoice{Customer: "ACME", Total: 99.9})

	r, err := s.Get(ctx, "invoices", "2026-001")
	if err != nil {
		log.Fatal(err)
	}
	var inv invoice
	if err := r.Decode(&inv); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Name(), r.Version, inv.Customer, inv.Total)
	// Output: billing 1 ACME 99.9
}

func ExampleMigrate() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	src := "sqlite:" + filepath.Join(dir, "app.db")
	dst := "sqlite:" + filepath.Join(dir, "copy.db") // or postgres://host/db

	s, err := persist.Open(ctx, src)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 250 {
		s.Put(ctx, "users", fmt.Sprintf("u%03d", i), map[string]int{"n": i})
	}
	s.Append(ctx, "signups", "batch", 250)
	s.Close()

	var last persist.Progress
	res, err := persist.Migrate(ctx, src, dst, persist.MigrateOptions{
		BatchSize:  100,
		OnProgress: func(p persist.Progress) { last = p },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("records=%d events=%d written=%d\n", res.Records, res.Events, res.Written)
	fmt.Printf("progress %d/%d\n", last.Completed, last.Total)

	a, _ := persist.Sum(ctx, src)
	b, _ := persist.Sum(ctx, dst)
	fmt.Println("same sum:", a == b, a.Sum == res.Sum)
	// Output:
	// records=250 events=1 written=251
	// progress 251/251
	// same sum: true true
}

func ExampleEnableDualWrite() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	primary := "sqlite:" + filepath.Join(dir, "app.db")
	secondary := "sqlite:" + filepath.Join(dir, "next.db") // typically postgres://…

	s, err := persist.Open(ctx, primary)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.Put(ctx, "users", "u1", "existing data")
	s.Put(ctx, "users", "u2", "deleted before the move")
	s.Delete(ctx, "users", "u2")

	// From here on every write goes to both; the backfill copies what was
	// there before, and the verify compares the two stores' sums.
	dw, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{
		Target:   secondary,
		Backfill: true,
		Verify:   true,
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Put(ctx, "users", "u3", "written during dual-write")
	s.Append(ctx, "audit", "moved", nil)

	st := dw.Status()
	fmt.Println("degraded:", st.Degraded, "applied:", st.Applied)
	fmt.Println("verify:", dw.Verify(ctx))
	b, _ := persist.Sum(ctx, secondary)
	fmt.Printf("secondary: records=%d events=%d\n", b.Records, b.Events)
	// Output:
	// degraded: false applied: 2
	// verify: <nil>
	// secondary: records=3 events=1
}

func ExampleSum() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	loc := "sqlite:" + filepath.Join(dir, "app.db")
	s, err := persist.Open(ctx, loc)
	if err != nil {
		log.Fatal(err)
	}
	s.Put(ctx, "users", "u1", 1)
	s.Append(ctx, "orders", "placed", 2)
	s.Close()

	r, err := persist.Sum(ctx, loc)
	if err != nil {
		log.Fatal(err)
	}
	// The sum covers times too, so it differs from run to run here.
	fmt.Println(strings.HasPrefix(r.Sum, "persist1:"), len(r.Sum), r.Records, r.Events)
	// Output: true 73 1 1
}

func ExampleDiff() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()
	a := "sqlite:" + filepath.Join(dir, "a.db")
	b := "sqlite:" + filepath.Join(dir, "b.db")

	s, err := persist.Open(ctx, a)
	if err != nil {
		log.Fatal(err)
	}
	s.Put(ctx, "users", "u1", map[string]string{"city": "Paris"})
	s.Put(ctx, "users", "u2", map[string]string{"city": "Rome"})
	if _, err := persist.Migrate(ctx, a, b, persist.MigrateOptions{}); err != nil {
		log.Fatal(err)
	}
	s.Delete(ctx, "users", "u2")
	s.Put(ctx, "users", "u3", map[string]string{"city": "Lyon"})
	s.Close()

	r, err := persist.Diff(ctx, a, b, os.Stdout, persist.DiffOptions{Format: persist.DiffSummary})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Differ())
	// Output:
	// only in A: 1, only in B: 0, changed: 1, same: 1
	// true
}
