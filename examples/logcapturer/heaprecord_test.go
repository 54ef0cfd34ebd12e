package main

import (
	"os"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// The live heap of two real runs of this program with the default detector settings,
// recorded with -record (watchdog.RecordConfig) and trimmed to the heap_live_bytes column:
// every row with a reading (one per completed collection) and, between readings, one unread
// row every 5 s, where the live watchdog has an unread tick every second (a pending raise
// confirms within 5 s of when it would live):
//
//	testdata/leak-heap-4096.csv  go run . -smoke 0 -leak-heap 4096 -record ...  (first 15 min)
//	testdata/clean-heap.csv      go run . -smoke 0 -record ...                   (30 min)
var heapRecordings = []struct {
	file string
	// warnBy: the leak's first heap_live_bytes warning must come by then; 0: no heap alert
	// at all.
	warnBy time.Duration
}{
	{"testdata/leak-heap-4096.csv", 10 * time.Minute},
	{"testdata/clean-heap.csv", 0},
}

// TestHeapRecordings replays the recorded live heap through the shipped engine
// (watchdog.Replay with watchdog.DefaultConfig): the run with -leak-heap 4096 is warned
// about the heap within 10 minutes, the run without raises nothing about the heap in its 30.
func TestHeapRecordings(t *testing.T) {
	for _, r := range heapRecordings {
		t.Run(r.file, func(t *testing.T) {
			f, err := os.Open(r.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			origin := time.Unix(0, 0)
			var alerts []watchdog.Alert
			err = watchdog.Replay(f, watchdog.DefaultConfig(), func(a watchdog.Alert) {
				if a.Series == watchdog.SeriesHeapLive {
					alerts = append(alerts, a)
				}
			}, watchdog.ReplayOrigin(origin))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range alerts {
				t.Logf("%v: %v (%v) %s", a.Time.Sub(origin), a.Level, a.Cause, a.Reason)
			}
			if r.warnBy == 0 {
				if len(alerts) > 0 {
					t.Errorf("the clean run raised %d heap alerts, want none", len(alerts))
				}
				return
			}
			for _, a := range alerts {
				if a.Level >= watchdog.LevelWarning {
					if at := a.Time.Sub(origin); at > r.warnBy {
						t.Errorf("first heap warning at %v, want by %v", at, r.warnBy)
					}
					if a.Level != watchdog.LevelWarning {
						t.Errorf("first heap alert at or above warning is %v, want warning (no growth critical without a limit)", a.Level)
					}
					return
				}
			}
			t.Errorf("no heap warning in the leaking run")
		})
	}
}
