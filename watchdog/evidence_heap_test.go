package watchdog

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// heapHoard is what retainHeapForTest keeps: memory that only grows, like a map never pruned.
var heapHoard [][]byte

// retainHeapForTest is the leaking allocation site the evidence must name.
func retainHeapForTest(n int) {
	heapHoard = append(heapHoard, make([]byte, n))
}

// TestHeapAlertNamesTheSite: a live heap growing 4 MiB/min raises heap_live_bytes, and the
// alert's evidence is heap evidence: the heap profile diffed against the baseline's, whose
// largest growth and diagnosis name the allocating function and file.
func TestHeapAlertNamesTheSite(t *testing.T) {
	if runtime.MemProfileRate <= 0 {
		t.Skip("heap profiling is off")
	}
	t.Cleanup(func() { heapHoard = nil })
	// Every allocation sampled, so that the leaking site is in the profile whatever the
	// sampler's draw: at the default rate (one sample per 512 KiB on average) the 1.5 MiB
	// grown since a baseline refreshed a Window after the warm-up is sometimes not sampled.
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	t.Cleanup(func() { runtime.MemProfileRate = rate })
	synctest.Test(t, func(t *testing.T) {
		c := DefaultConfig()
		c.Interval = time.Second
		c.Window = time.Minute // the live heap's: 4 min
		c.Warmup = time.Nanosecond
		c.Rules = map[string]Rule{SeriesHeapLive: {NoticePerMin: 0.5 * mib, WarningPerMin: 1 * mib}}
		var mu sync.Mutex
		var got []Alert
		w, err := Start(t.Context(), c, OnAlert(func(a Alert) {
			mu.Lock()
			got = append(got, a)
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		// 4 MiB/min in 64 KiB pieces, a collection every second, for 8 minutes
		for range 8 * 60 {
			retainHeapForTest(4 * mib / 60)
			runtime.GC()
			time.Sleep(time.Second)
		}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		i := slices.IndexFunc(got, func(a Alert) bool {
			return a.Series == SeriesHeapLive && a.Level >= LevelWarning && a.Evidence != nil
		})
		if i < 0 {
			t.Fatalf("no heap_live_bytes warning with evidence: %v", got)
		}
		a := got[i]
		ev := a.Evidence
		t.Logf("alert at %v: %s\n%s", a.Time.Sub(w.started), a.Reason, ev)
		// The reason names the span judged (Alert.Window): the live heap's 4m window, or less
		// when the fast rule graded the growth early.
		if a.Window <= 0 || a.Window > 4*time.Minute {
			t.Errorf("alert window %v, want the span judged, within the live heap's 4m window", a.Window)
		}
		if !strings.HasPrefix(a.Reason, "heap_live_bytes growing ") || !strings.HasSuffix(a.Reason, " MiB/min over "+a.Window.String()+" (warning at >= 1 MiB/min)") {
			t.Errorf("reason %q, want the rate and threshold in MiB/min over the span judged (%v)", a.Reason, a.Window)
		}
		if ev.Kind != EvidenceHeap || ev.Heap == nil || len(ev.Heap.Grew) == 0 {
			t.Fatalf("evidence %+v, want heap evidence with sites", ev)
		}
		top := ev.Heap.Grew[0]
		if !strings.HasSuffix(top.Site.Function, ".retainHeapForTest") || !strings.HasSuffix(top.Site.File, "evidence_heap_test.go") || top.DeltaBytes <= 0 {
			t.Errorf("largest growth %v, want retainHeapForTest in evidence_heap_test.go", top)
		}
		if ev.Diagnosis.Cause != attribution.CauseHeapGrowth || !strings.Contains(ev.Diagnosis.Summary, "retainHeapForTest (evidence_heap_test.go:") {
			t.Errorf("diagnosis %v, want heap growth naming retainHeapForTest", ev.Diagnosis)
		}
		// the live heap grew by what was retained since the baseline (4 MiB/min), give or take
		// the collections' timing
		if want := 4 * mib * ev.Heap.Interval.Minutes() / 2; ev.Heap.Interval <= 0 || float64(ev.Heap.LiveBytes.Delta) < want {
			t.Errorf("live heap grew %d bytes in the %v since the baseline, want %.0f or more", ev.Heap.LiveBytes.Delta, ev.Heap.Interval, want)
		}
	})
}
