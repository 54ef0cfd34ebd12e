package watchdog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// SmokeStatus is the state of a smoke run, as /smoke and [Watchdog.SmokeReport] show it.
type SmokeStatus string

// The states of a smoke run.
const (
	// SmokeNone: no run was started since the watchdog started (and none was found in the
	// state file).
	SmokeNone SmokeStatus = "none"
	// SmokeRunning: a run is warming up or taking checkpoints.
	SmokeRunning SmokeStatus = "running"
	// SmokePassed: the run finished and every must-have criterion holds.
	SmokePassed SmokeStatus = "passed"
	// SmokeFailed: the run finished (or was stopped early) and a must-have criterion does not
	// hold; [SmokeReport.Reasons] says which.
	SmokeFailed SmokeStatus = "failed"
)

// Errors of [Watchdog.StartSmoke].
var (
	// ErrSmokeRunning is returned by StartSmoke (and answered 409 by POST /smoke) while a run
	// is going: one run at a time.
	ErrSmokeRunning = errors.New("watchdog: a smoke run is already running")
	// ErrStopped is returned by StartSmoke once the watchdog has stopped.
	ErrStopped = errors.New("watchdog: stopped")
)

// StartSmoke starts a smoke run with c (Enabled is ignored): the baseline is taken at the first
// tick after c.Warmup, then a checkpoint every c.Checkpoint until c.Duration has passed, each
// line written to Config.SmokeOutput and logged as it happens. A finished run stays readable
// with [Watchdog.SmokeReport] until the next one starts.
//
// It returns an error wrapping [ErrInvalidConfig] for a bad c (zero durations are not
// defaulted here: start from [DefaultSmokeConfig]), [ErrSmokeRunning] while a run is going,
// [ErrStopped] after Stop, and the error of creating c.ResultsDir (mode 0700) when that fails.
// With c.StateFile set, a run in progress recorded there by an earlier process is not resumed
// by StartSmoke (only [Start] resumes) and is overwritten at the new run's baseline. Safe for
// concurrent use.
func (w *Watchdog) StartSmoke(c SmokeConfig) error {
	var p problems
	c.validate(&p, w.cfg.Interval)
	if err := p.err(); err != nil {
		return err
	}
	if c.ResultsDir != "" {
		if err := os.MkdirAll(c.ResultsDir, 0o700); err != nil {
			return fmt.Errorf("watchdog: smoke results dir: %w", err)
		}
	}
	s := w.smoke()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.run != nil && s.run.status == SmokeRunning {
		return ErrSmokeRunning
	}
	s.begin(w, newSmokeRun(c, w.clock.Now(), w.poolNames()))
	return nil
}

// SmokeReport returns the current or last smoke run: its checkpoints so far, the criteria as
// they stand (final once the run has finished), the verdict and, for a failed run, the series
// that grew and the alerts raised during it. Status is [SmokeNone] when there is none. The
// report is a copy the caller owns. Safe for concurrent use and after Stop.
func (w *Watchdog) SmokeReport() SmokeReport {
	s := w.smoke()
	now := w.clock.Now()
	s.mu.Lock()
	if s.run == nil {
		defer s.mu.Unlock()
		return SmokeReport{Status: SmokeNone, Notes: append([]string(nil), s.notes...)}
	}
	r := s.run.report(now)
	r.Notes = append(append([]string(nil), s.notes...), r.Notes...)
	s.mu.Unlock()
	// Attribution fills an alert's evidence on another goroutine, possibly after the run took
	// its copy: take it from the snapshot.
	var snap []Alert
	for i, a := range r.Alerts {
		if a.Evidence != nil || a.Level < LevelWarning {
			continue
		}
		if snap == nil {
			snap = w.Snapshot().Alerts
		}
		for _, b := range snap {
			if b.Evidence != nil && b.Series == a.Series && b.Time.Equal(a.Time) && b.Level == a.Level {
				r.Alerts[i].Evidence = b.Evidence
			}
		}
	}
	return r
}

