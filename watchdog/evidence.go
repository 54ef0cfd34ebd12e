package watchdog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// Evidence is what attribution found when a series reached warning or critical: the goroutine
// groups and descriptor classes that grew since the baseline taken after warm-up, and a
// diagnosis that joins them into a likely cause. See package
// [github.com/leakwatch/leakwatch/watchdog/attribution].
type Evidence struct {
	// Diagnosis is the likely cause in one sentence, with the facts behind it; its Cause is
	// "unknown" rather than a guess.
	Diagnosis attribution.Diagnosis `json:"diagnosis"`
	// Report is the diff against the baseline: goroutine groups with their top frame (file:line)
	// and wait kind, descriptor classes, TCP states, and what it cost to collect.
	Report *attribution.Report `json:"report,omitempty"`
	// Dumps are the files written to Config.Attribution.DumpDir, if any.
	Dumps []string `json:"dumps,omitempty"`
	// Error is set when the snapshot could not be taken or dumped.
	Error string `json:"error,omitempty"`
}

// String returns the diagnosis and its evidence lines.
func (e *Evidence) String() string {
	if e == nil {
		return ""
	}
	s := e.Diagnosis.String()
	if e.Error != "" {
		s += "\n  (error: " + e.Error + ")"
	}
	return s
}

// MarshalLogObject writes the evidence as zap fields.
func (e *Evidence) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("cause", e.Diagnosis.Cause.String())
	enc.AddString("diagnosis", e.Diagnosis.Summary)
	enc.AddString("facts", strings.Join(e.Diagnosis.Evidence, "; "))
	if r := e.Report; r != nil {
		enc.AddInt("goroutines_delta", r.Goroutines.Delta)
		enc.AddInt("fds_delta", r.FDs.Delta)
		if len(r.Groups) > 0 {
			g := r.Groups[0]
			enc.AddString("top_group", fmt.Sprintf("%+d %s (%s)", g.Delta, g.Top, g.Wait))
		}
		if len(r.FDClasses) > 0 {
			c := r.FDClasses[0]
			enc.AddString("top_fd_class", fmt.Sprintf("%+d %s %s", c.Delta, c.Kind, c.Class))
		}
		enc.AddDuration("cost", r.Cost.Total)
		enc.AddDuration("max_pause", r.Cost.MaxPause)
	}
	if len(e.Dumps) > 0 {
		enc.AddString("dumps", strings.Join(e.Dumps, ","))
	}
	if e.Error != "" {
		enc.AddString("error", e.Error)
	}
	return nil
}

// attributor runs on the sink goroutine only: it holds the baseline snapshot and the pools'
// figures at that time.
type attributor struct {
	cfg       AttributionConfig
	fdDir     *os.File // a /proc/self/fd of its own, opened at Start: FDs are classified even at EMFILE
	base      *attribution.Snapshot
	basePools []poolFigures
	dumper    *attribution.Dumper
}

type poolFigures struct{ open, active, idle int }

func newAttributor(cfg AttributionConfig, procRoot string) *attributor {
	a := &attributor{cfg: cfg}
	if procRoot == "" {
		procRoot = "/proc"
	}
	if !cfg.Disabled && runtime.GOOS == "linux" {
		if d, err := os.Open(filepath.Join(procRoot, "self", "fd")); err == nil {
			a.fdDir = d
		}
	}
	if cfg.DumpDir != "" {
		a.dumper = &attribution.Dumper{Dir: cfg.DumpDir, MaxFiles: cfg.DumpMaxFiles, MaxBytes: cfg.DumpMaxBytes}
	}
	return a
}

func (a *attributor) options(leakProfile bool) attribution.Options {
	o := attribution.DefaultOptions()
	o.MaxGoroutines = a.cfg.MaxGoroutines
	if o.MaxGoroutines == 0 {
		o.MaxGoroutines = attribution.DefaultMaxGoroutines
	}
	o.LeakProfile = leakProfile
	o.FDDir = a.fdDir
	o.Overlap = a.cfg.Overlap
	return o
}

