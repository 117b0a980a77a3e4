package adapterstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// readBack returns what ReadBack reports for items, as "line: problem".
func readBack(t *testing.T, tx adapters.Tx, items ...*record.Item) []string {
	t.Helper()
	var out []string
	err := tx.ReadBack(t.Context(), items, func(it *record.Item, problem string) error {
		if !slices.Contains(items, it) {
			t.Errorf("ReadBack reported %s, which it was not given", line(it))
		}
		out = append(out, line(it)+": "+problem)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadBack of %d items: %v", len(items), err)
	}
	slices.Sort(out)
	return out
}

// What a transaction wrote reads back as written, in every mode; any other
// content, a row not there, a removed row still there, or a row another
// transaction wrote, is reported with the column or the reason.
func testReadBack(t *testing.T, a adapters.Adapter) {
	items := storable(t, a, corpus()...)
	for _, mode := range []adapters.PutMode{adapters.Fresh, adapters.Guarded, adapters.Overwrite} {
		inTx(t, a, fmt.Sprintf("m%d", mode), func(ctx context.Context, tx adapters.Tx) {
			if err := tx.Put(ctx, items, mode); err != nil {
				t.Fatalf("Put: %v", err)
			}
			same(t, fmt.Sprintf("read back in mode %d", mode), readBack(t, tx, items...), nil)
		})
	}
	write(t, a, "app", adapters.Guarded, rec("c", "theirs", 1, T0, `1`), rec("c", "gone", 1, T0, `1`),
		ev("s", 1, "t", T0, `1`))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		puts := []*record.Item{
			rec("c", "sign", 1, T0, `{"n":5}`), rec("c", "array", 1, T0, `{"a":[[1],2]}`),
			rec("c", "version", 1, T0, `1`), rec("c", "time", 1, T0, `1`), tomb("c", "tomb", 1, T0),
			ev("s", 2, "t", T0, `[1]`), ev("s", 3, "t", T0, `1`),
		}
		if err := tx.Put(ctx, puts, adapters.Fresh); err != nil {
			t.Fatal(err)
		}
		if err := tx.Remove(ctx, []*record.Item{removeKey(rec("c", "gone", 1, T0, ``))}); err != nil {
			t.Fatal(err)
		}
		// Guarded over an equal version: the row stays the other
		// transaction's, although it holds what the put holds.
		theirs := rec("c", "theirs", 1, T0, `1`)
		if err := tx.Put(ctx, []*record.Item{theirs}, adapters.Guarded); err != nil {
			t.Fatal(err)
		}
		same(t, "read back of another transaction's row", readBack(t, tx, theirs),
			[]string{line(theirs) + ": " + adapters.ProblemNotOurs})
		expected := []*record.Item{
			rec("c", "sign", 1, T0, `{"n":-5}`), rec("c", "array", 1, T0, `{"a":[[1,2]]}`),
			rec("c", "version", 2, T0, `1`), rec("c", "time", 1, "2026-11-25T12:00:00.000001Z", `1`),
			rec("c", "tomb", 1, T0, `null`), ev("s", 2, "t", T0, `[[1]]`), ev("s", 3, "u", T0, `1`),
			rec("c", "missing", 1, T0, `1`),
			removeKey(rec("c", "theirs", 1, T0, ``)), removeKey(rec("c", "gone", 1, T0, ``)),
		}
		want := []string{
			line(expected[0]) + ": value differs", line(expected[1]) + ": value differs",
			line(expected[2]) + ": version differs", line(expected[3]) + ": updated_at differs",
			line(expected[4]) + ": deleted differs", line(expected[5]) + ": data differs",
			line(expected[6]) + ": type differs", line(expected[7]) + ": " + adapters.ProblemMissing,
			line(expected[8]) + ": " + adapters.ProblemStillThere,
		}
		slices.Sort(want)
		same(t, "read back of other content", readBack(t, tx, expected...), want)
		// Of a key named twice, the last counts.
		first, last := rec("c", "sign", 1, T0, `{"n":5}`), rec("c", "sign", 1, T0, `{"n":6}`)
		same(t, "read back naming a key twice", readBack(t, tx, last, first), nil)
		same(t, "read back naming a key twice, the other way", readBack(t, tx, first, last),
			[]string{line(last) + ": value differs"})
	})
}

