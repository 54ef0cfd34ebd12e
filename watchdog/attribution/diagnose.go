package attribution

import (
	"fmt"
	"slices"
	"strings"
)

// Cause is the typed cause of a diagnosis. The zero value is [CauseUnknown].
type Cause int

// Causes that [Diagnose] recognises.
const (
	// CauseUnknown: no known pattern matches the evidence.
	CauseUnknown Cause = iota
	// CauseUnclosedResponseBody: HTTP response bodies not closed (or not
	// read to EOF): net/http connection goroutines (persistConn readLoop
	// and writeLoop) and sockets grow while idle connections do not.
	CauseUnclosedResponseBody
	// CauseBlockedChannelSend: a growing group of goroutines blocked
	// sending on a channel that nobody receives from.
	CauseBlockedChannelSend
	// CauseFileNotClosed: regular files opened and never closed.
	CauseFileNotClosed
	// CausePoolStarved: requests wait for a connection from an HTTP pool
	// at its limit (Transport.MaxConnsPerHost) in Transport.getConn.
	CausePoolStarved
	// CauseProvenGoroutineLeak: the goroutineleak profile proves a growing
	// group of goroutines leaked, blocked on something other than a
	// channel send or receive.
	CauseProvenGoroutineLeak
	// CauseBlockedChannelReceive: a growing group of goroutines blocked
	// receiving from a channel that nobody sends on or closes (a worker
	// whose input channel is never closed).
	CauseBlockedChannelReceive
)

var causeNames = [...]string{
	CauseUnknown:               "unknown",
	CauseUnclosedResponseBody:  "unclosed_response_body",
	CauseBlockedChannelSend:    "blocked_channel_send",
	CauseFileNotClosed:         "file_not_closed",
	CausePoolStarved:           "pool_starved",
	CauseProvenGoroutineLeak:   "proven_goroutine_leak",
	CauseBlockedChannelReceive: "blocked_channel_receive",
}

// String returns the cause in snake_case, as in JSON and log fields.
func (c Cause) String() string {
	if c < 0 || int(c) >= len(causeNames) {
		return "unknown"
	}
	return causeNames[c]
}

// MarshalText encodes the cause as its [Cause.String] form.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Context is what the caller (the watchdog) knows beyond the snapshots.
// The zero value is valid: diagnosis then rests on the report alone.
type Context struct {
	// Series are the series that alerted, with their growth rates.
	Series []SeriesRate `json:"series,omitempty"`
	// Pools are the HTTP connection pools' statistics.
	Pools []PoolStats `json:"pools,omitempty"`
	// MinGrowth is the smallest growth (goroutines or descriptors since the
	// baseline) that counts as evidence; 0 means 3.
	MinGrowth int `json:"min_growth,omitempty"`
}

// SeriesRate is one alerting series.
type SeriesRate struct {
	// Name is the series name as the watchdog names it: "goroutines",
	// "fds", or "http_<pool>_<metric>" such as "http_docker_open". A
	// cause that explains an alerting series weighs double.
	Name string `json:"name"`
	// Level is the alert level, for example "warning".
	Level string `json:"level"`
	// PerMinute is the growth rate in units per minute.
	PerMinute float64 `json:"per_minute"`
}

// PoolStats are one HTTP pool's (transport's) connection counts now, and
// their growth since the baseline.
type PoolStats struct {
	// Name names the transport, for example "docker-api".
	Name string `json:"name"`
	// Open, Active and Idle are connection counts; Waiting is the number
	// of requests waiting for a connection.
	Open    int `json:"open"`
	Active  int `json:"active"`
	Idle    int `json:"idle"`
	Waiting int `json:"waiting"`
	// OpenDelta, ActiveDelta and IdleDelta are the changes since the
	// baseline.
	OpenDelta   int `json:"open_delta"`
	ActiveDelta int `json:"active_delta"`
	IdleDelta   int `json:"idle_delta"`
}

// Diagnosis is the evidence joined into one sentence.
type Diagnosis struct {
	// Cause is the most likely cause; [CauseUnknown] when none matches.
	Cause Cause `json:"cause"`
	// Summary is one sentence naming the cause and where it is.
	Summary string `json:"summary"`
	// Evidence are the facts behind the summary, one a line; the last
	// lines name other suspected causes, if any.
	Evidence []string `json:"evidence"`
}

