package persist_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/pgtest"
)

// A writer keeps writing to a SQLite store while dual-write with backfill
// and verify moves it to PostgreSQL; when the writer stops, both sum equal,
// diff finds nothing and no deleted record came back.
func TestDualWriteMovesALiveStore(t *testing.T) {
	ctx := testContext(t)
	primary := backends[0].new(t)
	secondary := pgtest.NewDatabase(t)
	start := time.Now()
	if _, err := persist.Migrate(ctx, writeStream(t, 20000), primary, persist.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s", time.Since(start))
	s := open(t, primary)
	w := startWriter(t, s, 1)
	w.waitOps(t, 20)

	var backfilled persist.Progress
	before := w.ops.Load()
	dw, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{
		Target: secondary, Backfill: true, Verify: true, BatchSize: 1000,
		OnProgress: func(p persist.Progress) { backfilled = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	during := w.ops.Load() - before
	t.Logf("dual-write enabled, backfilled and verified in %s", time.Since(start))
	start = time.Now()
	w.waitOps(t, 200)
	w.check(t)
	t.Logf("200 more writes in %s", time.Since(start))
	t.Logf("%d writes, %d of them during the backfill and verify; backfill %+v; %+v", w.ops.Load(), during, backfilled, dw.Status())

	if during < 20 {
		t.Fatalf("only %d writes ran beside the backfill: the test proves less than it should", during)
	}
	if backfilled.Total < 22000 || backfilled.Completed != backfilled.Total {
		t.Fatalf("backfill progress %+v, want all of at least 22000 items", backfilled)
	}
	if st := dw.Status(); st.Degraded || st.Applied == 0 || st.Failed != 0 {
		t.Fatalf("status %+v: want healthy, every write applied as it happened", st)
	}
	if err := dw.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	assertSame(t, primary, secondary, w)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// The secondary going away mid-run degrades dual-write while the primary
// keeps working; once it is back, a backfill and a verify make the two equal.
func TestDualWriteSecondaryGoesAway(t *testing.T) {
	adminURL := pgtest.AdminURL(t)
	for _, tt := range []struct {
		name       string
		away, back func(t *testing.T, name string)
	}{
		{
			// Connections terminated, and new ones refused for a while.
			name: "terminated",
			away: func(t *testing.T, name string) {
				db := admin(t, adminURL)
				if _, err := db.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`); err != nil {
					t.Fatal(err)
				}
				if err := terminate(db, name); err != nil {
					t.Fatal(err)
				}
			},
			back: func(t *testing.T, name string) {
				if _, err := admin(t, adminURL).Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "renamed",
			away: func(t *testing.T, name string) {
				db := admin(t, adminURL)
				// The store reconnects as fast as it can: terminate and
				// rename until the rename wins the race.
				var err error
				for range 100 {
					if err = terminate(db, name); err != nil {
						t.Fatal(err)
					}
					if _, err = db.Exec(`ALTER DATABASE ` + name + ` RENAME TO ` + name + `_away`); err == nil {
						t.Cleanup(func() { db.Exec(`ALTER DATABASE ` + name + `_away RENAME TO ` + name) })
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				t.Fatalf("could not rename the database away: %v", err)
			},
			back: func(t *testing.T, name string) {
				if _, err := admin(t, adminURL).Exec(`ALTER DATABASE ` + name + `_away RENAME TO ` + name); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			primary := backends[0].new(t)
			secondary := pgtest.NewDatabase(t)
			if _, err := persist.Migrate(ctx, writeStream(t, 2000), primary, persist.MigrateOptions{}); err != nil {
				t.Fatal(err)
			}
			s := open(t, primary)
			dw, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{
				Target: secondary, Backfill: true, Verify: true,
				Retries: 2, RetryDelay: 5 * time.Millisecond, Timeout: 5 * time.Second, ProbeInterval: 50 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			w := startWriter(t, s, 2)
			w.waitOps(t, 50)

			tt.away(t, dbName(t, secondary))
			waitFor(t, "dual-write to report itself degraded", s.Degraded)
			w.waitOps(t, 100) // the primary keeps working
			st := dw.Status()
			if st.Pending == 0 || st.LastError == nil || st.Failed == 0 {
				t.Fatalf("degraded status %+v: want pending writes and the last error", st)
			}
			if err := dw.Verify(ctx); !errors.Is(err, persist.ErrDegraded) {
				t.Fatalf("Verify while the secondary is away: %v, want ErrDegraded", err)
			}
			if strings.Contains(st.LastError.Error(), "password") {
				t.Fatalf("last error shows a password: %v", st.LastError)
			}

			tt.back(t, dbName(t, secondary))
			w.waitOps(t, 50)
			w.check(t)
			res, err := dw.Backfill(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := dw.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			if st := dw.Status(); st.Degraded || st.Pending != 0 {
				t.Fatalf("after backfill and verify: %+v", st)
			}
			t.Logf("%d writes; backfill %+v; %+v", w.ops.Load(), res, dw.Status())
			assertSame(t, primary, secondary, w)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Past MaxPending the queue is dropped, the status asks for a backfill, and
// the backfill alone catches the secondary up.
func TestDualWriteOverflow(t *testing.T) {
	ctx := testContext(t)
	primary, secondary := backends[0].new(t), pgtest.NewDatabase(t)
	s := open(t, primary)
	dw, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{
		Target: secondary, Retries: -1, MaxPending: 5, ProbeInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "users", "before", 1); err != nil {
		t.Fatal(err)
	}
	db, name := admin(t, pgtest.AdminURL(t)), dbName(t, secondary)
	if _, err := db.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`) })
	if err := terminate(db, name); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := s.Put(ctx, "users", fmt.Sprint("u", i), i); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := s.Delete(ctx, "users", "before"); err != nil && !errors.Is(err, persist.ErrNotFound) {
				t.Fatal(err)
			}
		}
	}
	st := dw.Status()
	if !st.Degraded || !st.NeedsBackfill || st.Pending != 0 {
		t.Fatalf("status %+v: want degraded, needing a backfill", st)
	}
	if err := dw.Drain(ctx); !errors.Is(err, persist.ErrDegraded) {
		t.Fatalf("Drain: %v, want ErrDegraded", err)
	}
	if _, err := db.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	if _, err := dw.Backfill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dw.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Degraded() {
		t.Fatalf("still degraded: %+v", dw.Status())
	}
	assertSame(t, primary, secondary, nil)
}

// A write the secondary could never hold is refused before the primary
// takes it.
func TestDualWriteRefusesWhatTheSecondaryCannotHold(t *testing.T) {
	ctx := testContext(t)
	primary, secondary := backends[0].new(t), pgtest.NewDatabase(t)
	s := open(t, primary)
	if _, err := s.Put(ctx, "users", "nul", "a\u0000b"); err != nil {
		t.Fatalf("SQLite alone takes a \\u0000: %v", err)
	}
	s.Delete(ctx, "users", "nul")
	if _, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: secondary, Backfill: true, Verify: true}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(ctx, "users", "u1", map[string]string{"name": "a\u0000b"})
	if !errors.Is(err, persist.ErrUnsupported) {
		t.Fatalf("Put of a \\u0000 under dual-write to PostgreSQL: %v, want ErrUnsupported", err)
	}
	if _, err := s.Get(ctx, "users", "u1"); !errors.Is(err, persist.ErrNotFound) {
		t.Fatalf("the refused write reached the primary: %v", err)
	}
	assertSame(t, primary, secondary, nil)
}

// A backfill that fails (here the first one, of EnableDualWrite, on a
// value the secondary cannot hold) leaves the dual-write saying it needs
// one: degraded, and Close fails, until a backfill succeeds.
func TestDualWriteFailedBackfillNeedsOne(t *testing.T) {
	ctx := testContext(t)
	primary, secondary := backends[0].new(t), pgtest.NewDatabase(t)
	s := open(t, primary)
	if _, err := s.Put(ctx, "users", "nul", "a\u0000b"); err != nil {
		t.Fatal(err)
	}
	d, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: secondary, Backfill: true})
	if !errors.Is(err, persist.ErrUnsupported) || d == nil {
		t.Fatalf("EnableDualWrite with a backfill the secondary cannot take = %v, %v", d, err)
	}
	if st := d.Status(); !st.NeedsBackfill || !st.Degraded {
		t.Fatalf("after a failed backfill: %+v, want NeedsBackfill and Degraded", st)
	}
	if _, err := s.Delete(ctx, "users", "nul"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Backfill(ctx); err != nil {
		t.Fatal(err)
	}
	if st := d.Status(); st.NeedsBackfill || st.Degraded {
		t.Fatalf("after a backfill that succeeded: %+v", st)
	}
	assertSame(t, primary, secondary, nil)
	// Once the store is closed, the dual-write's calls say so.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Backfill(ctx); !errors.Is(err, persist.ErrClosed) {
		t.Errorf("Backfill after Close = %v, want ErrClosed", err)
	}
	if err := d.Drain(ctx); !errors.Is(err, persist.ErrClosed) {
		t.Errorf("Drain after Close = %v, want ErrClosed", err)
	}
	if err := d.Verify(ctx); !errors.Is(err, persist.ErrClosed) {
		t.Errorf("Verify after Close = %v, want ErrClosed", err)
	}
	if err := d.Disable(); !errors.Is(err, persist.ErrClosed) {
		t.Errorf("Disable after Close = %v, want ErrClosed", err)
	}
}