// Every item Check accepts, the store holds: at each adapter's limits, and
// past them, either Check refuses the item, wrapping ErrUnsupported, or it
// is written, read back and dumped as it is. Nothing Check accepts fails a
// write.
func testCheckLimits(t *testing.T, a adapters.Adapter) {
	var edge []*record.Item
	for _, n := range []int{126, 127, 2000, 2680, 2681, 2684, 2685, 2686, 2687, 2700, 3000, 10000} {
		s := incompressible(n)
		edge = append(edge, rec("c", s, 1, T0, `1`), rec(s, "k", 1, T0, `1`), ev(s, 1, "t", T0, `1`),
			ev("s", int64(n), s, T0, `1`))
	}
	for _, v := range []string{`1e+131071`, `1e+131072`, `-1e-16383`, `1e-16384`, `[1e+999999]`,
		`"a\u0000"`, "0." + strings.Repeat("7", 16384), `"` + incompressible(1<<20) + `"`} {
		edge = append(edge, rec("v", v[:min(len(v), 20)], 1, T0, v))
	}
	edge = append(edge, rec("c", "nul\x00", 1, T0, `1`), ev("s", 1<<40, "t\x00", T0, `1`))
	var ok []*record.Item
	for _, it := range edge {
		err := a.Check("app", it)
		if err == nil {
			ok = append(ok, it)
			continue
		}
		if !errors.Is(err, adapters.ErrUnsupported) {
			t.Errorf("Check(%s) = %v, want nil or an error wrapping ErrUnsupported", clip(line(it)), err)
		}
	}
	for _, it := range ok {
		err := tryWrite(t.Context(), t, a, "app", adapters.Fresh, it)
		if err != nil {
			t.Errorf("Check accepts %s, but writing it fails: %v", clip(line(it)), err)
		}
	}
	same(t, "dump of what Check accepts", dump(t, a, "app", adapters.Filter{}), lines(ok...))
}

// incompressible is n letters and digits that no database's compression can
// shrink, always the same for n.
func incompressible(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := rand.New(rand.NewPCG(uint64(n), 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// ReadBack of runs of many keys of one collection or stream, as a batch in
// dump order names them, dense or spread thinly among rows it does not
// name: what differs, is missing or is another transaction's is reported
// wherever it lies in the run, and the rows between the keys are not.
func testReadBackRuns(t *testing.T, a adapters.Adapter) {
	var old []*record.Item
	for i := range 1000 {
		k := fmt.Sprintf("k%04d", i)
		old = append(old, rec("dense", k, 1, T0, `1`), rec("sparse", k, 1, T0, `1`), ev("e", int64(i+1), "t", T0, `1`))
	}
	write(t, a, "app", adapters.Guarded, old...)
	var puts []*record.Item
	for i := range 40 {
		puts = append(puts, rec("dense", fmt.Sprintf("k%04d", 100+i), 2, T0, fmt.Sprintf(`{"d":%d}`, i)))
	}
	for i := range 40 {
		puts = append(puts, rec("sparse", fmt.Sprintf("k%04d", 25*i), 2, T0, fmt.Sprintf(`{"s":%d}`, i)))
	}
	for i := range 40 {
		puts = append(puts, ev("e", int64(1001+25*i), "t", T0, fmt.Sprintf(`{"e":%d}`, i)))
	}
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Put(ctx, puts, adapters.Overwrite); err != nil {
			t.Fatalf("Put: %v", err)
		}
		same(t, "read back of runs as written", readBack(t, tx, puts...), nil)
		// Guarded over equal versions: the rows stay the other
		// transaction's.
		theirs := []*record.Item{rec("dense", "k0150", 1, T0, `1`), ev("e", 500, "t", T0, `1`)}
		if err := tx.Put(ctx, theirs, adapters.Guarded); err != nil {
			t.Fatalf("Put: %v", err)
		}
		expected := slices.Clone(puts)
		expected[5] = rec("dense", "k0105", 2, T0, `{"d":-5}`)
		expected[39] = rec("dense", "k0139", 3, T0, `{"d":39}`)
		expected[40] = rec("sparse", "k0000", 2, T0, `{"s":1}`)
		expected[59] = rec("sparse", "k0475", 2, "2026-11-25T12:00:00.000001Z", `{"s":19}`)
		expected[119] = ev("e", 1976, "u", T0, `{"e":39}`)
		expected[100] = ev("e", 1501, "t", T0, `{"e":-20}`)
		extra := []*record.Item{
			theirs[0], rec("sparse", "k0500x", 1, T0, `1`), ev("e", 1990, "t", T0, `1`), theirs[1],
		}
		want := []string{
			line(expected[5]) + ": value differs", line(expected[39]) + ": version differs",
			line(expected[40]) + ": value differs", line(expected[59]) + ": updated_at differs",
			line(expected[119]) + ": type differs", line(expected[100]) + ": data differs",
			line(extra[0]) + ": " + adapters.ProblemNotOurs, line(extra[1]) + ": " + adapters.ProblemMissing,
			line(extra[2]) + ": " + adapters.ProblemMissing, line(extra[3]) + ": " + adapters.ProblemNotOurs,
		}
		slices.Sort(want)
		same(t, "read back of runs with other content", readBack(t, tx, append(expected, extra...)...), want)
	})
}