func (a *attributor) close() {
	if a.fdDir != nil {
		a.fdDir.Close()
	}
}

// baseline takes the snapshot later ones are diffed against. Sink goroutine.
func (w *Watchdog) attributionBaseline() {
	a := w.attr
	snap, err := attribution.Take(a.options(false))
	if err != nil && snap == nil {
		w.log.Warn("attribution baseline", zap.Error(err))
		return
	}
	a.base = snap
	a.basePools = a.basePools[:0]
	for _, p := range w.pools {
		s := p.Stats()
		a.basePools = append(a.basePools, poolFigures{int(s.Open), int(s.Active), int(s.Idle)})
	}
	w.log.Info("attribution baseline", zap.Int("goroutines", snap.Goroutines),
		zap.Duration("cost", snap.Cost.Total), zap.Duration("max_pause", snap.Cost.MaxPause))
}

// attribute takes a snapshot for alert al, diffs it against the baseline and diagnoses it.
// Sink goroutine.
//
// A panic in it becomes the evidence's error, so the handlers still get the alert.
func (w *Watchdog) attribute(al Alert, leakProfile bool) (ev *Evidence) {
	defer func() {
		if p := recover(); p != nil {
			ev = &Evidence{
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
	ev = &Evidence{}
	snap, err := attribution.Take(a.options(leakProfile))
	if err != nil {
		ev.Error = err.Error()
		if snap == nil {
			ev.Diagnosis = attribution.Diagnosis{Summary: "unknown: no snapshot could be taken"}
			return ev
		}
	}
	ev.Report = attribution.Diff(a.base, snap)
	ctx := attribution.Context{}
	s := w.Snapshot()
	for _, x := range s.Series {
		if x.Level > LevelOK || x.Name == al.Series {
			ctx.Series = append(ctx.Series, attribution.SeriesRate{Name: x.Name, Level: x.Level.String(), PerMinute: x.RatePerMin})
		}
	}
	for i, p := range w.pools {
		st := p.Stats()
		ps := attribution.PoolStats{Name: p.Name(), Open: int(st.Open), Active: int(st.Active), Idle: int(st.Idle), Waiting: int(st.Waiting)}
		if i < len(a.basePools) {
			b := a.basePools[i]
			ps.OpenDelta, ps.ActiveDelta, ps.IdleDelta = ps.Open-b.open, ps.Active-b.active, ps.Idle-b.idle
		}
		ctx.Pools = append(ctx.Pools, ps)
	}
	ev.Diagnosis = attribution.Diagnose(ev.Report, ctx)
	if a.dumper != nil {
		files, err := a.dumper.Dump(snap, ev.Report)
		ev.Dumps = files
		if err != nil {
			ev.Error = strings.TrimPrefix(ev.Error+"; "+err.Error(), "; ")
		}
	}
	w.attributions.Add(1)
	w.attributionNanos.Store(int64(ev.Report.Cost.Total))
	return ev
}

// attachEvidence records ev on the kept copy of alert al (matched by series and time).
func (w *Watchdog) attachEvidence(al Alert, ev *Evidence) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.alerts {
		if x := &w.alerts[i]; x.Series == al.Series && x.Time.Equal(al.Time) && x.Level == al.Level {
			x.Evidence = ev
		}
	}
}

// planAttribution decides, on the sampling goroutine, whether alert al gets a snapshot: level
// warning or critical, attribution enabled, and the cooldown elapsed. The first snapshot of an
// episode (from the first warning until every series is back at ok) also collects the
// goroutineleak profile where the runtime has it, since that costs a garbage collection.
func (w *Watchdog) planAttribution(al Alert, now time.Time) (take, leakProfile bool) {
	if w.cfg.Attribution.Disabled || al.Level < LevelWarning {
		return false, false
	}
	if !w.lastAttribution.IsZero() && now.Sub(w.lastAttribution) < w.cfg.Attribution.Cooldown {
		return false, false
	}
	w.lastAttribution = now
	leakProfile = !w.episode
	w.episode = true
	return true, leakProfile
}

// testHookAttribute, when a test sets it, runs first in attribute.
var testHookAttribute func()
