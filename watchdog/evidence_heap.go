package watchdog

import (
	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// heapTop is the number of allocation sites heap evidence names.
const heapTop = 5

// heapBaseline takes the heap profile later ones are diffed against, with the attribution
// baseline (at Start, and again when that is refreshed). It reads the runtime's heap profile
// as of the last collection, at the program's own MemProfileRate (the watchdog never changes
// it), and keeps at most attribution.DefaultMaxHeapSites sites. Sink goroutine.
func (w *Watchdog) heapBaseline() {
	p := attribution.TakeHeap(attribution.HeapOptions{})
	w.attr.baseHeap = p
	w.log.Info("heap baseline", zap.Int("sites", len(p.Sites)), zap.Int64("bytes", p.Bytes),
		zap.Uint64("live_bytes", p.LiveBytes), zap.Duration("cost", p.Cost.Total), zap.Strings("notes", p.Notes))
}

// heapEvidence completes the evidence of a heap_live_bytes alert: the heap profile now,
// diffed against the baseline's, by allocation site, and the diagnosis naming the site that
// grew most (joined by the goroutine stacks when goroutines grew too). It runs on the sink
// goroutine, like the rest of the attribution: the profile is read there, not on the
// sampling goroutine.
func (w *Watchdog) heapEvidence(ev *Evidence) {
	cur := attribution.TakeHeap(attribution.HeapOptions{})
	ev.Heap = attribution.DiffHeap(w.attr.baseHeap, cur, heapTop)
	ev.Diagnosis = attribution.DiagnoseHeap(ev.Heap, ev.Report)
}
