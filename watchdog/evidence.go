package watchdog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// EvidenceKind says what an alert's evidence describes, from the alert's series.
type EvidenceKind uint8

const (
	// EvidenceProcess: the whole process, for series of no kind below (heap_bytes, rss_bytes,
	// threads, gauges).
	EvidenceProcess EvidenceKind = iota
	// EvidenceGoroutines: goroutine groups, for the goroutines series.
	EvidenceGoroutines
	// EvidenceDescriptors: descriptor classes and what is open now by kind and target
	// pattern, for the fds series.
	EvidenceDescriptors
	// EvidenceConnections: one HTTP pool's figures and the outbound connections by peer and
	// state, for the pool's series (http_<pool>_*).
	EvidenceConnections
	// EvidenceHeap: the allocation sites whose in-use heap grew since the baseline, for the
	// heap_live_bytes series (see evidence_heap.go).
	EvidenceHeap
)

var evidenceKindNames = [...]string{"process", "goroutines", "descriptors", "connections", "heap"}

// String returns "process", "goroutines", "descriptors", "connections" or "heap".
func (k EvidenceKind) String() string {
	if int(k) < len(evidenceKindNames) {
		return evidenceKindNames[k]
	}
	return fmt.Sprintf("evidence_kind(%d)", uint8(k))
}

