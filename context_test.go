package persist_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/testdb"
)

// A call whose context the caller cancels part-way says so: its error
// wraps context.Canceled, whatever words the database answered the
// cancelled statement with (PostgreSQL: "canceling statement due to user
// request"), and never passes for trouble with the data.
func TestCancelledCallsSayContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		loc := db.Location(t) + "#app"
		in, err := os.Open(writeStream(t, 3000))
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if _, err := persist.Load(testContext(t), in, loc, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		// whole: a call read everything there was before it saw the end.
		var whole bool
		calls := map[string]func(ctx context.Context, cancel func()) error{
			"Dump": func(ctx context.Context, cancel func()) error {
				src, err := persist.OpenSource(ctx, loc, persist.ReadOptions{})
				if err != nil {
					return err
				}
				defer src.Close()
				_, err = src.Dump(ctx, &bytes.Buffer{}, func(p persist.Progress) {
					if p.Completed == 10 {
						cancel()
					}
				})
				return err
			},
			"Sum": func(ctx context.Context, cancel func()) error {
				src, err := persist.OpenSource(ctx, loc, persist.ReadOptions{})
				if err != nil {
					return err
				}
				defer src.Close()
				_, _, err = src.Sum(ctx, persist.SumOptions{OnProgress: func(p persist.Progress) {
					if p.Completed == 10 {
						cancel()
					}
				}})
				return err
			},
			"Records": func(ctx context.Context, cancel func()) error {
				s, err := persist.Open(ctx, loc)
				if err != nil {
					return err
				}
				defer s.Close()
				n := 0
				for _, err := range s.Records(ctx, "carts") {
					if err != nil {
						return err
					}
					if n++; n == 10 {
						cancel()
					}
				}
				if n < 980 { // 1000 records, every 50th deleted
					return fmt.Errorf("%d records, and no error", n)
				}
				whole = true // read ahead before the end was seen: no less than asked
				return nil
			},
		}
		for name, call := range calls {
			whole = false
			ctx, cancel := context.WithCancel(testContext(t))
			err := call(ctx, cancel)
			cancel()
			if err == nil && whole {
				continue
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled part-way: %v, want an error wrapping context.Canceled", name, err)
			}
		}
	})
}

// Deadlines swept across every stage of a call (opening, setting up the
// snapshot, the reads, the writes): whatever stage one ends in, the error
// wraps context.DeadlineExceeded.
func TestDeadlinesSayContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		loc := db.Location(t) + "#app"
		stream := writeStream(t, 1000)
		in, err := os.Open(stream)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if _, err := persist.Load(testContext(t), in, loc, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		calls := map[string]func(ctx context.Context) error{
			"Dump": func(ctx context.Context) error {
				_, err := persist.Dump(ctx, loc, &bytes.Buffer{}, persist.DumpOptions{})
				return err
			},
			"Sum": func(ctx context.Context) error { _, err := persist.Sum(ctx, loc); return err },
			"Load": func(ctx context.Context) error {
				f, err := os.Open(stream)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = persist.Load(ctx, f, db.Location(t)+"#copy", persist.LoadOptions{})
				return err
			},
		}
		for name, call := range calls {
			ended := 0
			for d := 200 * time.Microsecond; d < 25*time.Millisecond; d += 700 * time.Microsecond {
				ctx, cancel := context.WithTimeout(testContext(t), d)
				err := call(ctx)
				cancel()
				if err == nil {
					continue
				}
				ended++
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s with a deadline of %v: %v, want an error wrapping context.DeadlineExceeded", name, d, err)
				}
			}
			if ended == 0 {
				t.Errorf("%s: no deadline ended a call", name)
			}
		}
	})
}