// String returns the summary followed by the evidence, one per line.
func (d Diagnosis) String() string {
	var b strings.Builder
	b.WriteString(d.Summary)
	for _, e := range d.Evidence {
		b.WriteString("\n  - ")
		b.WriteString(e)
	}
	return b.String()
}

type candidate struct {
	cause    Cause
	score    int
	summary  string
	evidence []string
	series   []string // series this cause explains; "http_" matches every http_<pool>_<metric>
}

// HTTP functions that identify net/http's own goroutines.
const (
	fnReadLoop  = "net/http.(*persistConn).readLoop"
	fnWriteLoop = "net/http.(*persistConn).writeLoop"
	fnGetConn   = "net/http.(*Transport).getConn"
)

// Diagnose names the most likely cause of the growth in r, with the
// evidence behind it, or [CauseUnknown] with the largest growth stated as
// fact. It is a pure function of its arguments; r may be nil.
func Diagnose(r *Report, c Context) Diagnosis {
	if r == nil {
		return Diagnosis{Cause: CauseUnknown, Summary: "unknown: no report"}
	}
	minG := c.MinGrowth
	if minG <= 0 {
		minG = 3
	}
	var cands []candidate
	for _, f := range []func(*Report, Context, int) (candidate, bool){
		diagBody, diagStarved, diagChanSend, diagChanReceive, diagFiles, diagProven,
	} {
		if cd, ok := f(r, c, minG); ok {
			cands = append(cands, cd)
		}
	}
	var seriesLines []string
	for _, s := range c.Series {
		seriesLines = append(seriesLines, fmt.Sprintf("series %s at %s: %+.1f/min", s.Name, s.Level, s.PerMinute))
	}
	// A cause that explains an alerting series counts double.
	for i := range cands {
		if explains(cands[i].series, c.Series) {
			cands[i].score *= 2
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return b.score - a.score })
	if len(cands) == 0 {
		d := Diagnosis{Cause: CauseUnknown, Summary: "unknown: no known leak pattern matches the growth"}
		if len(r.Groups) > 0 {
			g := r.Groups[0]
			d.Summary = fmt.Sprintf("unknown: no known leak pattern matches; the largest growth is %+d goroutines (%s) in %s",
				g.Delta, g.Wait, g.Top)
		} else if len(r.FDClasses) > 0 {
			fc := r.FDClasses[0]
			d.Summary = fmt.Sprintf("unknown: no known leak pattern matches; the largest growth is %+d descriptors (%s %s)",
				fc.Delta, fc.Kind, fc.Class)
		}
		d.Evidence = append(d.Evidence, seriesLines...)
		d.Evidence = append(d.Evidence, topLines(r, 3)...)
		return d
	}
	best := cands[0]
	d := Diagnosis{Cause: best.cause, Summary: best.summary}
	d.Evidence = append(d.Evidence, seriesLines...)
	d.Evidence = append(d.Evidence, best.evidence...)
	for _, o := range cands[1:] {
		d.Evidence = append(d.Evidence, "also suspected ("+o.cause.String()+"): "+o.summary)
	}
	return d
}

// sumGroups adds up the groups that have function fn.
func sumGroups(r *Report, fn string) (count, delta int, gs []GroupDelta) {
	for _, g := range r.Groups {
		if g.HasFunction(fn) {
			count += g.Count
			delta += g.Delta
			gs = append(gs, g)
		}
	}
	return
}

func groupLine(g GroupDelta) string {
	s := fmt.Sprintf("%d goroutines (%+d) %s in %s", g.Count, g.Delta, g.Wait, g.Top)
	if g.Leaked > 0 {
		s += fmt.Sprintf(", %d proven leaked", g.Leaked)
	}
	return s
}

func classLine(c FDClassDelta) string {
	return fmt.Sprintf("%d descriptors (%+d) %s %s", c.Count, c.Delta, c.Kind, c.Class)
}

