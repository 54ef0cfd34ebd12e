package watchdog

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// StartSmoke starts a smoke run with c (Enabled is ignored): the baseline is taken at the first
// tick after c.Warmup, then a checkpoint every c.Checkpoint until c.Duration has passed, each
// line written to the [WithSmokeOutput] writer and logged as it happens. The criteria judge
// against the configured rules ([SmokeTargets]). A finished run stays readable with
// [Watchdog.SmokeReport] until the next one starts, and is handed to the [OnSmokeDone]
// callbacks.
//
// Zero durations in c mean their defaults, as in [SmokeConfig]. It returns an error wrapping
// [ErrInvalidConfig] for a bad c, [ErrSmokeRunning] while a run is going,
// [ErrStopped] after Stop, and the error of creating c.ResultsDir (mode 0700) when that fails.
// With c.StateFile set, a run in progress recorded there by an earlier process is not resumed
// by StartSmoke (only [Start] resumes) and is overwritten at the new run's baseline; a state
// file that another live process owns, or that cannot be used (see the package's Reliability),
// is left alone and the run kept in memory, as its report says. Safe for concurrent use.
func (w *Watchdog) StartSmoke(c SmokeConfig) error {
	c = c.withDefaults()
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
	return w.smokeSt.start(c, w.clock.Now())
}

// SmokeReport returns the current or last smoke run: its checkpoints so far, the criteria as
// they stand (final once the run has finished; pending while they cannot be judged yet), the
// verdict and the series that grew and the alerts raised during it. Status is [SmokeNone]
// when there is none. The report is a copy the caller owns. Safe for concurrent use and after
// Stop.
func (w *Watchdog) SmokeReport() SmokeReport {
	r := w.smokeSt.report(w.clock.Now())
	if needEvidence(r.Alerts) {
		fillEvidence(r.Alerts, w.Snapshot().Alerts)
	}
	return r
}

// needEvidence reports whether an alert that attribution may explain has no evidence yet.
func needEvidence(alerts []Alert) bool {
	for _, a := range alerts {
		if a.Evidence == nil && a.Level >= LevelWarning {
			return true
		}
	}
	return false
}

// fillEvidence copies into alerts the evidence that attribution attached, on another
// goroutine, to the snapshot's copies (from) after the run took its own. An alert and its copy
// are matched by [Alert.ID], which is unique within the watchdog (a run keeps no alert across
// a restart); an alert without an ID gets nothing.
func fillEvidence(alerts, from []Alert) {
	byID := make(map[uint64]*Evidence, len(from))
	for _, b := range from {
		if b.ID != 0 && b.Evidence != nil {
			byID[b.ID] = b.Evidence
		}
	}
	for i, a := range alerts {
		if a.Evidence != nil || a.Level < LevelWarning || a.ID == 0 {
			continue
		}
		if ev, ok := byID[a.ID]; ok {
			alerts[i].Evidence = ev
		}
	}
}

// WithSmokeOutput writes the smoke run's output lines (the seed's checkpoint format) to out as
// they happen, on a goroutine of its own through a queue of at most 1 MiB: a writer that
// blocks delays neither sampling nor the state and results files (lines it cannot take are
// dropped, counted and logged; Stop waits for it within its one 5 s grace, and when the
// writer has not taken every line by then Stop's error says how many were lost, and the log
// too); one whose Write panics is recovered and logged (the lines it was given are lost).
// Without it the lines still reach the logger, [Watchdog.SmokeReport] and /smoke. A
// nil writer is ignored.
func WithSmokeOutput(out io.Writer) Option {
	return optionFunc(func(o *options) {
		if out != nil {
			o.smokeOut = out
		}
	})
}

// OnSmokeDone adds a callback called once with the final report of every smoke run that
// finishes (passed, failed, or ended by Stop), after its result files, if any, are written: a
// caller waits for a run through it instead of polling. Callbacks run in order on a goroutine
// of their own, never on the sampling goroutine: one that blocks holds up only the callbacks
// of later runs (at most 64 runs wait; beyond, a run's report is dropped and logged), never a
// state file or results; one that panics is recovered and logged; Stop waits at most 5 s for
// them, and its error says when one has not returned. A nil callback is ignored.
func OnSmokeDone(fn func(SmokeReport)) Option {
	return optionFunc(func(o *options) {
		if fn != nil {
			o.smokeDone = append(o.smokeDone, fn)
		}
	})
}