// smokeState is a watchdog's smoke state. It holds no reference to the watchdog.
type smokeState struct {
	mu      sync.Mutex
	run     *smokeRun // current or last run; nil when none
	notes   []string  // notes from Start (a state file set aside)
	io      *smokeIO  // writer goroutine; nil until a run needs one
	stopped bool
	log     *zap.Logger
}

// smoke returns the watchdog's smoke state (the field smokeSt).
func (w *Watchdog) smoke() *smokeState {
	s := &w.smokeSt
	s.mu.Lock()
	if s.log == nil {
		s.log = w.log
	}
	s.mu.Unlock()
	return s
}

// poolNames returns the names of the watchdog's HTTP pools.
func (w *Watchdog) poolNames() []string {
	var n []string
	for _, p := range w.pools {
		n = append(n, p.Name())
	}
	return n
}

// initSmoke runs at Start, before the sampling goroutine: it loads the state file (resuming a
// run in progress, counting the restart), or starts the configured run.
func (w *Watchdog) initSmoke() error {
	c := w.cfg.Smoke
	if !c.Enabled && c.StateFile == "" {
		return nil
	}
	if c.Enabled && c.ResultsDir != "" {
		if err := os.MkdirAll(c.ResultsDir, 0o700); err != nil {
			return fmt.Errorf("watchdog: smoke results dir: %w", err)
		}
	}
	s := w.smoke()
	now := w.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.StateFile != "" {
		st, note := loadSmokeState(c.StateFile, now)
		if note != "" {
			s.notes = append(s.notes, note)
			w.log.Warn("smoke state file set aside", zap.String("path", c.StateFile), zap.String("note", note))
		}
		if st != nil {
			r := st.run(c, w.poolNames(), now)
			if r.status == SmokeRunning {
				s.begin(w, r)
				return nil
			}
			s.run = r // the last run stays readable
		}
	}
	if c.Enabled {
		s.begin(w, newSmokeRun(c, now, w.poolNames()))
	}
	return nil
}

// smokeTick advances the run on the sampling goroutine: nothing but a lock and two time
// comparisons between checkpoints.
func (w *Watchdog) smokeTick(now time.Time) {
	s := &w.smokeSt
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	if r == nil || r.status != SmokeRunning {
		return
	}
	if r.baselineAt.IsZero() {
		if now.Before(r.started.Add(r.cfg.Warmup)) {
			return
		}
		s.baseline(w, r, now)
		return
	}
	for r.next < r.n {
		i := r.next + 1
		if now.Before(r.dueAt(i)) {
			return
		}
		if i < r.n && !now.Before(r.dueAt(i+1)) {
			s.missed(w, r, i)
			continue
		}
		s.checkpoint(w, r, i, now)
		if i == r.n {
			s.finish(w, r, now, "")
		}
		return
	}
}

// smokeStop runs when the sampling goroutine ends: a run still going is ended (failed, as it
// did not complete; with a state file the next Start resumes it) and the writer is drained.
func (w *Watchdog) smokeStop() {
	s := w.smoke()
	s.mu.Lock()
	s.stopped = true
	if r := s.run; r != nil && r.status == SmokeRunning {
		now := w.clock.Now()
		how := fmt.Sprintf("the watchdog stopped after %s of %s", durLabel(r.elapsed(now)), durLabel(r.cfg.Duration))
		if r.cfg.StateFile != "" {
			how += fmt.Sprintf("; the run is kept in %s and resumes at the next Start", r.cfg.StateFile)
		}
		s.finish(w, r, now, how)
	}
	io := s.io
	s.mu.Unlock()
	if io != nil {
		if !io.stop(hookGrace) {
			w.log.Error("smoke output writer did not return within 5s of Stop; its goroutine is left behind")
		}
	}
}