func diagBody(r *Report, c Context, minG int) (candidate, bool) {
	_, rd, rgs := sumGroups(r, fnReadLoop)
	_, wd, wgs := sumGroups(r, fnWriteLoop)
	if rd < minG {
		return candidate{}, false
	}
	cd := candidate{cause: CauseUnclosedResponseBody, score: rd + wd,
		series: []string{"goroutines", "fds", "http_"}}
	for _, g := range append(rgs, wgs...) {
		cd.evidence = append(cd.evidence, groupLine(g))
	}
	// Outbound sockets that grew, largest first: TCP ("ESTABLISHED to 10.0.0.9:2376") and
	// connected unix sockets ("to /var/run/docker.sock").
	var peer string
	sockets := 0
	for _, fc := range r.FDClasses {
		tcp := (fc.Kind == FDTCP || fc.Kind == FDTCP6) && strings.Contains(fc.Class, " to ")
		unix := fc.Kind == FDUnix && strings.HasPrefix(fc.Class, "to ")
		if (tcp || unix) && fc.Delta > 0 {
			if peer == "" {
				_, peer, _ = strings.Cut(" "+fc.Class, " to ")
			}
			sockets += fc.Delta
			cd.evidence = append(cd.evidence, classLine(fc))
		}
	}
	// The pool whose open connections grow while idle ones do not.
	var pool *PoolStats
	for i := range c.Pools {
		p := &c.Pools[i]
		if p.OpenDelta > 0 && p.IdleDelta <= 0 && (pool == nil || p.OpenDelta > pool.OpenDelta) {
			pool = p
		}
	}
	if len(c.Pools) > 0 && pool == nil {
		return candidate{}, false // every pool's growth is idle: pooling, not leaking
	}
	if pool == nil && sockets < minG {
		return candidate{}, false
	}
	where := "an HTTP transport"
	if pool != nil {
		where = fmt.Sprintf("transport %q", pool.Name)
		cd.evidence = append(cd.evidence, fmt.Sprintf("pool %s: open=%d (%+d) active=%d (%+d) idle=%d (%+d)",
			pool.Name, pool.Open, pool.OpenDelta, pool.Active, pool.ActiveDelta, pool.Idle, pool.IdleDelta))
	}
	if peer != "" {
		where += " to " + peer
	}
	if cw := r.TCPStates["CLOSE_WAIT"]; cw.Delta > 0 {
		cd.evidence = append(cd.evidence, fmt.Sprintf("%d sockets in CLOSE_WAIT (%+d)", cw.Current, cw.Delta))
	}
	cd.summary = fmt.Sprintf("response bodies not closed on %s: %+d connection goroutines (readLoop/writeLoop) and %+d sockets, idle connections not growing",
		where, rd+wd, sockets)
	return cd, true
}

func diagStarved(r *Report, c Context, minG int) (candidate, bool) {
	n, d, gs := sumGroups(r, fnGetConn)
	var pool *PoolStats
	for i := range c.Pools {
		if p := &c.Pools[i]; p.Waiting > 0 && (pool == nil || p.Waiting > pool.Waiting) {
			pool = p
		}
	}
	if n == 0 || (d < minG && (pool == nil || n < minG)) {
		return candidate{}, false
	}
	if len(c.Pools) > 0 && pool == nil {
		return candidate{}, false // the pools say nobody waits
	}
	cd := candidate{cause: CausePoolStarved, score: n,
		series: []string{"goroutines", "http_"}}
	for _, g := range gs {
		cd.evidence = append(cd.evidence, groupLine(g))
	}
	where := "an HTTP transport"
	if pool != nil {
		where = fmt.Sprintf("transport %q", pool.Name)
		cd.evidence = append(cd.evidence, fmt.Sprintf("pool %s: open=%d active=%d idle=%d waiting=%d",
			pool.Name, pool.Open, pool.Active, pool.Idle, pool.Waiting))
	}
	cd.summary = fmt.Sprintf("connection pool starved on %s: %d requests waiting for a connection in Transport.getConn (%+d), the pool at its MaxConnsPerHost limit; requests from %s",
		where, n, d, gs[0].Top)
	return cd, true
}

func diagChanSend(r *Report, c Context, minG int) (candidate, bool) {
	return diagChan(r, minG, WaitChanSend, CauseBlockedChannelSend, "sending on a channel nobody receives from")
}