// Verify reports a difference with persist-diff's detail, and
// EnableDualWrite stays enabled when it fails.
func TestDualWriteVerifyReportsDifferences(t *testing.T) {
	ctx := testContext(t)
	primary, secondary := backends[0].new(t), backends[0].new(t)
	s := open(t, primary)
	if _, err := s.Put(ctx, "users", "u1", map[string]string{"city": "Paris"}); err != nil {
		t.Fatal(err)
	}
	dw, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: secondary, Verify: true})
	var ve *persist.VerifyError
	if !errors.Is(err, persist.ErrVerify) || !errors.As(err, &ve) {
		t.Fatalf("EnableDualWrite without backfill over a non-empty store: %v, want a VerifyError", err)
	}
	if ve.Diff.OnlyA != 1 || !strings.Contains(ve.Detail, "users/u1") || ve.PrimarySum == ve.SecondarySum {
		t.Fatalf("VerifyError %+v", ve)
	}
	if dw == nil || s.DualWrite() != dw {
		t.Fatal("dual-write is off after a failed verify")
	}
	if _, err := persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: secondary}); !errors.Is(err, persist.ErrDualWrite) {
		t.Fatalf("a second EnableDualWrite: %v, want ErrDualWrite", err)
	}
	if _, err := dw.Backfill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dw.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dw.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "users", "u2", 1); err != nil {
		t.Fatal(err)
	}
	if r := mustSum(t, secondary); r.Records != 1 {
		t.Fatalf("a write after Disable reached the secondary: %+v", r)
	}
}

