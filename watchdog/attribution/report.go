package attribution

import (
	"io"
	"slices"
	"strings"
	"time"
)

// String returns the report as [Report.WriteText] writes it.
func (r *Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b) // a strings.Builder does not fail
	return b.String()
}

// WriteText writes the report as Markdown that also reads well in a log:
// totals, the growing goroutine groups with their top frame and wait kind,
// the growing descriptor classes, callouts, notes and cost. It returns the
// first write error.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("## Attribution\n\n")
	ew.printf("goroutines %d (%+d), fds %d (%+d)", r.Goroutines.Current, r.Goroutines.Delta, r.FDs.Current, r.FDs.Delta)
	if r.LeakProfile {
		ew.printf(", %d proven leaked", r.Leaked)
	}
	ew.printf("\n")
	if len(r.Groups) > 0 {
		ew.printf("\n### Goroutine groups that grew\n\n| count | delta | leaked | wait | top frame |\n|---:|---:|---:|---|---|\n")
		for _, g := range r.Groups {
			ew.printf("| %d | %+d | %d | %s | `%s` %s:%d |\n", g.Count, g.Delta, g.Leaked, g.Wait, g.Top.Function, g.Top.File, g.Top.Line)
		}
	}
	if len(r.FDClasses) > 0 {
		ew.printf("\n### Descriptor classes that grew\n\n| count | delta | kind | class |\n|---:|---:|---|---|\n")
		for _, c := range r.FDClasses {
			ew.printf("| %d | %+d | %s | %s |\n", c.Count, c.Delta, c.Kind, c.Class)
		}
	}
	if len(r.TCPStates) > 0 {
		states := make([]string, 0, len(r.TCPStates))
		for s := range r.TCPStates {
			states = append(states, s)
		}
		slices.Sort(states)
		ew.printf("\nTCP states:")
		for _, s := range states {
			d := r.TCPStates[s]
			ew.printf(" %s=%d (%+d)", s, d.Current, d.Delta)
		}
		ew.printf("; namespace TIME_WAIT=%d (%+d)\n", r.NamespaceTimeWait.Current, r.NamespaceTimeWait.Delta)
	}
	for _, c := range r.Callouts {
		ew.printf("\n**%s**\n", c)
	}
	if len(r.Notes) > 0 {
		ew.printf("\nNotes:\n")
		for _, n := range r.Notes {
			ew.printf("- %s\n", n)
		}
	}
	c := r.Cost
	ew.printf("\nCost: total %v (goroutines %v, profile call %v, leak profile %v, fds %v), %d pauses, max pause <= %v\n",
		round(c.Total), round(c.Goroutines), round(c.ProfileCall), round(c.LeakProfile), round(c.FDs), c.Pauses, round(c.MaxPause))
	return ew.err
}

func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
