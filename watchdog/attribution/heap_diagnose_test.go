package attribution

import (
	"strings"
	"testing"
	"time"
)

// TestDiagnoseHeap: the site that grew most is named, the goroutine stacks are joined when
// goroutines grew too, and without a site that grew the cause is unknown and says why.
func TestDiagnoseHeap(t *testing.T) {
	site := HeapDelta{Site: Frame{Function: "main.(*cache).put", File: "/src/cache.go", Line: 41}, DeltaBytes: 38 << 20}
	h := &HeapReport{Interval: 9 * time.Minute, LiveBytes: byteDelta(8<<20, 48<<20), Stacks: byteDelta(1<<20, 13<<20),
		Grew: []HeapDelta{site}, GrewSites: 3, GrewBytes: 39 << 20}
	g := &Report{Goroutines: CountDelta{Base: 10, Current: 3010, Delta: 3000},
		Groups: []GroupDelta{{Group: Group{Top: Frame{Function: "main.worker", File: "/src/worker.go", Line: 12}, Wait: WaitChanSend}, Delta: 3000}}}
	d := DiagnoseHeap(h, g)
	if d.Cause != CauseHeapGrowth || d.Summary != "live heap +40 MiB (now 48 MiB) since the baseline 9m0s ago; the most, +38 MiB in main.(*cache).put (cache.go:41)" {
		t.Errorf("diagnosis %q (%v)", d.Summary, d.Cause)
	}
	all := strings.Join(d.Evidence, "\n")
	for _, want := range []string{"grew: +38 MiB in main.(*cache).put (cache.go:41)", "3 sites grew in all, by +39 MiB", "goroutine stacks +12 MiB (now 13 MiB), with +3000 goroutines, the most +3000 in main.worker"} {
		if !strings.Contains(all, want) {
			t.Errorf("evidence lacks %q:\n%s", want, all)
		}
	}
	if d := DiagnoseHeap(h, &Report{}); strings.Contains(strings.Join(d.Evidence, "\n"), "goroutine stacks") {
		t.Errorf("stacks joined without goroutine growth: %v", d.Evidence)
	}
	d = DiagnoseHeap(&HeapReport{LiveBytes: byteDelta(8<<20, 9<<20), Notes: []string{"heap profiling is off (runtime.MemProfileRate is 0): no allocation sites"}}, nil)
	if d.Cause != CauseUnknown || !strings.Contains(d.Summary, "no allocation site grew in the heap profile (heap profiling is off") {
		t.Errorf("no sites: %q (%v)", d.Summary, d.Cause)
	}
	if d := DiagnoseHeap(nil, nil); d.Cause != CauseUnknown {
		t.Errorf("nil report: %v", d)
	}
}