// A SQLite file edited outside Persist may hold values in other spellings.
// The backfill writes them canonical, so both stores sum equal; one the
// secondary cannot hold is refused with the reason, before it is sent.
func TestDualWriteBackfillsAnEditedFile(t *testing.T) {
	for _, tc := range []struct {
		name, value, want, refused string
	}{
		{"other spelling", `{ "z": [ ], "a" : 1.50E1 }`, `{"a":15,"z":[]}`, ""},
		{"beyond numeric", `{"n": 1E400000}`, "", "numeric range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			primary, secondary := backends[0].new(t), pgtest.NewDatabase(t)
			s := open(t, primary)
			if _, err := s.Put(ctx, "users", "u1", map[string]int{"n": 1}); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite3", strings.TrimPrefix(primary, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(`UPDATE persist_records SET value = ? WHERE key = 'u1'`, tc.value)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			_, err = persist.EnableDualWrite(ctx, s, persist.DualWriteOptions{Target: secondary, Backfill: true, Verify: true})
			if tc.refused != "" {
				if !errors.Is(err, persist.ErrUnsupported) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("backfill of %s: %v; want ErrUnsupported saying %q", tc.value, err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := open(t, secondary).Get(ctx, "users", "u1")
			if err != nil || string(got.Value) != tc.want {
				t.Fatalf("the secondary holds %s (%v), want %s", got.Value, err, tc.want)
			}
			if a, b := mustSum(t, primary), mustSum(t, secondary); a != b {
				t.Fatalf("sums differ: %v and %v", a, b)
			}
		})
	}
}