// smokeFigures are the counts a smoke run reads at one tick. HTTP figures are summed over the
// pools; httpOK is false without a pool or when one of its series could not be read.
type smokeFigures struct {
	goroutines float64 // NaN when not read
	fds        float64
	fdsOK      bool
	http       SmokeHTTP
	httpOK     bool
}

// smokeFiguresOf reads the figures from a tick's values: v holds the built-in series first,
// then the httpSuffixes series of npools pools from pool0.
func smokeFiguresOf(v []float64, pool0, npools int) smokeFigures {
	f := smokeFigures{goroutines: v[idxGoroutines], fds: v[idxFDs]}
	f.fdsOK = !math.IsNaN(f.fds)
	if npools == 0 {
		return f
	}
	var reuseW float64
	for k := range npools {
		p := v[pool0+k*len(httpSuffixes):]
		for j := range httpSuffixes {
			if math.IsNaN(p[j]) {
				return f // not available at this tick
			}
		}
		h := &f.http
		h.Requests += p[0]
		h.Errors += p[1]
		h.Responses5xx += p[2]
		h.Open += p[3]
		h.Active += p[4]
		h.Idle += p[5]
		h.ReuseRatio += p[6] * p[0]
		reuseW += p[0]
		h.Waiting += p[7]
	}
	if reuseW > 0 {
		f.http.ReuseRatio /= reuseW
	}
	f.httpOK = true
	return f
}

// smokeInput is all a smoke run gets from the sampling goroutine, once per tick: the time, the
// counts, the values of every series (in the order of the names the state was given; valid
// during the call only, read at the baseline and at the end), the alerts raised on this tick,
// and the snapshot for the end of a run.
type smokeInput struct {
	now      time.Time
	fig      smokeFigures
	values   []float64
	alerts   []Alert
	snapshot func() Snapshot
}

// smokeState is a watchdog's smoke state. It holds no reference to the watchdog: the sampling
// goroutine hands it a [smokeInput] each tick and at Stop.
type smokeState struct {
	// Set at Start, read-only after.
	names   []string // of the series, in the order of smokeInput.values
	pools   []string
	targets SmokeTargets
	log     *zap.Logger
	out     io.Writer
	onDone  []func(SmokeReport)

	mu      sync.Mutex
	run     *smokeRun  // current or last run; nil when none
	notes   []string   // notes from Start (a state file set aside)
	io      *smokeIO   // writer goroutine; nil until a run needs one
	lock    *smokeLock // of the state file in use; nil when none
	stopped bool
}

// initSmoke runs at Start, before the sampling goroutine: it sets up the smoke state, loads
// the state file (resuming a run in progress, counting the restart), or starts the configured
// run.
func (w *Watchdog) initSmoke() error {
	w.smokeSnap = w.Snapshot
	s := &w.smokeSt
	s.names, s.log, s.out, s.onDone = w.names, w.log, w.opts.smokeOut, w.opts.smokeDone
	for _, p := range w.pools {
		s.pools = append(s.pools, p.Name())
	}
	s.targets = smokeTargetsFrom(w.cfg.Rules, s.pools)
	c := w.cfg.Smoke
	if !c.Enabled && c.StateFile == "" {
		return nil
	}
	if c.Enabled && c.ResultsDir != "" {
		if err := os.MkdirAll(c.ResultsDir, 0o700); err != nil {
			return fmt.Errorf("watchdog: smoke results dir: %w", err)
		}
	}
	now := w.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	memOnly := ""
	if c.StateFile != "" {
		var st *smokeStateFile
		st, memOnly = s.claim(c.StateFile, now)
		if st != nil {
			r := st.run(c, s.pools, s.targets, now)
			if r.rep.Status == SmokeRunning {
				s.begin(r)
				return nil
			}
			s.run = r // the last run stays readable
		}
	}
	if c.Enabled {
		r := newSmokeRun(c, now, s.pools, s.targets)
		if memOnly != "" {
			r.inMemory(memOnly)
		}
		s.begin(r)
	}
	return nil
}

