package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapFloor is the heap a command may grow to before the collector first
// runs. Persist's tools stream: their live heap is a few MiB of rows in
// flight, and Go's default (collect when the heap doubles, from 4 MiB)
// then collects hundreds of times per million records, with the write
// barrier on for much of the run. Collecting at 24 MiB takes a tenth off
// persist-diff's time (docs/performance.md, "A floor under the heap") and
// leaves every tool within its 64 MiB.
const heapFloor = 24 << 20

// defaultHeapMinimum is the Go runtime's own floor at GOGC=100, which
// scales with GOGC.
const defaultHeapMinimum = 4 << 20

// floorPercent is the GOGC that makes the next collection start at about
// floor bytes of heap when live bytes survived the last one, and no later
// than Go's default would once the live heap is above half the floor:
// between 100 and the GOGC whose own minimum heap is floor.
func floorPercent(live, floor uint64) int {
	most := int(floor * 100 / defaultHeapMinimum)
	if live == 0 {
		return most
	}
	p := int(floor*100/live) - 100
	return min(max(p, 100), most)
}

// gcTick is allocated to be collected: its cleanup runs after the
// collection that found it unreachable. The pointer keeps it out of the
// tiny allocator, where a cleanup may never run.
type gcTick struct {
	_ *byte
	_ [2]uintptr
}

// holdHeapFloor sets the collector's pace from heapFloor, after every
// collection, until stop is called; stop restores the pace it found. A
// GOGC or GOMEMLIMIT in the environment is the user's choice, and left
// alone.
func holdHeapFloor() (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
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
		debug.SetGCPercent(floorPercent(liveHeap(), heapFloor))
		arm()
	}
	arm = func() { runtime.AddCleanup(new(gcTick), pace, struct{}{}) }
	prev := debug.SetGCPercent(floorPercent(0, heapFloor))
	arm()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		debug.SetGCPercent(prev)
	}
}

// liveHeap is the heap the last collection found in use, 0 before any.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
