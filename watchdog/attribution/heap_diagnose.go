package attribution

import (
	"fmt"
	"time"
)

// DiagnoseHeap turns a heap diff into a diagnosis: [CauseHeapGrowth] naming the allocation
// site that grew most ("live heap +40 MiB since the baseline 9m0s ago; the most, +38 MiB in
// main.(*cache).put (cache.go:41)"), with the other sites that grew and the notes as
// evidence. goroutines, the goroutine diff taken with it (may be nil), joins the goroutine
// stacks to the heap when both grew: "goroutine stacks +12 MiB, with 3000 more goroutines, the
// most +2990 in main.worker (worker.go:12) (chan send)": stacks are not heap objects, so a
// goroutine leak's memory is there rather than in the sites. Without a site that grew the
// cause is [CauseUnknown] and the summary says why (no growth, profiling off, the profile's
// notes).
func DiagnoseHeap(h *HeapReport, goroutines *Report) Diagnosis {
	if h == nil {
		return Diagnosis{Summary: "unknown: no heap profile was taken"}
	}
	since := ""
	if h.Interval > 0 {
		since = fmt.Sprintf(" %v ago", h.Interval.Round(time.Second))
	}
	live := fmt.Sprintf("live heap %s (now %s) since the baseline%s", formatBytes(h.LiveBytes.Delta), formatSize(h.LiveBytes.Current), since)
	var ev []string
	for _, g := range h.Grew {
		ev = append(ev, "grew: "+g.String())
	}
	if h.GrewSites > len(h.Grew) {
		ev = append(ev, fmt.Sprintf("%d sites grew in all, by %s", h.GrewSites, formatBytes(h.GrewBytes)))
	}
	if s := stacksLine(h, goroutines); s != "" {
		ev = append(ev, s)
	}
	ev = append(ev, h.Notes...)
	if len(h.Grew) == 0 {
		why := "no allocation site grew in the heap profile"
		if len(h.Notes) > 0 {
			why += " (" + h.Notes[0] + ")"
		}
		return Diagnosis{Cause: CauseUnknown, Summary: "unknown: " + live + "; " + why, Evidence: ev}
	}
	return Diagnosis{Cause: CauseHeapGrowth, Summary: live + "; the most, " + h.Grew[0].String(), Evidence: ev}
}

// stacksLine says how much the goroutine stacks grew, and with which goroutines, when both
// grew; "" otherwise.
func stacksLine(h *HeapReport, r *Report) string {
	if h.Stacks.Delta <= 0 || r == nil || r.Goroutines.Delta <= 0 {
		return ""
	}
	s := fmt.Sprintf("goroutine stacks %s (now %s), with %+d goroutines", formatBytes(h.Stacks.Delta), formatSize(h.Stacks.Current), r.Goroutines.Delta)
	for _, g := range r.Groups {
		if g.Delta > 0 {
			s += fmt.Sprintf(", the most %+d in %s (%s)", g.Delta, g.Top, g.Wait)
			break
		}
	}
	return s
}