// claim takes the state file path for this watchdog: its lock (held until Stop), then its
// content. It returns the state found there, if any, and, when the file cannot be used, why
// (the run then stays in memory). What it notices is noted for the report and logged. s.mu is
// held.
func (s *smokeState) claim(path string, now time.Time) (*smokeStateFile, string) {
	if s.lock == nil || s.lock.path != path {
		s.lock.release()
		s.lock = nil
		lk, note := lockStateFile(path)
		if lk == nil {
			s.addNote(note)
			s.log.Warn("smoke state file not used", zap.String("path", path), zap.String("note", note))
			return nil, note
		}
		s.lock = lk
		removeStaleTemps(path)
	}
	st, note, usable := loadSmokeState(path, now)
	if note != "" {
		s.addNote(note)
		s.log.Warn("smoke state file set aside", zap.String("path", path), zap.String("note", note))
	}
	if !usable {
		return nil, note
	}
	return st, ""
}

// smokeMaxNotes bounds the notes a watchdog or a run keeps (the newest): a crash loop must
// not grow them, or the state file, without bound.
const smokeMaxNotes = 32

// addNote adds a note of the watchdog's own (shown with every run's), keeping the newest.
func (s *smokeState) addNote(n string) { s.notes = appendNote(s.notes, n) }

func appendNote(notes []string, n string) []string {
	if len(notes) >= smokeMaxNotes {
		notes = append(notes[:0], notes[len(notes)-smokeMaxNotes+1:]...)
	}
	return append(notes, n)
}

// inMemory marks a run whose state file cannot be used (why): it runs and reports as usual but
// is not saved, so it does not survive a restart. Its output says so.
func (r *smokeRun) inMemory(why string) {
	r.cfg.StateFile = ""
	r.memOnly = why + "; this run is kept in memory only and does not survive a restart"
}

func (s *smokeState) start(c SmokeConfig, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.run != nil && s.run.rep.Status == SmokeRunning {
		return ErrSmokeRunning
	}
	r := newSmokeRun(c, now, s.pools, s.targets)
	if c.StateFile != "" {
		// A run found there is not resumed (only Start resumes); it is overwritten at the
		// baseline. A file that cannot be used keeps the run in memory.
		if _, why := s.claim(c.StateFile, now); why != "" {
			r.inMemory(why)
		}
	}
	s.begin(r)
	return nil
}

func (s *smokeState) report(now time.Time) SmokeReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return SmokeReport{Status: SmokeNone, Notes: append([]string(nil), s.notes...)}
	}
	r := s.run.report(now)
	r.Notes = append(append([]string(nil), s.notes...), r.Notes...)
	return r
}

// reportWithChart is report with a copy of the run's chart series.
func (s *smokeState) reportWithChart(now time.Time) (SmokeReport, *smokeChart) {
	return s.report(now), s.chart()
}

func (s *smokeState) chart() *smokeChart {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return s.run.chart.clone()
	}
	return nil
}

// step advances the run on the sampling goroutine: between checkpoints, nothing but a lock,
// the chart's column and two time comparisons. It never blocks.
func (s *smokeState) step(in *smokeInput) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	if r == nil || r.rep.Status != SmokeRunning {
		return
	}
	now := in.now
	r.chart.add(now, &in.fig)
	for _, a := range in.alerts {
		if len(r.rep.Alerts) == smokeMaxAlerts {
			r.rep.Alerts = append(r.rep.Alerts[:0], r.rep.Alerts[1:]...)
		}
		r.rep.Alerts = append(r.rep.Alerts, a)
	}
	if r.rep.BaselineAt.IsZero() {
		if now.Before(r.rep.Started.Add(r.rep.Warmup)) {
			return
		}
		s.baseline(r, in)
		return
	}
	for r.next < r.n {
		i := r.next + 1
		if now.Before(r.dueAt(i)) {
			return
		}
		if i < r.n && !now.Before(r.dueAt(i+1)) {
			s.missed(r, i)
			continue
		}
		s.checkpoint(r, i, in)
		if i == r.n {
			s.finish(r, in, "")
		}
		return
	}
}

