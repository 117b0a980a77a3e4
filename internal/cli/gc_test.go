package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, roots, floor uint64
		want               int
	}{
		{0, 0, 24 * mib, 600},               // before any collection: Go's least goal made the floor
		{1 * mib, 0, 24 * mib, 600},         // not past the GOGC whose least goal is the floor
		{4 * mib, 0, 24 * mib, 500},         // 4 + 4·5 = 24
		{4 * mib, 1 * mib, 24 * mib, 400},   // 4 + 5·4 = 24: the roots count
		{8 * mib, 0, 24 * mib, 200},         // 8 + 8·2
		{11 * mib, 0, 24 * mib, 118},        // just under half the floor
		{12 * mib, 0, 24 * mib, 100},        // half the floor: Go's default from here on
		{10 * mib, 4 * mib, 24 * mib, 100},  // never sooner than Go's default
		{200 * mib, 1 * mib, 24 * mib, 100}, // nor, far above the floor, later
		{0, 0, 4 * mib, 100},                // a floor of Go's own least goal changes nothing
		{1 << 40, 1 << 40, 24 * mib, 100},   // no overflow
		{0, 1 * mib, 24 * mib, 600},         // roots alone
		{1 * mib, 1 << 40, 24 * mib, 100},   // roots far above the floor
	} {
		if got := floorPercent(c.live, c.roots, c.floor); got != c.want {
			t.Errorf("floorPercent(%d MiB, %d MiB, %d MiB) = %d, want %d", c.live/mib, c.roots/mib, c.floor/mib, got, c.want)
		}
	}
}

// gcMetric reads one of the collector's figures.
func gcMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// waitFor collects until ok holds, or fails the test after 10 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s (GOGC %d, %d MiB live, goal %d MiB)", what,
				gcMetric("/gc/gogc:percent"), gcMetric("/gc/heap/live:bytes")>>20, gcMetric("/gc/heap/goal:bytes")>>20)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// Every tool's floor, persist-diff's (floorFor) and the others', is held.
func TestHoldHeapFloor(t *testing.T) {
	if floorFor("persist-diff") != twoSidesFloor || floorFor("persist-dump") != heapFloor {
		t.Fatalf("floors %d and %d, want persist-diff's %d and persist-dump's %d",
			floorFor("persist-diff"), floorFor("persist-dump"), twoSidesFloor, heapFloor)
	}
	for _, floor := range []uint64{heapFloor, twoSidesFloor} {
		t.Run(fmt.Sprintf("%dMiB", floor>>20), func(t *testing.T) { holdsFloor(t, floor) })
	}
}

func holdsFloor(t *testing.T, floor uint64) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	const mib = 1 << 20
	if live := gcMetric("/gc/heap/live:bytes"); live > 3*mib {
		t.Fatalf("%d MiB live before the test: the goals below assume under 3", live>>20)
	}

	stop := holdHeapFloor(floor)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	// The goal is the floor, held there after each collection while
	// little is live.
	near := func() bool {
		g := gcMetric("/gc/heap/goal:bytes")
		return g >= floor-3*mib && g <= floor+3*mib
	}
	if !near() {
		t.Errorf("heap goal %d MiB once held, want about %d", gcMetric("/gc/heap/goal:bytes")>>20, floor>>20)
	}
	runtime.GC()
	waitFor(t, "the goal back at the floor after a collection", near)

	// With over half the floor live, Go's default pace.
	keep := make([]*[1 << 20]byte, floor/2/mib+2)
	for i := range keep {
		keep[i] = new([1 << 20]byte)
	}
	waitFor(t, "GOGC 100 with over half the floor live", func() bool { return gcMetric("/gc/gogc:percent") == 100 })
	runtime.KeepAlive(keep)
	keep = nil
	waitFor(t, "the floor again once they are gone", near)

	// A second hold while one is held (cli.Run within a command) changes
	// nothing: stopped after the first, it must not bring back the
	// first's pace.
	stop2 := holdHeapFloor(floor)
	debug.SetGCPercent(70)
	stop()
	stopped = true
	stop2()
	if got := gcMetric("/gc/gogc:percent"); got != 100 {
		t.Errorf("GOGC %d after stop, want the 100 it found", got)
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gcMetric("/gc/gogc:percent"); got != 100 {
		t.Errorf("GOGC %d after stop and a collection, want it left alone", got)
	}
}

func TestHoldHeapFloorLeavesTheUsersChoice(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "50")
			defer debug.SetGCPercent(debug.SetGCPercent(50))
			stop := holdHeapFloor(heapFloor)
			t.Cleanup(stop)
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if got := gcMetric("/gc/gogc:percent"); got != 50 {
				t.Errorf("GOGC %d with %s set, want the 50 given", got, env)
			}
		})
	}
}
