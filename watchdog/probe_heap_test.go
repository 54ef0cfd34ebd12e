package watchdog

import (
	"math"
	"runtime"
	"testing"
)

var liveHeapKeep [][]byte

func TestLiveHeapProbe(t *testing.T) {
	p := newLiveHeapProbe()
	runtime.GC()
	live0, c0 := p.read()
	if live0 <= 0 || c0 == 0 {
		t.Fatalf("after a collection: live %v, cycles %d; want both > 0", live0, c0)
	}
	const n, size = 64, 128 << 10 // 8 MiB kept
	liveHeapKeep = make([][]byte, n)
	defer func() { liveHeapKeep = nil }()
	for i := range liveHeapKeep {
		liveHeapKeep[i] = make([]byte, size)
	}
	runtime.GC()
	live1, c1 := p.read()
	if c1 <= c0 {
		t.Errorf("cycles %d -> %d across runtime.GC, want more", c0, c1)
	}
	// Less whatever else the test process dropped meanwhile (a few KiB).
	if live1-live0 < n*size*0.9 {
		t.Errorf("live heap %v -> %v with %d bytes kept, want about that much more", live0, live1, n*size)
	}
	liveHeapKeep = nil
	runtime.GC()
	// Garbage is not live: once collected, the heap is back near where it was.
	if live2, _ := p.read(); live2-live0 >= n*size/2 {
		t.Errorf("live heap %v after dropping %d bytes (was %v before keeping them)", live2, n*size, live0)
	}
	if a := testing.AllocsPerRun(100, func() { p.read() }); a != 0 {
		t.Errorf("read allocates %v times, want 0", a)
	}
}

func TestLiveHeapProbeWithoutMetrics(t *testing.T) {
	p := &liveHeapProbe{} // as on a runtime that lacks them
	if live, cycles := p.read(); !math.IsNaN(live) || cycles != 0 {
		t.Errorf("read = %v, %d; want NaN, 0", live, cycles)
	}
}
