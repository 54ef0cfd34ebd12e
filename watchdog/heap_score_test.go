package watchdog

import (
	"path/filepath"
	"testing"
)

// heapCorpus is the live-heap detection corpus (bench/heaptraces writes it).
const heapCorpus = "../internal/trend/testdata/heap"

// TestHeapCorpusScore replays every live-heap trace through the shipped engine ([Replay] with
// [DefaultConfig], so [HeapLiveRule] over the live heap's own window) and scores it by the
// rules of ../shared/detection/score.py: no false alarm on the clean traces (a GC sawtooth, a
// cache warming up, a bounded LRU, a batch buffer flushed every 10 minutes), every leak
// (steady, slow, stepwise) warned and never critical.
func TestHeapCorpusScore(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(heapCorpus, "*.csv"))
	if len(files) < 7 {
		t.Fatalf("%d traces under %s, want the 7 of bench/heaptraces", len(files), heapCorpus)
	}
	var sc corpusScore
	for _, f := range files {
		name, lab, events := replayCorpusTrace(t, f)
		ev := events[SeriesHeapLive]
		before := sc
		scoreCorpusSeries(&sc, ev, lab, SeriesHeapLive)
		t.Logf("%s: %v", name, ev)
		if sc.falseAlarms+sc.missed+sc.over+sc.unresolved > before.falseAlarms+before.missed+before.over+before.unresolved {
			t.Errorf("%s: events %v", name, ev)
		}
	}
	t.Logf("false_alarms=%d missed=%d over_severity=%d latencies_s=%v", sc.falseAlarms, sc.missed, sc.over, sc.latencies)
	if sc.falseAlarms > 0 || sc.missed > 0 || sc.over > 0 || sc.unresolved > 0 {
		t.Errorf("false alarms %d, missed %d, over-severity %d, unresolved %d; want all 0", sc.falseAlarms, sc.missed, sc.over, sc.unresolved)
	}
}
