package main

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

func TestHeapLeakerRetainsTheAskedRate(t *testing.T) {
	const kibPerMin = 512
	h := newHeapLeaker(kibPerMin)
	for _, mins := range []float64{0.5, 1, 3, 10} {
		h.retainUntil(mins)
		want := mins * kibPerMin * 1024
		// At most one line over: retainUntil stops at the first line past the target.
		if got := float64(h.payload); got < want || got >= want+leakedLineSize {
			t.Errorf("after %v min: %v bytes retained, want %v (+ less than one %d-byte line)", mins, got, want, leakedLineSize)
		}
		var sum int64
		for _, v := range h.seen {
			sum += int64(len(v))
		}
		if sum != h.payload {
			t.Errorf("after %v min: the map holds %d bytes of lines, the count says %d", mins, sum, h.payload)
		}
	}
	// Keyed by container and line: every container has about as many lines.
	per := map[string]int{}
	for k, v := range h.seen {
		per[k.container]++
		if len(v) != leakedLineSize || !strings.Contains(string(v), `"container":"`+k.container+`"`) {
			t.Fatalf("line %v: %d bytes %q, want %d bytes naming its container", k, len(v), v, leakedLineSize)
		}
	}
	if len(per) != len(h.containers) {
		t.Errorf("%d containers, want %d", len(per), len(h.containers))
	}
	for c, n := range per {
		if d := n - len(h.seen)/len(h.containers); d < -1 || d > 1 {
			t.Errorf("container %s: %d lines of %d", c, n, len(h.seen))
		}
	}
}

func TestHeapLeakerZeroRetainsNothing(t *testing.T) {
	h := newHeapLeaker(0)
	h.retainUntil(60)
	if len(h.seen) != 0 || h.payload != 0 {
		t.Errorf("rate 0: %d lines, %d bytes retained", len(h.seen), h.payload)
	}
}

func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestHeapLeakerIsNamedByTheHeapDiff: what the watchdog's heap evidence will read, the
// live heap and the heap profile diffed against a baseline, shows the leak and names
// rememberLine in leaks.go (main.(*heapLeaker).rememberLine in the program; the test binary
// names package main by its import path).
func TestHeapLeakerIsNamedByTheHeapDiff(t *testing.T) {
	if runtime.MemProfileRate <= 0 {
		t.Skip("heap profiling is off")
	}
	const kibPerMin = 4096 // the demo rate
	h := newHeapLeaker(kibPerMin)
	runtime.GC()
	live0 := liveHeap()
	base := attribution.TakeHeap(attribution.HeapOptions{})
	h.retainUntil(4) // 16 MiB of lines: about 32 samples at the default rate
	runtime.GC()
	live := liveHeap() - live0
	r := attribution.DiffHeap(base, attribution.TakeHeap(attribution.HeapOptions{}), 3)
	t.Logf("payload %d, live heap %+d\n%s", h.payload, live, r)
	// The lines, and the map's entries on top (about 40% more: a 48-byte slot per line, and
	// the table's growth).
	if live < h.payload {
		t.Errorf("live heap grew %d bytes, less than the %d bytes of lines retained", live, h.payload)
	}
	if len(r.Grew) == 0 || !strings.HasSuffix(r.Grew[0].Site.Function, ".(*heapLeaker).rememberLine") ||
		!strings.HasSuffix(r.Grew[0].Site.File, "leaks.go") || r.Grew[0].DeltaBytes <= 0 {
		t.Fatalf("largest growth %v, want main.(*heapLeaker).rememberLine in leaks.go", r.Grew)
	}
	runtime.KeepAlive(h)
}