func diagChanReceive(r *Report, c Context, minG int) (candidate, bool) {
	return diagChan(r, minG, WaitChanReceive, CauseBlockedChannelReceive, "receiving from a channel nobody sends on or closes")
}

// diagChan finds the group blocked on a channel operation of kind wait that grew most.
func diagChan(r *Report, minG int, wait WaitKind, cause Cause, what string) (candidate, bool) {
	var best *GroupDelta
	for i := range r.Groups {
		g := &r.Groups[i]
		// A group must have grown: proof lowers the bar, it does not
		// replace growth (a leak older than the baseline is not this alert).
		if g.Wait != wait || g.Delta <= 0 || (g.Delta < minG && g.Leaked == 0) {
			continue
		}
		if best == nil || g.Delta+g.Leaked > best.Delta+best.Leaked {
			best = g
		}
	}
	if best == nil {
		return candidate{}, false
	}
	cd := candidate{cause: cause, score: max(best.Delta, 0) + best.Leaked,
		series: []string{"goroutines"}, evidence: []string{groupLine(*best)}}
	proof := ""
	switch {
	case best.Leaked > 0:
		proof = fmt.Sprintf(", %d proven leaked by the goroutineleak profile", best.Leaked)
	case r.LeakProfile:
		cd.evidence = append(cd.evidence, "the goroutineleak profile does not prove them leaked: the channel is still reachable from a live goroutine")
	default:
		cd.evidence = append(cd.evidence, "no goroutineleak profile: the leak is inferred from growth, not proven")
	}
	cd.summary = fmt.Sprintf("%d goroutines (%+d) blocked %s, in %s%s",
		best.Count, best.Delta, what, best.Top, proof)
	return cd, true
}

func diagFiles(r *Report, _ Context, minG int) (candidate, bool) {
	var best *FDClassDelta
	for i := range r.FDClasses {
		fc := &r.FDClasses[i]
		if fc.Kind == FDFile && fc.Delta >= minG && (best == nil || fc.Delta > best.Delta) {
			best = fc
		}
	}
	if best == nil {
		return candidate{}, false
	}
	cd := candidate{cause: CauseFileNotClosed, score: best.Delta, series: []string{"fds"},
		evidence: []string{classLine(*best)}}
	cd.summary = fmt.Sprintf("files opened and never closed under %s: %d open descriptors (%+d)",
		best.Class, best.Count, best.Delta)
	return cd, true
}

func diagProven(r *Report, _ Context, _ int) (candidate, bool) {
	var best *GroupDelta
	for i := range r.Groups {
		g := &r.Groups[i]
		if g.Leaked > 0 && g.Delta > 0 && g.Wait != WaitChanSend && g.Wait != WaitChanReceive && (best == nil || g.Leaked > best.Leaked) {
			best = g
		}
	}
	if best == nil {
		return candidate{}, false
	}
	cd := candidate{cause: CauseProvenGoroutineLeak, score: best.Leaked, series: []string{"goroutines"},
		evidence: []string{groupLine(*best)}}
	cd.summary = fmt.Sprintf("%d goroutines proven leaked by the goroutineleak profile, blocked (%s) in %s",
		best.Leaked, best.Wait, best.Top)
	return cd, true
}

func topLines(r *Report, n int) []string {
	var out []string
	for i, g := range r.Groups {
		if i == n {
			break
		}
		out = append(out, groupLine(g))
	}
	for i, c := range r.FDClasses {
		if i == n {
			break
		}
		out = append(out, classLine(c))
	}
	return out
}

// UnmarshalText decodes the [Cause.String] form; unknown text decodes to
// [CauseUnknown].
func (c *Cause) UnmarshalText(b []byte) error {
	*c = CauseUnknown
	for i, n := range causeNames {
		if n == string(b) {
			*c = Cause(i)
		}
	}
	return nil
}

// explains reports whether one of the alerting series is among names
// (a name ending in "_" matches as a prefix).
func explains(names []string, alerting []SeriesRate) bool {
	for _, a := range alerting {
		for _, n := range names {
			if a.Name == n || (strings.HasSuffix(n, "_") && strings.HasPrefix(a.Name, n)) {
				return true
			}
		}
	}
	return false
}