// end runs when the sampling goroutine ends: it marks s stopped and finishes a run still
// going (failed, as it did not complete; with a state file the next Start resumes it). It
// returns the writer to drain ([smokeIO.stop]), nil when there is none.
func (s *smokeState) end(in *smokeInput) *smokeIO {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if r := s.run; r != nil && r.rep.Status == SmokeRunning {
		how := fmt.Sprintf("the watchdog stopped after %s of %s", durLabel(r.elapsed(in.now)), durLabel(r.rep.Duration))
		if r.cfg.StateFile != "" {
			how += fmt.Sprintf("; the run is kept in %s and resumes at the next Start", r.cfg.StateFile)
		}
		s.finish(r, in, how)
	}
	return s.io
}

// smokeMaxResumeLines bounds the "Resumed:" lines of a run: a crash loop is counted in
// Restarts, not printed without bound.
const smokeMaxResumeLines = 16

// begin makes r the current run and writes its first lines. s.mu is held.
func (s *smokeState) begin(r *smokeRun) {
	s.run = r
	if s.io == nil && (s.out != nil || len(s.onDone) > 0 || r.cfg.StateFile != "" || r.cfg.ResultsDir != "") {
		s.io = startSmokeIO(s.out, s.log, len(s.onDone) > 0)
	}
	if r.rep.Restarts > 0 && len(r.rep.Lines) > 0 {
		switch {
		case r.rep.Restarts < smokeMaxResumeLines:
			s.emit(r, fmt.Sprintf("Resumed: %s (restart %d)", r.stamp(r.resumedAt), r.rep.Restarts))
		case r.rep.Restarts == smokeMaxResumeLines:
			s.emit(r, fmt.Sprintf("Resumed: %s (restart %d; later restarts are counted, not printed)", r.stamp(r.resumedAt), r.rep.Restarts))
		}
		s.log.Warn("smoke run resumed after a restart", zap.Int("restarts", r.rep.Restarts),
			zap.Time("started", r.rep.Started), zap.Time("baseline_at", r.rep.BaselineAt))
		s.saveState(r) // the restart counts even if the process dies before the next checkpoint
		return
	}
	s.log.Info("smoke run started", zap.Float64("duration_s", r.rep.Duration.Seconds()),
		zap.Float64("checkpoint_s", r.rep.Checkpoint.Seconds()), zap.Float64("warmup_s", r.rep.Warmup.Seconds()),
		zap.Int("checkpoints", r.n))
	s.emit(r, fmt.Sprintf("=== Connection Pool Smoke Test (%s) ===", durLabel(r.rep.Duration)))
	s.emit(r, "Start: "+r.stamp(r.rep.Started))
	if r.memOnly != "" {
		s.emit(r, "Note: "+r.memOnly)
		r.rep.Notes = appendNote(r.rep.Notes, r.memOnly)
		s.log.Warn("smoke run kept in memory only", zap.String("note", r.memOnly))
	}
	s.emit(r, "Getting baseline...")
}

// release releases the state file's lock, at the end of Stop once the writer is done.
func (s *smokeState) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lock.release()
	s.lock = nil
}

// emit appends a line to the run's output and hands it to the writer.
func (s *smokeState) emit(r *smokeRun, line string) {
	line = textSafe(line)
	r.rep.Lines = append(r.rep.Lines, line)
	if s.io != nil && s.out != nil {
		s.io.output(line)
	}
}

// valueMap returns the finite values of in, by series name.
func (s *smokeState) valueMap(in *smokeInput) map[string]float64 {
	m := make(map[string]float64, len(s.names))
	for i, n := range s.names {
		if i < len(in.values) {
			if x := in.values[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
				m[n] = x
			}
		}
	}
	return m
}

// sample converts a tick's figures to the sample a baseline or checkpoint keeps.
func (f *smokeFigures) sample(now time.Time) SmokeSample {
	x := SmokeSample{Time: now, Goroutines: f.goroutines, FDs: f.fds, FDsAvailable: f.fdsOK}
	if math.IsNaN(x.Goroutines) {
		x.Goroutines = 0
	}
	if !f.fdsOK {
		x.FDs = 0
	}
	if f.httpOK {
		h := f.http
		x.HTTP = &h
	}
	return x
}

func (s *smokeState) baseline(r *smokeRun, in *smokeInput) {
	r.rep.BaselineAt = in.now
	b := in.fig.sample(in.now)
	r.rep.Baseline = &b
	r.baseVals = s.valueMap(in)
	s.emit(r, "Baseline: GOR="+count(b.Goroutines, true)+" FD="+count(b.FDs, b.FDsAvailable))
	s.emit(r, "")
	s.log.Info("smoke baseline", zap.Float64("goroutines", b.Goroutines),
		zap.Float64("fds", b.FDs), zap.Bool("http_available", b.HTTP != nil))
	s.saveState(r)
}

