package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 24 * mib, 600},         // before any collection: Go's minimum heap made the floor
		{1 * mib, 24 * mib, 600},   // not past the GOGC whose minimum is the floor
		{4 * mib, 24 * mib, 500},   // 4 MiB × 6 = 24 MiB
		{8 * mib, 24 * mib, 200},   // 8 MiB × 3
		{11 * mib, 24 * mib, 118},  // just under half the floor
		{12 * mib, 24 * mib, 100},  // half the floor: Go's default from here on
		{200 * mib, 24 * mib, 100}, // never later than the default
		{0, 4 * mib, 100},          // a floor of Go's own minimum changes nothing
	} {
		if got := floorPercent(c.live, c.floor); got != c.want {
			t.Errorf("floorPercent(%d MiB, %d MiB) = %d, want %d", c.live/mib, c.floor/mib, got, c.want)
		}
	}
}

// gcPercent reads the collector's GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestHoldHeapFloor(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	stop := holdHeapFloor()
	if got, most := gcPercent(), floorPercent(0, heapFloor); got < 100 || got > most {
		t.Fatalf("GOGC %d once held, want 100 to %d", got, most)
	}
	// After a collection, the pace follows the live heap it found.
	keep := make([]*[1 << 20]byte, 14) // over half the floor: the default pace
	for i := range keep {
		keep[i] = new([1 << 20]byte)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d with %d MiB live, want 100", gcPercent(), liveHeap()>>20)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(keep)
	keep = nil
	for gcPercent() == 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still 100 with %d MiB live", liveHeap()>>20)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}

	debug.SetGCPercent(70)
	stop()
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC %d after stop, want the 100 it found", got)
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC %d after stop and a collection, want it left alone", got)
	}
}

func TestHoldHeapFloorLeavesTheUsersChoice(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "50")
			defer debug.SetGCPercent(debug.SetGCPercent(50))
			stop := holdHeapFloor()
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if got := gcPercent(); got != 50 {
				t.Errorf("GOGC %d with %s set, want the 50 given", got, env)
			}
			stop()
		})
	}
}
