package attribution

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// GroupDelta is one goroutine group's change between two snapshots.
type GroupDelta struct {
	// Group is the group as in the current snapshot (Count is the current
	// count; for a group that vanished, the baseline's group with Count 0).
	Group
	// Base is the count in the baseline snapshot; 0 when absent there.
	Base int `json:"base"`
	// Delta is Count - Base.
	Delta int `json:"delta"`
}

// FDClassDelta is one descriptor class's change between two snapshots.
type FDClassDelta struct {
	FDClass
	// Base is the count in the baseline snapshot.
	Base int `json:"base"`
	// Delta is Count - Base.
	Delta int `json:"delta"`
}

// CountDelta is a total in two snapshots.
type CountDelta struct {
	// Base is the total in the baseline snapshot (0 without one).
	Base int `json:"base"`
	// Current is the total in the current snapshot.
	Current int `json:"current"`
	// Delta is Current - Base.
	Delta int `json:"delta"`
}

// Report is the difference between a baseline snapshot and a current one:
// what grew, with the evidence to find it in the code. Reports are plain
// data, safe for concurrent reads, and encode to JSON.
type Report struct {
	// Base is the baseline snapshot's time; zero when the report was made
	// without a baseline.
	Base time.Time `json:"base"`
	// Current is the current snapshot's time.
	Current time.Time `json:"current"`
	// Goroutines is the goroutine total in both snapshots.
	Goroutines CountDelta `json:"goroutines"`
	// Groups are the goroutine groups that grew most, and any group the
	// leak profile proves leaked, at most Top of them, by delta then
	// leaked count.
	Groups []GroupDelta `json:"groups"`
	// LeakProfile reports whether the current snapshot collected the
	// goroutineleak profile.
	LeakProfile bool `json:"leak_profile"`
	// Leaked is the number of goroutines the profile proves leaked.
	Leaked int `json:"leaked"`
	// FDs is the descriptor total in both snapshots (zero when not read).
	FDs CountDelta `json:"fds"`
	// FDClasses are the descriptor classes that grew most, at most Top.
	FDClasses []FDClassDelta `json:"fd_classes"`
	// TCPStates is the change of the process's TCP sockets by state.
	TCPStates map[string]CountDelta `json:"tcp_states,omitempty"`
	// NamespaceTimeWait is the namespace's TIME_WAIT sockets in both.
	NamespaceTimeWait CountDelta `json:"namespace_time_wait"`
	// Callouts name the pile-ups worth a human's attention: CLOSE_WAIT
	// (the peer closed, this process did not: an unclosed response body
	// or connection) and TIME_WAIT (connections opened and closed at a
	// high rate: no pooling).
	Callouts []string `json:"callouts,omitempty"`
	// Notes carry both snapshots' notes (what was skipped and why).
	Notes []string `json:"notes,omitempty"`
	// Cost is what the current snapshot cost.
	Cost Cost `json:"cost"`
}

// Pile-up thresholds for callouts: growth since the baseline.
const (
	closeWaitCallout = 5
	timeWaitCallout  = 100
)

// Diff compares cur with base. base may be nil (everything counts as
// growth). Lists are bounded by the current snapshot's Top. Diff does not
// modify its arguments.
func Diff(base, cur *Snapshot) *Report {
	if base == nil {
		base = &Snapshot{}
	}
	top := cur.Top
	if top <= 0 {
		top = DefaultTop
	}
	r := &Report{
		Base: base.Time, Current: cur.Time,
		Goroutines:  delta(base.Goroutines, cur.Goroutines),
		LeakProfile: cur.LeakProfile, Leaked: cur.Leaked,
		Cost: cur.Cost,
	}
	r.Groups = diffGroups(base.Groups, cur.Groups, top)
	if !base.Grouped && !base.Time.IsZero() {
		r.Notes = append(r.Notes, "baseline has no goroutine groups: deltas are current counts")
	}
	for _, n := range base.Notes {
		r.Notes = append(r.Notes, "baseline: "+n)
	}
	r.Notes = append(r.Notes, cur.Notes...)
	if cur.FDs != nil {
		bf := base.FDs
		if bf == nil {
			bf = &FDTable{}
			if !base.Time.IsZero() {
				r.Notes = append(r.Notes, "baseline has no descriptor table: deltas are current counts")
			}
		}
		r.FDs = delta(bf.Total, cur.FDs.Total)
		r.FDClasses = diffClasses(bf.Classes, cur.FDs.Classes, top)
		r.TCPStates = map[string]CountDelta{}
		for s, n := range cur.FDs.TCPStates {
			r.TCPStates[s] = delta(bf.TCPStates[s], n)
		}
		for s, n := range bf.TCPStates {
			if _, ok := cur.FDs.TCPStates[s]; !ok {
				r.TCPStates[s] = delta(n, 0)
			}
		}
		r.NamespaceTimeWait = delta(bf.NamespaceTimeWait, cur.FDs.NamespaceTimeWait)
		r.Callouts = callouts(r, cur.FDs)
	}
	return r
}

func delta(b, c int) CountDelta { return CountDelta{Base: b, Current: c, Delta: c - b} }

func diffGroups(base, cur []Group, top int) []GroupDelta {
	prev := make(map[string]int, len(base))
	for _, g := range base {
		prev[g.Key] += g.Count
	}
	var out []GroupDelta
	for _, g := range cur {
		d := GroupDelta{Group: g, Base: prev[g.Key], Delta: g.Count - prev[g.Key]}
		if d.Delta > 0 || d.Leaked > 0 {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b GroupDelta) int {
		if a.Delta != b.Delta {
			return b.Delta - a.Delta
		}
		if a.Leaked != b.Leaked {
			return b.Leaked - a.Leaked
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(out) > top {
		out = out[:top]
	}
	return out
}

func diffClasses(base, cur []FDClass, top int) []FDClassDelta {
	prev := make(map[string]int, len(base))
	for _, c := range base {
		prev[c.key()] = c.Count
	}
	var out []FDClassDelta
	for _, c := range cur {
		d := FDClassDelta{FDClass: c, Base: prev[c.key()], Delta: c.Count - prev[c.key()]}
		if d.Delta > 0 {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b FDClassDelta) int {
		if a.Delta != b.Delta {
			return b.Delta - a.Delta
		}
		return strings.Compare(a.key(), b.key())
	})
	if len(out) > top {
		out = out[:top]
	}
	return out
}

func callouts(r *Report, cur *FDTable) []string {
	var out []string
	if cw := r.TCPStates["CLOSE_WAIT"]; cw.Delta >= closeWaitCallout {
		peers := map[string]int{}
		for _, e := range cur.Entries {
			if e.State == TCPCloseWait {
				peers[e.Remote.String()]++
			}
		}
		out = append(out, fmt.Sprintf("%d sockets in CLOSE_WAIT (%+d since baseline), peers %s: the peer closed and this process did not close its end (unclosed response body or connection)",
			cw.Current, cw.Delta, formatCounts(topCounts(peers, 3))))
	}
	if tw := r.NamespaceTimeWait; tw.Delta >= timeWaitCallout {
		out = append(out, fmt.Sprintf("%d sockets in TIME_WAIT in the network namespace (%+d since baseline), peers %s: connections opened and closed at a high rate (no connection reuse)",
			tw.Current, tw.Delta, formatCounts(cur.TimeWaitByPeer)))
	}
	return out
}

// formatCounts writes "a (3), b (1)", largest first.
func formatCounts(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range m {
		s = append(s, kv{k, v})
	}
	slices.SortFunc(s, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d)", e.k, e.v)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
