package watchdog

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// leakyProducer sends on a channel nobody reads: the classic goroutine leak.
func leakyProducer(ch chan<- int) { ch <- 1 }

// leakSenders runs, inside a synctest bubble, a watchdog with config c past its warm-up (the
// attribution baseline is taken), leaks 200 goroutines blocked sending (3000/min), stops the
// watchdog and returns it with the alerts its handler got. The senders are released at cleanup:
// nothing may leak past the test.
func leakSenders(t *testing.T, c Config) (*Watchdog, []Alert) {
	t.Helper()
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
	ch := make(chan int)
	t.Cleanup(func() {
		for range 295 {
			<-ch
		}
	})
	time.Sleep(c.Warmup + c.Interval) // the baseline is taken
	// 100 at once (a step: not judged a leak by itself), then 5 per 100 ms: 3000/min, which the
	// detector calls critical within a few intervals
	for i := range 40 {
		n := 5
		if i == 0 {
			n = 100
		}
		for range n {
			go leakyProducer(ch)
		}
		time.Sleep(c.Interval)
	}
	time.Sleep(c.Interval)
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return w, slices.Clone(got)
}

func TestAlertCarriesEvidence(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		t.Run(fmt.Sprintf("overlap=%v", overlap), func(t *testing.T) { testAlertCarriesEvidence(t, overlap) })
	}
}

func testAlertCarriesEvidence(t *testing.T, overlap bool) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		c.Attribution.Overlap = overlap
		w, got := leakSenders(t, c)
		var ev *Evidence
		for _, a := range got {
			if a.Series == SeriesGoroutines && a.Evidence != nil && ev == nil {
				ev = a.Evidence
				if a.Level < LevelWarning {
					t.Errorf("evidence on a %v alert", a.Level)
				}
			}
		}
		if ev == nil {
			t.Fatalf("no alert carried evidence: %v", got)
		}
		if ev.Report == nil || len(ev.Report.Groups) == 0 {
			t.Fatalf("evidence without goroutine groups: %+v", ev)
		}
		g := ev.Report.Groups[0]
		if !strings.HasSuffix(g.Top.Function, "leakyProducer") || !strings.HasSuffix(g.Top.File, "evidence_test.go") || g.Top.Line == 0 {
			t.Errorf("top group's frame = %v, want leakyProducer in evidence_test.go with a line", g.Top)
		}
		if g.Wait != attribution.WaitChanSend || g.Delta < 100 {
			t.Errorf("top group wait %v delta %d, want chan send and >= 100", g.Wait, g.Delta)
		}
		if runtime.GOOS == "linux" && ev.Report.FDs.Current == 0 {
			t.Errorf("evidence without descriptors: %+v", ev.Report.FDs)
		}
		if ev.Diagnosis.Cause != attribution.CauseBlockedChannelSend {
			t.Errorf("diagnosis = %v, want blocked channel send", ev.Diagnosis)
		}
		s := w.Snapshot()
		if s.Attributions == 0 {
			t.Error("snapshot counts no attribution")
		}
		found := false
		for _, a := range s.Alerts {
			found = found || a.Evidence != nil
		}
		if !found {
			t.Error("the snapshot's alerts carry no evidence")
		}
	})
}

// TestAttributionCeiling: above Attribution.MaxGoroutines the stacks are not collected, and the
// evidence says so.
func TestAttributionCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		c.Attribution.MaxGoroutines = 300
		var mu sync.Mutex
		var ev *Evidence
		w, err := Start(t.Context(), c, OnAlert(func(a Alert) {
			mu.Lock()
			if a.Evidence != nil && ev == nil {
				ev = a.Evidence
			}
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan int)
		time.Sleep(c.Warmup + c.Interval)
		for i := range 40 { // 310 at once (over the ceiling before the early alert), then 6000/min
			n := 10
			if i == 0 {
				n = 310
			}
			for range n {
				go leakyProducer(ch)
			}
			time.Sleep(c.Interval)
		}
		w.Stop()
		for range 700 {
			<-ch
		}
		mu.Lock()
		defer mu.Unlock()
		if ev == nil || ev.Report == nil {
			t.Fatalf("no evidence: %+v", ev)
		}
		if len(ev.Report.Groups) != 0 {
			t.Errorf("groups collected above the ceiling: %d", len(ev.Report.Groups))
		}
		notes := strings.Join(ev.Report.Notes, "; ")
		if !strings.Contains(notes, "300") {
			t.Errorf("notes %q do not say the ceiling was passed", notes)
		}
	})
}

// TestAttributionPanicReachesHandlers: a panic in the attribution becomes the evidence's error,
// and the handlers still get the alert.
func TestAttributionPanicReachesHandlers(t *testing.T) {
	testHookAttribute = func() { panic("boom") }
	defer func() { testHookAttribute = nil }()
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = 500 * time.Millisecond
		_, got := leakSenders(t, c)
		for _, a := range got {
			if a.Evidence != nil {
				if !strings.Contains(a.Evidence.Error, "attribution panicked: boom") {
					t.Errorf("evidence error = %q, want the panic", a.Evidence.Error)
				}
				return
			}
		}
		t.Fatalf("no alert reached the handler with evidence: %v", got)
	})
}