// MarshalText encodes the kind as its name.
func (k EvidenceKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind from its name, so that evidence read back from JSON (a snapshot,
// a smoke state file) keeps its kind; it rejects a name that is no kind.
func (k *EvidenceKind) UnmarshalText(b []byte) error {
	for i, n := range evidenceKindNames {
		if string(b) == n {
			*k = EvidenceKind(i)
			return nil
		}
	}
	return fmt.Errorf("watchdog: unknown evidence kind %q (want one of %v)", b, evidenceKindNames)
}

// Evidence is what attribution found for one alert: the goroutine groups and descriptor
// classes that grew since the baseline (taken at Start, and refreshed once a Window after the
// warm-up if no series has left ok by then), what is there now where growth does not
// explain the alert, and a diagnosis that joins them into a likely cause. An fds alert gets
// descriptor evidence, a goroutine alert goroutine evidence, an HTTP pool's alert that pool's
// connections. See package [github.com/leakwatch/leakwatch/watchdog/attribution].
//
// An alert at warning or critical always carries evidence; when no snapshot was taken for it,
// Skipped says why (its series' cooldown, attribution disabled, a full handler queue). A
// resolution of the goroutines or fds series from warning or above carries a snapshot too,
// whose Residue says what the leak left behind.
type Evidence struct {
	// AlertID is the [Alert.ID] of the alert this evidence answers; Series its series.
	AlertID uint64 `json:"alert_id"`
	Series  string `json:"series"`
	// Kind says what the evidence describes, from the series.
	Kind EvidenceKind `json:"kind"`
	// Skipped, when set, says why no snapshot was taken: the other fields are then empty.
	Skipped string `json:"skipped,omitempty"`
	// Diagnosis is the likely cause in one sentence, with the facts behind it; its Cause is
	// "unknown" rather than a guess.
	Diagnosis attribution.Diagnosis `json:"diagnosis"`
	// Report is the diff against the baseline: goroutine groups with their top frame (file:line)
	// and wait kind, descriptor classes, TCP states, and what it cost to collect.
	Report *attribution.Report `json:"report,omitempty"`
	// Descriptors, for descriptor evidence, are the open descriptors now by kind and target
	// pattern, largest first ("/var/log/app/leaked-*.log: 940 regular files").
	Descriptors []attribution.FDPattern `json:"descriptors,omitempty"`
	// Connections, for connection evidence, are the process's outbound connections now by peer
	// and state, largest first.
	Connections []attribution.ConnGroup `json:"connections,omitempty"`
	// Pool, for connection evidence, is the alerting pool's figures and their change since the
	// baseline.
	Pool *attribution.PoolStats `json:"pool,omitempty"`
	// Heap, for heap evidence, is the heap profile diffed against the baseline's: the
	// allocation sites that grew most, the live heap and the goroutine stacks.
	Heap *attribution.HeapReport `json:"heap,omitempty"`
	// Residue, on a resolution or a residue notice, is what remains above the baseline.
	Residue *Residue `json:"residue,omitempty"`
	// Dumps are the files written to Config.Attribution.DumpDir, if any.
	Dumps []string `json:"dumps,omitempty"`
	// DumpError says why the dump was not (fully) written, for example that the process has no
	// descriptor left; the rest of the evidence is complete without it.
	DumpError string `json:"dump_error,omitempty"`
	// Error is set when the snapshot could not be taken.
	Error string `json:"error,omitempty"`
}

// Residue is what a leak left behind: goroutines and descriptors still above the baseline.
type Residue struct {
	// Goroutines and FDs are the totals above the baseline (0 when not above).
	Goroutines int `json:"goroutines"`
	FDs        int `json:"fds"`
	// Groups are the goroutine groups still above the baseline, largest first.
	Groups []attribution.GroupDelta `json:"groups,omitempty"`
	// FDClasses are the descriptor classes still above the baseline, largest first.
	FDClasses []attribution.FDClassDelta `json:"fd_classes,omitempty"`
	// Stuck lists the groups (of Groups) proven leaked by the goroutineleak profile, or blocked
	// sending on a channel (or in select{}) with none of them returned, and no more than a
	// tenth added, between two looks a half Window apart: what a residue notice names.
	Stuck []attribution.GroupDelta `json:"stuck,omitempty"`
	// Summary says it in one sentence.
	Summary string `json:"summary"`
}

// String returns the diagnosis and its evidence lines, or why there is no evidence.
func (e *Evidence) String() string {
	if e == nil {
		return ""
	}
	if e.Skipped != "" {
		return "no evidence: " + e.Skipped
	}
	s := e.Diagnosis.String()
	if e.Residue != nil {
		s += "\n  residue: " + e.Residue.Summary
	}
	for _, d := range e.Descriptors {
		s += "\n  open now: " + d.String()
	}
	for _, c := range e.Connections {
		s += "\n  connection now: " + c.String()
	}
	if e.Heap != nil {
		for _, g := range e.Heap.Grew {
			s += "\n  heap grew: " + g.String()
		}
	}
	if e.DumpError != "" {
		s += "\n  (dump: " + e.DumpError + ")"
	}
	if e.Error != "" {
		s += "\n  (error: " + e.Error + ")"
	}
	return s
}

// MarshalLogObject writes the evidence as zap fields.
func (e *Evidence) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddUint64("alert_id", e.AlertID)
	enc.AddString("kind", e.Kind.String())
	if e.Skipped != "" {
		enc.AddString("skipped", e.Skipped)
		return nil
	}
	enc.AddString("cause", e.Diagnosis.Cause.String())
	enc.AddString("diagnosis", e.Diagnosis.Summary)
	enc.AddString("facts", strings.Join(e.Diagnosis.Evidence, "; "))
	if r := e.Report; r != nil {
		enc.AddInt("goroutines_delta", r.Goroutines.Delta)
		enc.AddInt("fds_delta", r.FDs.Delta)
		// The top entries of the evidence's own kind: an fds alert's log line does not lead
		// with a goroutine group.
		if len(r.Groups) > 0 && e.Kind != EvidenceDescriptors && e.Kind != EvidenceConnections {
			g := r.Groups[0]
			enc.AddString("top_group", fmt.Sprintf("%+d %s (%s)", g.Delta, g.Top, g.Wait))
		}
		if len(r.FDClasses) > 0 && e.Kind != EvidenceGoroutines {
			c := r.FDClasses[0]
			enc.AddString("top_fd_class", fmt.Sprintf("%+d %s %s", c.Delta, c.Kind, c.Class))
		}
		enc.AddFloat64("cost_s", r.Cost.Total.Seconds())
		enc.AddFloat64("max_pause_s", r.Cost.MaxPause.Seconds())
	}
	if len(e.Descriptors) > 0 {
		enc.AddString("open_now", joinStrings(e.Descriptors, 5))
	}
	if len(e.Connections) > 0 {
		enc.AddString("connections_now", joinStrings(e.Connections, 5))
	}
	if h := e.Heap; h != nil {
		enc.AddInt64("heap_live_delta", h.LiveBytes.Delta)
		if len(h.Grew) > 0 {
			enc.AddString("heap_grew", joinStrings(h.Grew, 5))
		}
		enc.AddFloat64("heap_diff_cost_s", h.Cost.Seconds())
	}
	if e.Residue != nil {
		enc.AddString("residue", e.Residue.Summary)
	}
	if len(e.Dumps) > 0 {
		enc.AddString("dumps", strings.Join(e.Dumps, ","))
	}
	if e.DumpError != "" {
		enc.AddString("dump_error", e.DumpError)
	}
	if e.Error != "" {
		enc.AddString("error", e.Error)
	}
	return nil
}

func joinStrings[T fmt.Stringer](xs []T, n int) string {
	var b strings.Builder
	for i, x := range xs {
		if i == n {
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// evidenceKindOf is the kind of evidence that answers an alert on series i, and for a pool's
// series the pool's index.
func (w *Watchdog) evidenceKindOf(i int) (EvidenceKind, int) {
	switch {
	case i == idxGoroutines || i == idxGoroutinesCreated:
		return EvidenceGoroutines, -1
	case i == idxFDs || i == idxFDLimit:
		return EvidenceDescriptors, -1
	case i >= w.pool0 && i < w.gauge0:
		return EvidenceConnections, (i - w.pool0) / len(httpSuffixes)
	case i == idxHeapLive:
		return EvidenceHeap, -1
	}
	return EvidenceProcess, -1
}

// Residue thresholds: a group (and a total) counts as left behind from this many goroutines
// above the baseline.
const residueMin = 10

// attributor holds what attribution needs. base, basePools and the residue state are used on
// the sink goroutine only; baseGoroutines is read by the sampling goroutine.
type attributor struct {
	cfg       AttributionConfig       // with defaults
	fdDir     *os.File                // a /proc/self/fd of its own, opened at Start: FDs are classified even at EMFILE
	net       *attribution.NetHandles // the socket tables' handles, opened at Start for the same reason
	base      *attribution.Snapshot
	baseHeap  *attribution.HeapProfile // the heap profile taken with base (evidence_heap.go)
	basePools []poolFigures
	dumper    *attribution.Dumper
	// baseGoroutines is the baseline's goroutine count, -1 before the baseline.
	baseGoroutines atomic.Int64
	// residue is what the residue watch saw last; noticed is set while a residue notice stands.
	residuePrev  map[string]int
	noticed      []attribution.GroupDelta
	residueAlert atomic.Bool // a residue notice stands (read by the sampling goroutine)
}

type poolFigures struct{ open, active, idle int }

func newAttributor(cfg AttributionConfig, procRoot string) *attributor {
	a := &attributor{cfg: cfg.withDefaults()}
	a.baseGoroutines.Store(-1)
	if procRoot == "" {
		procRoot = "/proc"
	}
	if !cfg.Disabled && runtime.GOOS == "linux" {
		if d, err := os.Open(filepath.Join(procRoot, "self", "fd")); err == nil {
			a.fdDir = d
		}
		if procRoot == "/proc" {
			a.net, _ = attribution.OpenNetHandles(procRoot) // what failed to open is opened per snapshot
		}
	}
	if cfg.DumpDir != "" && !cfg.Disabled {
		a.dumper = &attribution.Dumper{Dir: cfg.DumpDir, MaxFiles: a.cfg.DumpMaxFiles, MaxBytes: a.cfg.DumpMaxBytes}
		_ = a.dumper.Reserve() // without it, a dump at EMFILE fails and says so
	}
	return a
}

func (a *attributor) options(leakProfile bool) attribution.Options {
	o := attribution.DefaultOptions()
	o.MaxGoroutines = a.cfg.MaxGoroutines
	o.LeakProfile = leakProfile
	o.FDDir = a.fdDir
	o.Net = a.net
	o.Overlap = a.cfg.Overlap
	return o
}

func (a *attributor) close() {
	if a.fdDir != nil {
		a.fdDir.Close()
	}
	if a.net != nil {
		a.net.Close()
	}
	if a.dumper != nil {
		a.dumper.Close()
	}
}

// attributionBaseline takes the snapshot later ones are diffed against, and keeps its counts
// (not its stacks or descriptor entries). Sink goroutine.
func (w *Watchdog) attributionBaseline() {
	a := w.attr
	snap, err := attribution.Take(a.options(false))
	if err != nil && snap == nil {
		w.log.Warn("attribution baseline", zap.Error(err))
		return
	}
	a.base = snap.Counts()
	w.heapBaseline()
	a.basePools = a.basePools[:0]
	for _, p := range w.pools {
		s := p.Stats()
		a.basePools = append(a.basePools, poolFigures{int(s.Open), int(s.Active), int(s.Idle)})
	}
	a.baseGoroutines.Store(int64(snap.Goroutines))
	fds := 0
	if snap.FDs != nil {
		fds = snap.FDs.Total
	}
	w.log.Info("attribution baseline", zap.Int("goroutines", snap.Goroutines), zap.Int("fds", fds),
		zap.Float64("cost_s", snap.Cost.Total.Seconds()), zap.Float64("max_pause_s", snap.Cost.MaxPause.Seconds()))
}

// attribute takes a snapshot for alert al, diffs it against the baseline and diagnoses it as
// the kind of evidence that answers al. Sink goroutine.
//
// A panic in it becomes the evidence's error, so the handlers still get the alert.
func (w *Watchdog) attribute(al Alert, leakProfile bool) (ev *Evidence) {
	i := w.index[al.Series]
	kind, pool := w.evidenceKindOf(i)
	defer func() {
		if p := recover(); p != nil {
			ev = &Evidence{
				AlertID: al.ID, Series: al.Series, Kind: kind,
				Error:     fmt.Sprintf("attribution panicked: %v", p),
				Diagnosis: attribution.Diagnosis{Summary: "unknown: the attribution failed"},
			}
			w.log.Error("attribution panicked", zap.String("series", al.Series), zap.Any("panic", p))
		}
	}()
	if testHookAttribute != nil {
		testHookAttribute()
	}
	a := w.attr
	ev = &Evidence{AlertID: al.ID, Series: al.Series, Kind: kind}
	snap, err := attribution.Take(a.options(leakProfile))
	if err != nil {
		ev.Error = err.Error()
		if snap == nil {
			ev.Diagnosis = attribution.Diagnosis{Summary: "unknown: no snapshot could be taken"}
			return ev
		}
	}
	ev.Report = attribution.Diff(a.base, snap)
	ctx := attribution.Context{Series: []attribution.SeriesRate{{Name: al.Series, Level: al.Level, PerMinute: al.RatePerMin}}}
	for j, p := range w.pools {
		if kind == EvidenceConnections && j != pool {
			continue
		}
		st := p.Stats()
		ps := attribution.PoolStats{Name: p.Name(), Open: int(st.Open), Active: int(st.Active), Idle: int(st.Idle), Waiting: int(st.Waiting)}
		if j < len(a.basePools) {
			b := a.basePools[j]
			ps.OpenDelta, ps.ActiveDelta, ps.IdleDelta = ps.Open-b.open, ps.Active-b.active, ps.Idle-b.idle
		}
		ctx.Pools = append(ctx.Pools, ps)
		if kind == EvidenceConnections {
			ev.Pool = &ps
		}
	}
	ev.Diagnosis = diagnoseFor(kind, ev.Report, ctx)
	switch kind {
	case EvidenceDescriptors:
		ev.Descriptors = snap.FDs.Patterns(attribution.DefaultTop)
		if len(ev.Descriptors) > 0 && (ev.Diagnosis.Cause == attribution.CauseUnknown || ev.Report.FDs.Delta < residueMin ||
			al.Cause == CauseLimit || al.Cause == CauseExhaustion) {
			ev.Diagnosis.Evidence = append(ev.Diagnosis.Evidence, "open now: "+joinStrings(ev.Descriptors, 3))
			if ev.Diagnosis.Cause == attribution.CauseUnknown {
				ev.Diagnosis.Summary = fmt.Sprintf("unknown: %d descriptors open (%+d since the baseline); the most are %s",
					ev.Report.FDs.Current, ev.Report.FDs.Delta, ev.Descriptors[0])
			}
		}
	case EvidenceConnections:
		ev.Connections = snap.FDs.Connections(attribution.DefaultTop, true)
		if len(ev.Connections) > 0 {
			ev.Diagnosis.Evidence = append(ev.Diagnosis.Evidence, "outbound connections now: "+joinStrings(ev.Connections, 3))
		}
		if p := ev.Pool; p != nil && ev.Diagnosis.Cause == attribution.CauseUnknown {
			ev.Diagnosis.Summary = fmt.Sprintf("unknown: pool %q has %d open, %d active, %d idle connections and %d waiting requests (open %+d, idle %+d since the baseline)",
				p.Name, p.Open, p.Active, p.Idle, p.Waiting, p.OpenDelta, p.IdleDelta)
		}
	}
	if kind == EvidenceHeap {
		w.heapEvidence(ev)
	}
	if al.Level == LevelOK {
		ev.Residue = residueOf(ev.Report, nil)
	}
	w.dump(ev, snap)
	w.attributions.Add(1)
	w.attributionNanos.Store(int64(ev.Report.Cost.Total))
	return ev
}

// dump writes the snapshot and ev's report to the dump directory, if one is set.
func (w *Watchdog) dump(ev *Evidence, snap *attribution.Snapshot) {
	if w.attr.dumper == nil {
		return
	}
	files, err := w.attr.dumper.Dump(snap, ev.Report)
	ev.Dumps = files
	if err != nil {
		ev.DumpError = err.Error()
		if len(files) == 0 {
			ev.DumpError = "not written: " + ev.DumpError
		}
	}
}

// diagnoseFor diagnoses r for evidence of kind k: a cause that does not explain the kind (a
// goroutine leak for an fds alert, files for a goroutine alert, either for a pool's alert) is
// set aside, and the report diagnosed again without the part that suggested it.
func diagnoseFor(k EvidenceKind, r *attribution.Report, ctx attribution.Context) attribution.Diagnosis {
	d := attribution.Diagnose(r, ctx)
	switch k {
	case EvidenceDescriptors:
		switch d.Cause {
		case attribution.CauseBlockedChannelSend, attribution.CauseBlockedChannelReceive, attribution.CauseProvenGoroutineLeak:
			other := d
			r2 := *r
			r2.Groups = nil
			d = attribution.Diagnose(&r2, ctx)
			d.Evidence = append(d.Evidence, "also seen, not the descriptors' cause ("+other.Cause.String()+"): "+other.Summary)
		}
	case EvidenceConnections:
		switch d.Cause {
		case attribution.CauseBlockedChannelSend, attribution.CauseBlockedChannelReceive,
			attribution.CauseProvenGoroutineLeak, attribution.CauseFileNotClosed:
			other := d
			r2 := *r
			r2.FDClasses, r2.Groups = nil, nil
			for _, g := range r.Groups { // net/http's own goroutines tell of the pool's connections
				if slices.ContainsFunc(g.Frames, func(f attribution.Frame) bool { return strings.HasPrefix(f.Function, "net/http.") }) {
					r2.Groups = append(r2.Groups, g)
				}
			}
			d = attribution.Diagnose(&r2, ctx)
			d.Evidence = append(d.Evidence, "also seen, not the pool's cause ("+other.Cause.String()+"): "+other.Summary)
		}
	case EvidenceGoroutines:
		if d.Cause == attribution.CauseFileNotClosed {
			other := d
			r2 := *r
			r2.FDClasses = nil
			d = attribution.Diagnose(&r2, ctx)
			d.Evidence = append(d.Evidence, "also seen, not the goroutines' cause ("+other.Cause.String()+"): "+other.Summary)
		}
	}
	return d
}

// residueOf is what r shows above its baseline; stuck, when set, are the groups the residue
// watch found stuck.
func residueOf(r *attribution.Report, stuck []attribution.GroupDelta) *Residue {
	res := &Residue{Goroutines: max(r.Goroutines.Delta, 0), FDs: max(r.FDs.Delta, 0), Stuck: stuck}
	for _, g := range r.Groups {
		if g.Delta > 0 {
			res.Groups = append(res.Groups, g)
		}
	}
	for _, c := range r.FDClasses {
		if c.Delta > 0 {
			res.FDClasses = append(res.FDClasses, c)
		}
	}
	var parts []string
	if res.Goroutines > 0 {
		s := fmt.Sprintf("%d goroutines remain above the baseline", res.Goroutines)
		if len(res.Groups) > 0 {
			g := res.Groups[0]
			s += fmt.Sprintf(", the most %+d %s in %s", g.Delta, g.Wait, g.Top)
		}
		parts = append(parts, s)
	}
	if res.FDs > 0 {
		s := fmt.Sprintf("%d descriptors remain above the baseline", res.FDs)
		if len(res.FDClasses) > 0 {
			c := res.FDClasses[0]
			s += fmt.Sprintf(", the most %+d %s %s", c.Delta, c.Kind, c.Class)
		}
		parts = append(parts, s)
	}
	res.Summary = strings.Join(parts, "; ")
	if res.Summary == "" {
		res.Summary = "nothing remains above the baseline"
	}
	return res
}

// attachEvidence records ev on the kept copy of the alert with ID id.
func (w *Watchdog) attachEvidence(id uint64, ev *Evidence) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.alerts {
		if x := &w.alerts[i]; x.ID == id {
			x.Evidence = ev
		}
	}
}

// evidencePlan is the sampling goroutine's attribution state.
type evidencePlan struct {
	last      []time.Time // per series: when its last snapshot was planned
	lastID    []uint64    // per series: the alert that got it
	lastLevel []Level     // per series: that alert's level
	episode   bool        // some series is above ok since the last episode began
	started   bool        // the baseline is queued
	settled   bool        // Warmup + Window has passed (the baseline refreshed or kept)
	raised    bool        // some series left ok since Start
	mid       [2]float64  // goroutines and fds half a Window after the warm-up
	midTaken  bool
	nextLook  time.Time // the residue watch's next look
}

// planAttribution decides, on the sampling goroutine, whether alert al (on series i) gets a
// snapshot: level warning or critical, or a resolution of goroutines or fds from warning or
// above; attribution enabled; and the series' cooldown elapsed, or al's level above the level
// of the alert that got the series' last snapshot (an escalation from warning to critical is
// not held back: the critical alert gets evidence of its own, and starts the cooldown again).
// skipped says why not when al should have had evidence. The first snapshot of an episode (from the first warning until
// every series is back at ok) also collects the goroutineleak profile where the runtime has
// it, since that costs a garbage collection.
func (w *Watchdog) planAttribution(al Alert, now time.Time) (take, leakProfile bool, skipped string) {
	i, ok := w.index[al.Series]
	if !ok {
		return false, false, ""
	}
	resolution := al.Level == LevelOK && al.Previous >= LevelWarning && (i == idxGoroutines || i == idxFDs)
	if al.Level < LevelWarning && !resolution {
		return false, false, ""
	}
	if w.cfg.Attribution.Disabled {
		return false, false, "attribution is disabled (Config.Attribution.Disabled)"
	}
	p := &w.attributionPlan
	if p.last == nil {
		p.last, p.lastID, p.lastLevel = make([]time.Time, len(w.names)), make([]uint64, len(w.names)), make([]Level, len(w.names))
	}
	if cd := w.attr.cfg.Cooldown; !resolution && !p.last[i].IsZero() && now.Sub(p.last[i]) < cd && al.Level <= p.lastLevel[i] {
		return false, false, fmt.Sprintf("%s is within its %v cooldown: the last snapshot for it was taken %v ago, for alert %d (%v)",
			al.Series, cd, now.Sub(p.last[i]).Round(time.Millisecond), p.lastID[i], p.lastLevel[i])
	}
	if !resolution {
		p.last[i], p.lastID[i], p.lastLevel[i] = now, al.ID, al.Level
		leakProfile = !p.episode
		p.episode = true
	}
	return true, leakProfile, ""
}

// evidenceTick runs on the sampling goroutine after every tick: it queues the baseline at the
// first tick, and refreshes it once, a Window after the warm-up, if no series has left ok by
// then and goroutines and descriptors grew over the last half Window by no more than their
// notice rate allows (or residueMin) and are below 90% of their limit: the start-up fills the warm-up protects have ended and
// are left out of later diffs, while a leak present from start keeps the baseline from Start,
// so that its evidence shows its full growth. With no warm-up there is no refresh. It ends an alert episode once every series is back at ok;
// and every half Window, while the goroutines series is at ok (growth stopped) and above the
// baseline by residueMin or more, it queues a look for goroutines left behind.
func (w *Watchdog) evidenceTick(now time.Time) {
	if w.cfg.Attribution.Disabled {
		return
	}
	p := &w.attributionPlan
	if !p.started {
		p.started = w.sink.post(w.attributionBaseline)
	}
	quiet := true
	for i := range w.eng.series {
		if w.eng.series[i].level > LevelOK {
			quiet, p.raised = false, true
		}
	}
	if since := now.Sub(w.started); p.started && !p.settled && w.cfg.Warmup > 0 {
		switch {
		case !p.midTaken && since >= w.cfg.Warmup+w.cfg.Window/2:
			p.mid, p.midTaken = [2]float64{w.vals[idxGoroutines], w.vals[idxFDs]}, true
		case p.midTaken && since >= w.cfg.Warmup+w.cfg.Window:
			p.settled = true
			if !p.raised && w.flatSince(p.mid) {
				p.settled = w.sink.post(w.attributionBaseline)
			}
		}
	}
	if p.episode && quiet {
		p.episode = false
	}
	if base := w.attr.baseGoroutines.Load(); base >= 0 && !now.Before(p.nextLook) {
		p.nextLook = now.Add(max(w.cfg.Window/2, w.cfg.Interval))
		g := w.vals[idxGoroutines]
		over := g >= float64(base+residueMin) && w.eng.series[idxGoroutines].level == LevelOK
		if over || w.attr.residueAlert.Load() {
			w.sink.post(w.lookForResidue)
		}
	}
}

// flatSince reports whether goroutines and fds, which were mid half a Window ago, grew since by
// no more than their rule's notice rate (else warning rate) over that time, or residueMin, and
// are below 90% of their limit (a leak held at the limit is flat too).
func (w *Watchdog) flatSince(mid [2]float64) bool {
	for k, i := range [2]int{idxGoroutines, idxFDs} {
		r := w.cfg.Rules[w.names[i]]
		rate := r.NoticePerMin
		if rate <= 0 {
			rate = r.WarningPerMin
		}
		allow := max(float64(residueMin), rate*(w.cfg.Window/2).Minutes())
		now := w.vals[i]
		if now-mid[k] > allow { // NaN (unread) compares false: flat
			return false
		}
		if lim := w.lims[i]; lim > 0 && now >= 0.9*lim { // flat against a limit is no fill
			return false
		}
	}
	return true
}

// lookForResidue takes a goroutine snapshot and compares it with the baseline and with the
// last look: groups above the baseline by residueMin or more that the goroutineleak profile
// proves leaked, or that are blocked sending on a channel (or in select{}) and neither shrank
// nor grew by more than a tenth since the last look, raise a residue notice naming them; once the groups named are back
// within residueMin of the baseline, the notice is resolved. Sink goroutine.
func (w *Watchdog) lookForResidue() {
	a := w.attr
	if a.base == nil {
		return
	}
	// The leak profile costs a garbage collection: only when the last look found candidates.
	o := a.options(attribution.LeakProfileAvailable() && len(a.noticed) == 0 && len(a.residuePrev) > 0)
	o.FDs = false
	snap, err := attribution.Take(o)
	if err != nil || !snap.Grouped {
		return
	}
	r := attribution.Diff(a.base, snap)
	if len(a.noticed) > 0 {
		cur := map[string]int{}
		for _, g := range snap.Groups {
			cur[g.Key] += g.Count
		}
		left := 0
		for _, g := range a.noticed {
			left += max(cur[g.Key]-g.Base, 0)
		}
		if left < residueMin {
			names := stuckNames(a.noticed)
			a.noticed, a.residuePrev = nil, nil
			a.residueAlert.Store(false)
			w.raiseFromSink(Alert{Series: SeriesGoroutines, Level: LevelOK, Previous: LevelNotice, Cause: CauseNone,
				Value: float64(snap.Goroutines), Baseline: float64(r.Goroutines.Base),
				Reason: fmt.Sprintf("the goroutines left behind are gone (%s): %d left above the baseline", names, left)}, nil)
		}
		return
	}
	prev := a.residuePrev
	a.residuePrev = map[string]int{}
	var stuck []attribution.GroupDelta
	for _, g := range r.Groups {
		if g.Delta < residueMin {
			continue
		}
		blocked := g.Wait == attribution.WaitChanSend || g.HasFunction("runtime.block")
		if !blocked && g.Leaked == 0 {
			continue
		}
		a.residuePrev[g.Key] = g.Count
		// Stuck: proven, or none returned and the growth stopped (at most 10% more).
		if n, seen := prev[g.Key]; g.Leaked > 0 || seen && g.Count >= n && g.Count <= n+n/10 {
			stuck = append(stuck, g)
		}
	}
	if len(stuck) == 0 {
		return
	}
	a.noticed = stuck
	a.residueAlert.Store(true)
	res := residueOf(r, stuck)
	total := 0
	for _, g := range stuck {
		total += g.Delta
	}
	how := "blocked, none returned over the last half window"
	if stuck[0].Leaked > 0 {
		how = "proven leaked by the goroutineleak profile"
	}
	ev := &Evidence{Series: SeriesGoroutines, Kind: EvidenceGoroutines, Report: r, Residue: res,
		Diagnosis: attribution.Diagnosis{Cause: attribution.CauseUnknown,
			Summary: fmt.Sprintf("%d goroutines left behind above the baseline, %s: %s", total, how, stuckNames(stuck))}}
	ev.Diagnosis.Evidence = []string{res.Summary}
	w.raiseFromSink(Alert{Series: SeriesGoroutines, Level: LevelNotice, Previous: LevelOK, Cause: CauseResidue,
		Value: float64(snap.Goroutines), Baseline: float64(r.Goroutines.Base),
		Reason: ev.Diagnosis.Summary}, ev)
}

// stuckNames names the groups: "+400 chan send in pkg.f (f.go:12), ...".
func stuckNames(gs []attribution.GroupDelta) string {
	var b strings.Builder
	for i, g := range gs {
		if i == 3 {
			fmt.Fprintf(&b, " and %d more groups", len(gs)-3)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%+d %s in %s", g.Delta, g.Wait, g.Top)
	}
	return b.String()
}

// raiseFromSink raises an alert the watchdog makes from the evidence (a residue notice or its
// resolution), on the sink goroutine: it gets the next ID, is kept for the snapshot, logged and
// handed to the handlers.
func (w *Watchdog) raiseFromSink(al Alert, ev *Evidence) {
	al.ID = w.alertSeq.Add(1)
	al.Time = w.clock.Now()
	al.Window = w.cfg.Window
	if ev != nil {
		ev.AlertID = al.ID
		al.Evidence = ev
	}
	func() {
		w.mu.Lock()
		defer w.mu.Unlock() // a panic never leaves it held
		w.alerts[w.nAlerts%len(w.alerts)] = al
		w.nAlerts++
		w.alertsTotal[al.Level]++
	}()
	w.log.Check(al.logLevel(), "alert").Write(al.zapFields()...)
	w.callHandlers(al)
}

// testHookAttribute, when a test sets it, runs first in attribute.
var testHookAttribute func()
