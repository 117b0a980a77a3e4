package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// heapFloor is the heap goal a command's collector keeps to while little
// is live. Persist's tools stream: their live heap is a few MiB of rows in
// flight, and Go's default (a goal of twice the live heap, at least 4 MiB)
// then collects hundreds of times per million records, with the write
// barrier on while it marks. A goal of 24 MiB takes about a tenth off
// persist-diff's and persist-dump's time and keeps every tool of the
// benchmark within its 64 MiB (docs/performance.md, "A floor under the
// heap"). Not GOMEMLIMIT: a limit is a ceiling, and a tool holding a huge
// value above it would collect without pause.
const heapFloor = 24 << 20

// twoSidesFloor is persist-diff's floor: it reads two stores at once, each
// with its rows in flight and its batches made afresh, so it makes garbage
// twice as fast as a dump; 32 MiB takes a tenth off its time, and off no
// other tool's (docs/performance.md, "The diff's floor").
const twoSidesFloor = 32 << 20

// floorFor is the heap floor of the tool called name.
func floorFor(name string) uint64 {
	if name == "persist-diff" {
		return twoSidesFloor
	}
	return heapFloor
}

// defaultHeapMinimum is the Go runtime's least heap goal at GOGC=100
// (runtime/mgcpacer.go); it scales with GOGC.
const defaultHeapMinimum = 4 << 20

// floorPercent is the GOGC that puts the heap goal at floor, given the
// bytes live after the last collection and the roots the collector scans
// besides (stacks, globals): the goal is live + (live+roots)·GOGC/100.
// Never below 100, so that no collection comes sooner than Go's default;
// never above the GOGC whose least heap goal is floor itself, for that
// minimum scales with GOGC, and a small live heap would otherwise get a
// goal far above the floor.
func floorPercent(live, roots, floor uint64) int {
	maxPercent := floor * 100 / defaultHeapMinimum
	switch {
	case live >= floor/2:
		return 100
	case live+roots == 0:
		return int(maxPercent)
	}
	p := (floor - live) * 100 / (live + roots)
	return int(min(max(p, 100), maxPercent))
}

// gcTick is made to be collected: its cleanup runs after the collection
// that found it unreachable, once that collection's sweep is done. It
// holds a pointer, which keeps it out of the tiny allocator, where a
// cleanup may never run.
type gcTick struct{ _ *byte }

// heapFloorHeld keeps a second holdHeapFloor (cli.Run called again while
// a command runs) from setting a pace of its own against the first.
var heapFloorHeld atomic.Bool

// holdHeapFloor sets the collector's pace from floor, and again after
// every collection, until stop is called; stop restores the GOGC it found.
// A GOGC or GOMEMLIMIT in the environment is the user's choice, and left
// alone. The pace for a collection is set from the one before: between the
// end of a collection and its cleanup the previous pace holds, so a live
// heap that grows fast can take one goal of up to (1+maxPercent/100) times
// its size (7× for a heap under a sixth of the floor), as a GOGC the user
// set would.
func holdHeapFloor(floor uint64) (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || !heapFloorHeld.CompareAndSwap(false, true) {
		return func() {}
	}
	var mu sync.Mutex
	stopped := false
	var arm func()
	pace := func(struct{}) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		live, roots := heapAfterGC()
		debug.SetGCPercent(floorPercent(live, roots, floor))
		arm()
	}
	arm = func() { runtime.AddCleanup(new(gcTick), pace, struct{}{}) }
	prev := debug.SetGCPercent(floorPercent(0, 0, floor))
	arm()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		debug.SetGCPercent(prev)
		heapFloorHeld.Store(false)
	}
}

// heapAfterGC reads what the last collection found live in the heap, and
// the stacks and globals it scanned: 0 and 0 before any collection.
func heapAfterGC() (live, roots uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v[0], v[1] + v[2]
}
