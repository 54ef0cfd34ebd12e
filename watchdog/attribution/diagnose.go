package attribution

import (
	"fmt"
	"slices"
	"strings"

	"github.com/leakwatch/leakwatch/internal/trend"
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
	// CauseBlockedMutex: a growing group of goroutines blocked locking a
	// sync.Mutex (directly or inside another sync type, such as Once)
	// that is never unlocked, or whose holder is itself parked.
	CauseBlockedMutex
	// CauseBlockedRWMutex: a growing group of goroutines blocked locking
	// a sync.RWMutex, for reading or for writing.
	CauseBlockedRWMutex
	// CauseBlockedWaitGroup: a growing group of goroutines in
	// sync.WaitGroup.Wait whose counter never reaches zero (an Add
	// without its Done).
	CauseBlockedWaitGroup
	// CauseBlockedCond: a growing group of goroutines in sync.Cond.Wait
	// that nothing signals.
	CauseBlockedCond
	// CauseBlockedSelect: a growing group of goroutines in a select
	// statement none of whose cases becomes ready.
	CauseBlockedSelect
	// CauseNilChannel: a growing group of goroutines sending on or
	// receiving from a nil channel, which blocks forever.
	CauseNilChannel
	// CauseEmptySelect: a growing group of goroutines in select {},
	// which blocks forever.
	CauseEmptySelect
	// CauseLockCycle: goroutines each holding a lock and waiting for
	// another, in a cycle the stacks show: two groups each past one Lock
	// and blocked in a second, a group whose goroutines all are, or a
	// reader holding an RWMutex and waiting to read it again behind a
	// writer that waits for the readers.
	CauseLockCycle
	// CauseHeapGrowth: memory kept on the heap, attributed to the
	// allocation sites whose in-use bytes grew since the baseline
	// ([DiagnoseHeap]).
	CauseHeapGrowth
)

var causeNames = [...]string{
	CauseUnknown:               "unknown",
	CauseUnclosedResponseBody:  "unclosed_response_body",
	CauseBlockedChannelSend:    "blocked_channel_send",
	CauseFileNotClosed:         "file_not_closed",
	CausePoolStarved:           "pool_starved",
	CauseProvenGoroutineLeak:   "proven_goroutine_leak",
	CauseBlockedChannelReceive: "blocked_channel_receive",
	CauseBlockedMutex:          "blocked_mutex",
	CauseBlockedRWMutex:        "blocked_rwmutex",
	CauseBlockedWaitGroup:      "blocked_waitgroup",
	CauseBlockedCond:           "blocked_cond",
	CauseBlockedSelect:         "blocked_select",
	CauseNilChannel:            "nil_channel",
	CauseEmptySelect:           "empty_select",
	CauseLockCycle:             "lock_cycle",
	CauseHeapGrowth:            "heap_growth",
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
	// Level is the alert's level, of the watchdog's own level type
	// ([github.com/leakwatch/leakwatch/watchdog.Level], such as
	// watchdog.LevelWarning); in JSON its name, "warning".
	Level trend.Level `json:"level"`
	// PerMinute is the growth rate in units per minute.
	PerMinute float64 `json:"per_minute"`
}