func (s *smokeState) missed(r *smokeRun, i int) {
	cp := SmokeCheckpoint{Index: i, Of: r.n, Label: durLabel(r.offset(i)), Elapsed: r.offset(i), Missed: true}
	cp.Time = r.dueAt(i)
	r.rep.Checkpoints = append(r.rep.Checkpoints, cp)
	r.next = i
	s.emit(r, fmt.Sprintf("[%d/%d] %s: missed (no sample; the process was down or the watchdog stalled)", i, r.n, cp.Label))
	s.log.Warn("smoke checkpoint missed", zap.Int("index", i), zap.Int("of", r.n), zap.String("label", cp.Label))
}

func (s *smokeState) checkpoint(r *smokeRun, i int, in *smokeInput) {
	now := in.now
	cp := SmokeCheckpoint{Index: i, Of: r.n, Label: durLabel(r.offset(i)), Elapsed: now.Sub(r.rep.BaselineAt)}
	cp.SmokeSample = in.fig.sample(now)
	cp.derive(*r.rep.Baseline)
	r.rep.Checkpoints = append(r.rep.Checkpoints, cp)
	r.next = i
	s.emit(r, cp.line())
	f := []zap.Field{
		zap.Int("index", i), zap.Int("of", r.n), zap.String("label", cp.Label),
		zap.Float64("elapsed_s", cp.Elapsed.Seconds()),
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
	s.log.Info("smoke checkpoint", f...)
	if i < r.n {
		s.saveState(r)
	}
}

// finish ends the run: the verdict, the evidence, the closing line, the state and results
// files, the completion callbacks. stopped, when not empty, says why the run ended before its
// duration.
func (s *smokeState) finish(r *smokeRun, in *smokeInput, stopped string) {
	now := in.now
	r.rep.Completed = now
	r.stoppedWhy = stopped
	snap := in.snapshot()
	fillEvidence(r.rep.Alerts, snap.Alerts)
	r.rep.Growth = growthEvidence(r, s.valueMap(in), snap)
	crit, passed, reasons := r.evaluate(true)
	r.rep.Criteria, r.rep.Reasons = crit, reasons
	r.rep.Status = SmokeFailed
	if passed {
		r.rep.Status = SmokePassed
	}
	s.emit(r, "")
	if stopped != "" {
		s.emit(r, "Stopped: "+r.stamp(now))
	} else {
		s.emit(r, "Complete: "+r.stamp(now))
	}
	lvl := s.log.Info
	if !passed {
		lvl = s.log.Warn
	}
	lvl("smoke run finished", zap.String("status", string(r.rep.Status)), zap.String("verdict", r.verdict()),
		zap.Strings("reasons", reasons), zap.Int("restarts", r.rep.Restarts), zap.Int("checkpoints", len(r.rep.Checkpoints)))
	kept := stopped != "" && r.cfg.StateFile != "" // the state file keeps the run for the next Start
	if !kept {
		s.saveState(r)
	}
	withFiles := r.cfg.ResultsDir != "" && s.io != nil && !kept
	if withFiles {
		s.io.runResults(smokeResults{dir: r.cfg.ResultsDir, ts: r.rep.Started.In(r.loc).Format("20060102_150405"),
			rep: r.report(now), snap: snap, named: func(paths []string) {
				s.mu.Lock()
				defer s.mu.Unlock()
				r.rep.ResultFiles = paths
			}})
	}
	if len(s.onDone) > 0 && s.io != nil {
		rep := r.report(now)
		rep.Notes = append(append([]string(nil), s.notes...), rep.Notes...)
		s.io.completed(rep, s.onDone, withFiles)
	}
}

// saveState hands what the run's state gained since the last save to the writer (which
// writes the whole state atomically), when a state file is set. Its cost does not grow with
// the run's length.
func (s *smokeState) saveState(r *smokeRun) {
	if r.cfg.StateFile == "" || s.io == nil {
		return
	}
	s.io.stateDelta(stateDelta(r))
}