// begin makes r the current run and writes its first lines. s.mu is held.
func (s *smokeState) begin(w *Watchdog, r *smokeRun) {
	s.run = r
	if s.io == nil && (w.cfg.SmokeOutput != nil || r.cfg.StateFile != "" || r.cfg.ResultsDir != "") {
		s.io = startSmokeIO(w.cfg.SmokeOutput, w.log)
	}
	if r.restarts > 0 && len(r.lines) > 0 {
		s.emit(w, r, fmt.Sprintf("Resumed: %s (restart %d)", r.stamp(r.resumedAt), r.restarts))
		w.log.Warn("smoke run resumed after a restart", zap.Int("restarts", r.restarts),
			zap.Time("started", r.started), zap.Time("baseline_at", r.baselineAt))
		return
	}
	w.log.Info("smoke run started", zap.Duration("duration", r.cfg.Duration),
		zap.Duration("checkpoint", r.cfg.Checkpoint), zap.Duration("warmup", r.cfg.Warmup),
		zap.Int("checkpoints", r.n))
	s.emit(w, r, fmt.Sprintf("=== Connection Pool Smoke Test (%s) ===", durLabel(r.cfg.Duration)))
	s.emit(w, r, "Start: "+r.stamp(r.started))
	s.emit(w, r, "Getting baseline...")
}

// emit appends a line to the run's output and hands it to the writer.
func (s *smokeState) emit(w *Watchdog, r *smokeRun, line string) {
	r.lines = append(r.lines, line)
	if s.io != nil && w.cfg.SmokeOutput != nil {
		s.io.output(line)
	}
}

func (s *smokeState) baseline(w *Watchdog, r *smokeRun, now time.Time) {
	r.baselineAt = now
	r.baseline = w.smokeSample(now)
	r.baseVals = make(map[string]float64, len(w.names))
	for i, n := range w.names {
		if x := w.vals[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			r.baseVals[n] = x
		}
	}
	s.emit(w, r, "Baseline: GOR="+count(r.baseline.Goroutines, true)+" FD="+count(r.baseline.FDs, r.baseline.FDsAvailable))
	s.emit(w, r, "")
	w.log.Info("smoke baseline", zap.Float64("goroutines", r.baseline.Goroutines),
		zap.Float64("fds", r.baseline.FDs), zap.Bool("http_available", r.baseline.HTTP != nil))
	s.saveState(r)
}

func (s *smokeState) missed(w *Watchdog, r *smokeRun, i int) {
	cp := SmokeCheckpoint{Index: i, Of: r.n, Label: durLabel(r.offset(i)), Elapsed: r.offset(i), Missed: true}
	cp.Time = r.dueAt(i)
	r.cps = append(r.cps, cp)
	r.next = i
	s.emit(w, r, fmt.Sprintf("[%d/%d] %s: missed (no sample; the process was down or the watchdog stalled)", i, r.n, cp.Label))
	w.log.Warn("smoke checkpoint missed", zap.Int("index", i), zap.Int("of", r.n), zap.String("label", cp.Label))
}

func (s *smokeState) checkpoint(w *Watchdog, r *smokeRun, i int, now time.Time) {
	cp := SmokeCheckpoint{Index: i, Of: r.n, Label: durLabel(r.offset(i)), Elapsed: now.Sub(r.baselineAt)}
	cp.SmokeSample = w.smokeSample(now)
	cp.derive(r.baseline)
	r.cps = append(r.cps, cp)
	r.next = i
	s.emit(w, r, cp.line())
	f := []zap.Field{
		zap.Int("index", i), zap.Int("of", r.n), zap.String("label", cp.Label),
		zap.Duration("elapsed", cp.Elapsed),
		zap.Float64("goroutines", cp.Goroutines), zap.Float64("goroutine_growth", cp.GoroutineGrowth),
		zap.Float64("goroutine_rate_per_min", round2(cp.GoroutineRatePerMin)),
	}
	if cp.FDsAvailable {
		f = append(f, zap.Float64("fds", cp.FDs), zap.Float64("fd_growth", cp.FDGrowth),
			zap.Float64("fd_rate_per_min", round2(cp.FDRatePerMin)))
	}
	if h := cp.HTTP; h != nil {
		f = append(f, zap.Float64("http_requests", h.Requests), zap.Float64("http_idle", h.Idle),
			zap.Float64("http_active", h.Active), zap.Float64("http_reuse_ratio", round2(h.ReuseRatio)))
	}
	w.log.Info("smoke checkpoint", f...)
	if i < r.n {
		s.saveState(r)
	}
}