// PoolStats are one HTTP pool's (transport's) connection counts now, and
// their growth since the baseline.
type PoolStats struct {
	// Name names the transport, for example "docker".
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
// fact. It depends on its arguments only (the first time it meets a
// goroutine group blocked on a channel, it takes one goroutine profile to
// learn where this runtime parks on a channel, once per process); r may be
// nil. Safe for concurrent use.
func Diagnose(r *Report, c Context) Diagnosis {
	if r == nil {
		return Diagnosis{Cause: CauseUnknown, Summary: "unknown: no report"}
	}
	minG := c.MinGrowth
	if minG <= 0 {
		minG = 3
	}
	var cands []candidate
	for _, f := range []func(*Report, Context, int) (candidate, bool){diagBody, diagStarved} {
		if cd, ok := f(r, c, minG); ok {
			cands = append(cands, cd)
		}
	}
	cands = append(cands, diagBlocked(r, minG)...)
	for _, f := range []func(*Report, Context, int) (candidate, bool){diagFiles, diagProven} {
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
		// Goroutines not yet run are a backlog of the scheduler, not a leak:
		// the largest growth named is that of goroutines that did run.
		backlog := 0
		var largest *GroupDelta
		for i := range r.Groups {
			if g := &r.Groups[i]; g.notYetRun() {
				backlog += max(g.Delta, 0)
			} else if largest == nil {
				largest = g
			}
		}
		if largest != nil {
			d.Summary = fmt.Sprintf("unknown: no known leak pattern matches; the largest growth is %+d goroutines (%s) in %s",
				largest.Delta, largest.Wait, largest.Top)
		} else if backlog > 0 {
			d.Summary = fmt.Sprintf("unknown: no known leak pattern matches; the growth is %+d goroutines not yet run (a backlog of the scheduler, not blocked)",
				backlog)
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
		if g.Leaked > 0 && g.Delta > 0 && opOf(g) == opNone && (best == nil || g.Leaked > best.Leaked) {
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

// opText is the cause and the wording of each blocking operation: what
// the goroutines do, and what the leak profile proves unreachable.
var opText = map[blockOp]struct {
	cause       Cause
	what, thing string
}{
	opChanSend:       {CauseBlockedChannelSend, "blocked sending on a channel nobody receives from", "channel"},
	opChanRecv:       {CauseBlockedChannelReceive, "blocked receiving from a channel nobody sends on or closes", "channel"},
	opNilChanSend:    {CauseNilChannel, "blocked sending on a nil channel (blocks forever)", "channel"},
	opNilChanRecv:    {CauseNilChannel, "blocked receiving from a nil channel (blocks forever)", "channel"},
	opSelect:         {CauseBlockedSelect, "blocked in a select with no case ready", "channels"},
	opSelectForever:  {CauseEmptySelect, "blocked in select {} (blocks forever)", "select {}"},
	opMutex:          {CauseBlockedMutex, "blocked locking a sync.Mutex", "mutex"},
	opRWWriteReaders: {CauseBlockedRWMutex, "blocked locking a sync.RWMutex for writing while readers hold it", "RWMutex"},
	opRWWriteWriter:  {CauseBlockedRWMutex, "blocked locking a sync.RWMutex for writing while another writer holds it", "RWMutex"},
	opRWRead:         {CauseBlockedRWMutex, "blocked locking a sync.RWMutex for reading while a writer holds or waits for it", "RWMutex"},
	opWaitGroup:      {CauseBlockedWaitGroup, "waiting on a sync.WaitGroup whose counter never reaches zero", "WaitGroup"},
	opCond:           {CauseBlockedCond, "waiting on a sync.Cond never signalled", "Cond"},
}

// blockedGroup is a report group with how it is blocked.
type blockedGroup struct {
	*GroupDelta
	b blocking
}

// siteFrame is the frame that called the blocking operation.
func (bg blockedGroup) siteFrame() (Frame, bool) {
	if bg.b.site < 0 || bg.b.site >= len(bg.Frames) {
		return Frame{}, false
	}
	return bg.Frames[bg.b.site], true
}

// opOf is how g is blocked; a group without frames falls back on its wait
// kind for the channel operations (reports decoded from older JSON).
func opOf(g *GroupDelta) blockOp {
	return blockingOfDelta(g).op
}

func blockingOfDelta(g *GroupDelta) blocking {
	if g.notYetRun() {
		return blocking{site: -1}
	}
	b := blockingOf(&g.Group)
	if b.op == opNone && len(g.Frames) == 0 {
		switch g.Wait {
		case WaitChanSend:
			b.op = opChanSend
		case WaitChanReceive:
			b.op = opChanRecv
		}
	}
	return b
}

// diagBlocked makes one candidate per cause of blocking: for each, the
// group that grew most (a proof lowers the bar of growth, it does not
// replace growth: a leak older than the baseline is not this alert),
// with the other side of the block where the groups show it.
func diagBlocked(r *Report, minG int) []candidate {
	var bgs []blockedGroup
	for i := range r.Groups {
		g := &r.Groups[i]
		if b := blockingOfDelta(g); b.op != opNone {
			bgs = append(bgs, blockedGroup{g, b})
		}
	}
	best := map[Cause]int{}
	var order []Cause
	for i, bg := range bgs {
		if bg.Delta <= 0 || (bg.Delta < minG && bg.Leaked == 0) {
			continue
		}
		cause := opText[bg.b.op].cause
		j, ok := best[cause]
		if !ok {
			order = append(order, cause)
		}
		if !ok || bg.Delta+bg.Leaked > bgs[j].Delta+bgs[j].Leaked {
			best[cause] = i
		}
	}
	var out []candidate
	for _, cause := range order {
		out = append(out, blockedCandidate(r, bgs, best[cause]))
	}
	return out
}

func blockedCandidate(r *Report, bgs []blockedGroup, i int) candidate {
	bg := bgs[i]
	t := opText[bg.b.op]
	cd := candidate{cause: t.cause, score: max(bg.Delta, 0) + bg.Leaked,
		series: []string{"goroutines"}, evidence: []string{groupLine(*bg.GroupDelta)}}
	what := t.what
	if bg.b.op == opMutex && bg.b.api != "" && bg.b.api != "sync.(*Mutex).Lock" {
		what += " (inside " + bg.b.api + ")"
	}
	proof := ""
	switch {
	case bg.Leaked > 0:
		proof = fmt.Sprintf(", %d proven leaked by the goroutineleak profile: the runtime proved the %s they wait on unreachable", bg.Leaked, t.thing)
	case r.LeakProfile:
		cd.evidence = append(cd.evidence, "the goroutineleak profile does not prove them leaked: the "+t.thing+" is still reachable from a live goroutine")
	default:
		cd.evidence = append(cd.evidence, "no goroutineleak profile: the leak is inferred from growth, not proven")
	}
	cd.summary = fmt.Sprintf("%d goroutines (%+d) %s, in %s%s", bg.Count, bg.Delta, what, bg.Top, proof)
	if o := otherSide(r, bgs, i); o.text != "" {
		cd.summary += "; " + o.text
		if o.cause != CauseUnknown {
			cd.cause = o.cause
		}
		for _, g := range o.groups {
			cd.evidence = append(cd.evidence, groupLine(*g))
		}
	}
	return cd
}

// side is what the groups show of the other side of a block: a sentence,
// the groups it rests on, and a cause that replaces the block's own (a
// lock cycle), if any.
type side struct {
	text   string
	cause  Cause
	groups []*GroupDelta
}

// otherSide says who holds, or should release, what group i waits on,
// as far as the stacks show it.
func otherSide(r *Report, bgs []blockedGroup, i int) side {
	w := bgs[i]
	s, ok := w.siteFrame()
	if !ok {
		return side{}
	}
	switch {
	case w.b.op.isLock():
		return lockSide(r, bgs, i, s)
	case w.b.op == opWaitGroup:
		if rel := related(r, w.GroupDelta, s.Function, true); len(rel) > 0 {
			return side{text: fmt.Sprintf("the goroutines it started (%d in %s) are parked (%s), not reaching Done",
				rel[0].Count, rel[0].Top, rel[0].Wait), groups: rel[:1]}
		}
		return side{text: fmt.Sprintf("no goroutine started in %s is parked: Done is likely never called (an Add without its Done)", s.Function)}
	case w.b.op == opChanSend, w.b.op == opChanRecv, w.b.op == opSelect:
		peer, verb := "receiver", "receiving"
		if w.b.op == opChanRecv {
			peer, verb = "sender", "sending"
		}
		if rel := related(r, w.GroupDelta, s.Function, false); len(rel) > 0 {
			return side{text: fmt.Sprintf("the goroutines that could be the %s (%d in %s) are parked elsewhere (%s), not %s",
				peer, rel[0].Count, rel[0].Top, rel[0].Wait, verb), groups: rel[:1]}
		}
		if w.b.op == opSelect {
			return side{}
		}
		for _, o := range bgs {
			if o.GroupDelta != w.GroupDelta && o.Delta > 0 && (o.b.op == opSelect || (o.b.op == opChanSend) == (w.b.op == opChanRecv) && (o.b.op == opChanSend || o.b.op == opChanRecv)) {
				return side{} // a counterpart may be among them: say nothing
			}
		}
		if w.b.op == opChanRecv {
			return side{text: "no goroutine that grew is parked sending: the sender likely returned without closing the channel"}
		}
		return side{text: "no goroutine that grew is parked receiving: the receiver likely returned early (a timeout or an error path)"}
	}
	return side{}
}

// pastSite reports whether g has a frame in the function of site s at a
// later line: a goroutine past the lock call at s, which likely holds it.
func pastSite(g *GroupDelta, s Frame) bool {
	for _, f := range g.Frames {
		if f.Function == s.Function && f.File == s.File && f.Line > s.Line {
			return true
		}
	}
	return false
}

// heldSite is the lock call site of another lock-waiting group that g is
// past: the lock g likely holds.
func heldSite(bgs []blockedGroup, g *GroupDelta) (Frame, bool) {
	for _, o := range bgs {
		if o.GroupDelta == g || !o.b.op.isLock() {
			continue
		}
		if s, ok := o.siteFrame(); ok && pastSite(g, s) {
			return s, true
		}
	}
	return Frame{}, false
}

// lockSide finds the holders of the lock group i waits for at site s:
// groups parked past s. A holder parked on something else is named; a
// holder itself blocked on a lock is followed to a cycle where one shows.
func lockSide(r *Report, bgs []blockedGroup, i int, s Frame) side {
	w := bgs[i]
	if w.b.op == opRWRead || w.b.op == opRWWriteWriter || w.b.op == opRWWriteReaders {
		// A reader past an RLock and read-locking again, behind a writer
		// that waits for the readers to leave: whichever group grew most,
		// that is the block.
		if sd, ok := rwCycle(bgs); ok {
			return sd
		}
	}
	var holders []*GroupDelta
	for j := range r.Groups {
		g := &r.Groups[j]
		if g != w.GroupDelta && !g.notYetRun() && pastSite(g, s) {
			holders = append(holders, g)
		}
	}
	lockIdx := func(g *GroupDelta) int {
		for k, o := range bgs {
			if o.GroupDelta == g && o.b.op.isLock() {
				return k
			}
		}
		return -1
	}
	var lockHolders []int
	for _, h := range holders {
		if k := lockIdx(h); k >= 0 {
			lockHolders = append(lockHolders, k)
			continue
		}
		return side{text: fmt.Sprintf("%d goroutines parked past that lock call in %s, on %s, likely hold it",
			h.Count, h.Top, h.Wait), groups: []*GroupDelta{h}}
	}
	if len(lockHolders) == 0 {
		if w.b.op == opRWWriteWriter {
			for _, o := range bgs {
				if o.b.op == opRWWriteReaders {
					return side{groups: []*GroupDelta{o.GroupDelta},
						text: fmt.Sprintf("%d writers in %s are ahead of them, waiting for the readers to leave", o.Count, o.Top)}
				}
			}
		}
		if w.b.op == opRWWriteReaders {
			return side{text: "no reader is parked holding it: an RUnlock was likely missed on a return path"}
		}
		return side{text: fmt.Sprintf("no goroutine is parked past that lock call in %s: it was likely left locked (an Unlock missed on a return path)", s.Function)}
	}
	a := bgs[lockHolders[0]]
	as, _ := a.siteFrame()
	// Another group past one lock and blocked on a second, elsewhere.
	for k, o := range bgs {
		if k == lockHolders[0] || k == i || !o.b.op.isLock() {
			continue
		}
		os, ok := o.siteFrame()
		if !ok || (os.Function == as.Function && os.Line == as.Line) {
			continue
		}
		if hs, ok := heldSite(bgs, o.GroupDelta); ok && !(hs.Function == s.Function && hs.Line == s.Line) {
			return side{cause: CauseLockCycle, groups: []*GroupDelta{a.GroupDelta, o.GroupDelta},
				text: fmt.Sprintf("lock cycle: %d goroutines hold the lock taken in %s and wait for another at line %d, while %d hold the lock taken in %s and wait for another at line %d: each likely holds the lock the other needs",
					a.Count, s, as.Line, o.Count, hs, os.Line)}
		}
	}
	if a.Count >= 2 {
		return side{cause: CauseLockCycle, groups: []*GroupDelta{a.GroupDelta},
			text: fmt.Sprintf("lock cycle among %d goroutines: each holds the lock taken in %s and waits for another at line %d (two locks taken in opposite orders)",
				a.Count, s, as.Line)}
	}
	return side{groups: []*GroupDelta{a.GroupDelta},
		text: fmt.Sprintf("%d goroutines hold it (past that lock call) and are themselves %s at line %d",
			a.Count, opText[a.b.op].what, as.Line)}
}

// related returns the groups (other than w, parked, largest first) whose
// goroutines are the function fn's closures (started by it), or, unless
// startedOnly, the function that started fn's closure or its other
// closures: the goroutines on the other side of a channel or WaitGroup.
func related(r *Report, w *GroupDelta, fn string, startedOnly bool) []*GroupDelta {
	parent := enclosing(fn)
	var out []*GroupDelta
	for i := range r.Groups {
		g := &r.Groups[i]
		if g == w || g.notYetRun() || g.HasFunction(fn) {
			continue
		}
		for _, f := range g.Frames {
			p := enclosing(f.Function)
			if p == fn && f.Function != fn ||
				!startedOnly && parent != fn && (f.Function == parent || p == parent) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// enclosing is the function a closure is declared in ("pkg.f" for
// "pkg.f.func1", "pkg.f.func1.2" or "pkg.f.gowrap1"); fn itself when it
// is not a closure.
func enclosing(fn string) string {
	for {
		dot := strings.LastIndexByte(fn, '.')
		if dot < 0 || dot < strings.LastIndexByte(fn, '/') {
			return fn
		}
		last := fn[dot+1:]
		digits := strings.TrimPrefix(strings.TrimPrefix(last, "func"), "gowrap")
		if digits == "" || !allDigits(digits) {
			return fn
		}
		fn = fn[:dot]
	}
}

// rwCycle finds a reader group past a lock call and blocked read-locking
// again, and a writer group waiting for the readers to leave.
func rwCycle(bgs []blockedGroup) (side, bool) {
	for _, rd := range bgs {
		if rd.b.op != opRWRead {
			continue
		}
		held, ok := heldSite(bgs, rd.GroupDelta)
		at, ok2 := rd.siteFrame()
		if !ok || !ok2 {
			continue
		}
		for _, wr := range bgs {
			if wr.b.op == opRWWriteReaders {
				return side{cause: CauseLockCycle, groups: []*GroupDelta{rd.GroupDelta, wr.GroupDelta},
					text: fmt.Sprintf("reader-writer cycle on a sync.RWMutex: %d goroutines hold a read lock taken in %s and wait to read-lock again at line %d, behind %d writers in %s waiting for the readers to leave",
						rd.Count, held, at.Line, wr.Count, wr.Top)}, true
			}
		}
	}
	return side{}, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