// finish ends the run: the verdict, the evidence, the closing line, the state and results
// files. stopped, when not empty, says why the run ended before its duration.
func (s *smokeState) finish(w *Watchdog, r *smokeRun, now time.Time, stopped string) {
	r.completed = now
	r.stoppedWhy = stopped
	final := make(map[string]float64, len(w.names))
	for i, n := range w.names {
		if x := w.vals[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			final[n] = x
		}
	}
	snap := w.Snapshot()
	r.growth = growthEvidence(r, final, snap)
	for _, a := range snap.Alerts {
		if !a.Time.Before(r.started) && !a.Time.After(now) {
			r.alerts = append(r.alerts, a)
		}
	}
	crit, passed, reasons := r.evaluate(true)
	r.criteria, r.reasons = crit, reasons
	r.status = SmokeFailed
	if passed {
		r.status = SmokePassed
	}
	s.emit(w, r, "")
	if stopped != "" {
		s.emit(w, r, "Stopped: "+r.stamp(now))
	} else {
		s.emit(w, r, "Complete: "+r.stamp(now))
	}
	lvl := w.log.Info
	if !passed {
		lvl = w.log.Warn
	}
	lvl("smoke run finished", zap.String("status", string(r.status)), zap.String("verdict", r.verdict()),
		zap.Strings("reasons", reasons), zap.Int("restarts", r.restarts), zap.Int("checkpoints", len(r.cps)))
	if stopped != "" && r.cfg.StateFile != "" {
		return // the state file keeps the run for the next Start; results come when it finishes
	}
	s.saveState(r)
	if r.cfg.ResultsDir != "" && s.io != nil {
		rep := r.report(now)
		files, err := resultFiles(rep, snap, r.cfg.ResultsDir, r.started.In(r.loc))
		if err != nil {
			w.log.Error("smoke results", zap.Error(err))
			return
		}
		for _, f := range files {
			r.resultPaths = append(r.resultPaths, f.path)
		}
		s.io.results(files)
	}
}

// saveState hands the run's state to the writer (atomic write), when a state file is set.
func (s *smokeState) saveState(r *smokeRun) {
	if r.cfg.StateFile == "" || s.io == nil {
		return
	}
	b, err := encodeSmokeState(r)
	if err != nil {
		s.log.Error("smoke state", zap.Error(err))
		return
	}
	s.io.state(r.cfg.StateFile, b)
}

// smokeSample reads the run's figures from the values of the current tick (sampling
// goroutine only).
func (w *Watchdog) smokeSample(now time.Time) SmokeSample {
	x := SmokeSample{Time: now, Goroutines: w.vals[idxGoroutines]}
	if f := w.vals[idxFDs]; !math.IsNaN(f) {
		x.FDs, x.FDsAvailable = f, true
	}
	if math.IsNaN(x.Goroutines) {
		x.Goroutines = 0
	}
	if len(w.pools) == 0 {
		return x
	}
	var h SmokeHTTP
	var reuseW float64
	for k := range w.pools {
		v := w.vals[w.pool0+k*len(httpSuffixes):]
		for j := range httpSuffixes {
			if math.IsNaN(v[j]) {
				return x // not available at this checkpoint
			}
		}
		h.Requests += v[0]
		h.Errors += v[1]
		h.Responses5xx += v[2]
		h.Open += v[3]
		h.Active += v[4]
		h.Idle += v[5]
		h.ReuseRatio += v[6] * v[0]
		reuseW += v[0]
		h.Waiting += v[7]
	}
	if reuseW > 0 {
		h.ReuseRatio /= reuseW
	}
	x.HTTP = &h
	return x
}
