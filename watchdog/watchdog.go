package watchdog

import (
	"context"
	"errors"
	"fmt"
	"github.com/leakwatch/leakwatch/internal/name"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// Watchdog samples the process and judges its series. It is created by [Start] and stopped by
// [Watchdog.Stop] or by cancelling Start's context. All methods are safe for concurrent use, and
// [Watchdog.Snapshot] and [Watchdog.History] keep working after Stop.
type Watchdog struct {
	cfg    Config
	opts   options
	log    *zap.Logger
	clock  Clock
	names  []string
	index  map[string]int
	nBuilt int // built-in series come first

	// Owned by the sampling goroutine.
	eng             *engine
	rt              *runtimeProbe
	osp             *osProbe
	vals            []float64
	fresh           []float64 // vals as read this tick: the held slow ones are NaN (unread)
	lims            []float64
	errs            []error
	gauges          *gaugeRunner
	gauge0          int     // index of the first gauge series
	pool0           int     // index of the first HTTP pool series
	slowEvery       uint64  // ticks between two reads of the slow probes (RSS, FD limit)
	rss, fdLimit    float64 // their last reads
	heap            *liveHeapProbe
	heapLive        float64 // the last live heap read (NaN before one)
	heapCycles      uint64  // the collections completed at that read
	pools           []*httppool.Pool
	sink            *sink
	handlers        []*handlerRunner
	sampler         *worker
	rec             *recorder
	attributionPlan evidencePlan // attribution: baseline, cooldowns, residue watch (evidence.go)
	attr            *attributor

	mu          sync.Mutex // guards the fields below
	hist        *history
	snapVals    []float64
	snapLims    []float64
	series      []seriesState
	alerts      []Alert // ring of recent alerts
	nAlerts     int
	alertsTotal [LevelCritical + 1]uint64
	started     time.Time
	lastTick    time.Time
	ticks       uint64
	cost        Cost
	running     bool
	stopErr     error

	alertSeq         atomic.Uint64 // the last Alert.ID given
	attributions     atomic.Uint64
	attributionNanos atomic.Int64
	probeErrors      atomic.Uint64
	handlerPanics    atomic.Uint64
	handlerDropped   atomic.Uint64
	tickPanics       atomic.Uint64
	logPanics        atomic.Uint64

	smokeSt   smokeState      // smoke runs: see smoke.go
	smokeSnap func() Snapshot // w.Snapshot bound once (a method value per tick would allocate)

	cancel       context.CancelFunc
	done         chan struct{}
	stopOnce     sync.Once
	stopAt       atomic.Pointer[time.Time] // the first Stop call's time (monotonic), nil before
	shuttingDown chan struct{}             // closed when the sampling goroutine begins its shutdown
}

type seriesState struct {
	level      Level
	cause      Cause
	since      time.Time
	rate       float64
	ready      bool
	baseline   float64
	exhaustion time.Duration
	errs       uint64
	lastErr    string
}

// Start validates cfg, opens what the probes need (on Linux one descriptor for /proc/self/fd
// and one for /proc/self/statm, held until Stop) and starts the sampling goroutine, which takes a
// first sample at once and then one every cfg.Interval until ctx is done or Stop is called.
//
// Every configuration problem is reported together in one error wrapping [ErrInvalidConfig];
// then nothing is started. Probe failures are not errors here: they show in the snapshot.
func Start(ctx context.Context, cfg Config, opts ...Option) (*Watchdog, error) {
	if ctx == nil {
		return nil, fmt.Errorf("%w: nil context", ErrInvalidConfig)
	}
	w := &Watchdog{cfg: cfg.withDefaults(), opts: options{clock: systemClock{}}}
	for _, o := range opts {
		if o != nil {
			o.apply(&w.opts)
		}
	}
	var p problems
	w.cfg.validate(&p)
	w.names = builtinSeries()
	w.nBuilt = len(w.names)
	w.index = make(map[string]int)
	for i, n := range w.names {
		w.index[n] = i
	}
	w.pool0 = len(w.names)
	pools := map[string]bool{}
	rules := make(map[string]Rule, len(w.cfg.Rules))
	for n, r := range w.cfg.Rules {
		rules[n] = r
	}
	for _, pl := range w.opts.pools {
		if pools[pl.Name()] {
			p.addf("HTTP pool %q given twice", pl.Name())
			continue
		}
		pools[pl.Name()] = true
		w.pools = append(w.pools, pl)
		for _, suf := range httpSuffixes {
			w.index[HTTPSeries(pl.Name(), suf)] = len(w.names)
			w.names = append(w.names, HTTPSeries(pl.Name(), suf))
		}
		for n, r := range HTTPRules(pl.Name()) {
			if _, set := rules[n]; !set {
				rules[n] = r
			}
		}
	}
	w.cfg.Rules = rules
	w.gauge0 = len(w.names)
	for _, g := range w.opts.gauges {
		switch {
		case !name.Valid(g.name):
			p.addf("gauge %q: name must match %s", g.name, name.Pattern)
		case g.fn == nil:
			p.addf("gauge %q: nil function", g.name)
		case g.name == "t" || strings.HasSuffix(g.name, "_limit"):
			// A recording's columns are t, the series, then NAME_limit for the limits, and
			// Replay reads a column NAME_limit as NAME's limit: such a gauge would be recorded
			// twice or replayed as a limit.
			p.addf("gauge %q: \"t\" and names ending in \"_limit\" are reserved for a recording's time and limit columns", g.name)
		default:
			if _, dup := w.index[g.name]; dup {
				p.addf("gauge %q: a series of that name exists already", g.name)
				continue
			}
			w.index[g.name] = len(w.names)
			w.names = append(w.names, g.name)
		}
	}
	if len(p) == 0 {
		eng, err := newEngine(w.cfg, w.names)
		if err != nil {
			return nil, err
		}
		w.eng = eng
	}
	if err := p.err(); err != nil {
		return nil, err
	}

	w.log = w.opts.logger
	if w.log == nil {
		w.log = zap.NewNop()
	}
	w.log = guardLogger(w.log.Named("watchdog"), &w.logPanics)
	w.clock = w.opts.clock
	n := len(w.names)
	w.vals, w.fresh, w.lims, w.errs = nanSlice(n), nanSlice(n), nanSlice(n), make([]error, n)
	w.snapVals, w.snapLims = nanSlice(n), nanSlice(n)
	w.series = make([]seriesState, n)
	w.hist = newHistory(w.cfg.HistorySize, n)
	w.alerts = make([]Alert, w.cfg.RecentAlerts)
	w.rt = newRuntimeProbe()
	w.heap, w.heapLive = newLiveHeapProbe(), math.NaN()
	w.slowEvery = uint64(max(1, slowPeriod/w.cfg.Interval))
	w.osp = newOSProbe(w.opts.procRoot)
	if len(w.opts.gauges) > 0 {
		w.gauges = newGaugeRunner(w.opts.gauges)
	}
	if w.cfg.Record.Path != "" {
		rec, err := newRecorder(w.cfg.Record, w.names)
		if err != nil {
			w.osp.close()
			if w.gauges != nil {
				w.gauges.stop()
			}
			return nil, err
		}
		w.rec = rec
	}
	w.sink = newSink(w.cfg.AlertQueue)
	panicked := func(a Alert, r any) {
		w.handlerPanics.Add(1)
		w.log.Error("alert handler panicked", zap.String("series", a.Series), zap.Any("panic", r))
	}
	for _, h := range w.opts.handlers {
		w.handlers = append(w.handlers, newHandlerRunner(h, w.cfg.AlertQueue, panicked))
	}
	w.attr = newAttributor(w.cfg.Attribution, w.opts.procRoot)
	if err := w.initSmoke(); err != nil {
		w.sink.stop()
		for _, h := range w.handlers {
			h.stop()
		}
		w.attr.close() // nothing was posted: the sink goroutine does not use it
		if w.gauges != nil {
			w.gauges.stop()
		}
		if w.rec != nil {
			w.rec.close()
		}
		w.osp.close()
		return nil, err
	}
	w.started = w.clock.Now()
	w.running = true
	w.done = make(chan struct{})
	w.shuttingDown = make(chan struct{})
	w.sampler = newWorker()
	ctx, w.cancel = context.WithCancel(ctx)
	go w.run(ctx)
	return w, nil
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// Stop ends the sampling goroutine and waits for it to exit, lets the handlers deliver the
// alerts already queued and closes the watchdog's descriptors. It is idempotent and safe to call
// from any goroutine, also concurrently, after the context was cancelled, and from inside an
// alert handler or a gauge (it then does not wait for that handler or gauge, which finishes
// once it returns).
//
// Stop returns within 5 s of its first call whatever the user's code does: handlers, gauges,
// the smoke output writer and the smoke completion callbacks share one 5 s grace, and one that
// has not returned by then is left behind (its goroutine ends when it returns; it holds no
// descriptor) and reported in the error (for the smoke writer, with the lines lost). If the sampling
// goroutine itself is held inside a tick (a logger whose Write blocks), Stop returns an error
// at the bound and the goroutine releases the resources when it gets free. Called on the
// sampling goroutine itself (from the logger), Stop cannot wait: it ends the sampling and
// returns nil at once.
func (w *Watchdog) Stop() error {
	w.stopOnce.Do(func() {
		at := time.Now()
		w.stopAt.Store(&at)
		w.cancel()
	})
	gid := goid()
	if w.sampler.stopFrom(gid) {
		return nil
	}
	w.sink.stopFrom(gid)
	for _, h := range w.handlers {
		h.stopFrom(gid)
	}
	if w.gauges != nil {
		for _, k := range w.gauges.workers() {
			k.stopFrom(gid)
		}
	}
	tm := time.NewTimer(time.Until(w.stopAt.Load().Add(hookGrace)))
	defer tm.Stop()
	select {
	case <-w.done:
	case <-tm.C:
		select {
		case <-w.shuttingDown: // its waits end at the same bound: only the closes remain
			<-w.done
		default:
			return errors.New("watchdog: the sampling goroutine did not stop within 5s of Stop (a logger or writer it called blocks); it releases the watchdog's resources when it returns")
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopErr
}

// Done returns a channel closed once the watchdog has stopped and released its resources.
func (w *Watchdog) Done() <-chan struct{} { return w.done }

const hookGrace = 5 * time.Second

// slowSeries are read every slowEvery ticks and hold their value in between.
var slowSeries = [...]int{idxGoroutinesCreated, idxThreads, idxHeapBytes, idxRSSBytes, idxFDLimit, idxHeapLive}

// slowPeriod is how often the probes that cost more than the rest of a tick are read.
const slowPeriod = 5 * time.Second

// jitterSeed seeds the generator of the sampling delays (see [Config.Jitter]). It is fixed: what
// breaks aliasing with the host's periodic work is that the delays vary, not that they differ
// between processes, and a fixed seed keeps runs in a synctest bubble reproducible.
const jitterSeed = 0x6c65616b77617463 // "leakwatc"

func (w *Watchdog) run(ctx context.Context) {
	w.sampler.enter()
	defer w.shutdown()
	spread := float64(w.cfg.Interval) * w.cfg.Jitter
	if _, system := w.clock.(systemClock); system && w.cfg.Jitter != NoJitter && spread >= 1 {
		w.runJittered(ctx, spread)
		return
	}
	t := w.clock.NewTicker(w.cfg.Interval)
	defer t.Stop()
	w.safeTick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			w.safeTick()
		}
	}
}

// runJittered takes sample k at origin + k x Interval + a delay drawn uniformly from
// [0, spread) (spread <= Interval), so each sample falls inside its own Interval and the
// average rate stays one per Interval. One timer, reset to the next sample's time, wakes the
// goroutine once per sample (a ticker plus a delay would wake it twice), and one generator
// draws the delays: a tick allocates nothing. A tick that overruns, or a process that was
// stopped, skips the Intervals already begun, as a time.Ticker drops its ticks.
func (w *Watchdog) runJittered(ctx context.Context, spread float64) {
	iv := w.cfg.Interval
	rng := rand.New(rand.NewPCG(jitterSeed, jitterSeed))
	origin := time.Now() // monotonic: wall clock steps do not move the grid
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	w.safeTick()
	for k := int64(1); ; {
		due := origin.Add(time.Duration(k)*iv + time.Duration(rng.Float64()*spread))
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		w.safeTick()
		k = max(k+1, int64(time.Since(origin)/iv)+1)
	}
}

func (w *Watchdog) shutdown() {
	close(w.shuttingDown)
	deadline := time.Now().Add(hookGrace)
	if at := w.stopAt.Load(); at != nil {
		deadline = at.Add(hookGrace)
	}
	// One deadline for every worker: the attribution first (the handlers get their alerts from
	// it), then the handlers and gauges together.
	var errs []error
	w.sink.stop()
	sinkDone := waitWorkers(deadline, w.sink.worker) == 0
	if sinkDone {
		w.attr.close() // the sink goroutine, its only user, has exited or is inside Stop
	}
	// smoke: see smoke.go. A run still going ends now (its evidence is attached), and its
	// writer works while the handlers and gauges are waited for, within the same deadline.
	smokeIO := w.smokeSt.end(&smokeInput{now: w.clock.Now(), fig: smokeFiguresOf(w.vals, w.pool0, len(w.pools)),
		values: w.vals, snapshot: w.smokeSnap})
	var ws []*worker
	for _, h := range w.handlers {
		h.stop()
		ws = append(ws, h.worker)
	}
	nh := len(ws)
	if w.gauges != nil {
		w.gauges.stop()
		ws = append(ws, w.gauges.workers()...)
	}
	waitWorkers(deadline, ws...)
	if !sinkDone {
		errs = append(errs, errors.New("watchdog: the attribution did not finish within 5s of Stop; its goroutine is left behind"))
	}
	if late := running(ws[:nh]); late > 0 {
		errs = append(errs, fmt.Errorf("watchdog: an alert handler did not return within 5s of Stop; %d handler goroutine(s) left behind", late))
	}
	if late := running(ws[nh:]); late > 0 {
		errs = append(errs, fmt.Errorf("watchdog: a gauge did not return within 5s of Stop; %d gauge goroutine(s) left behind", late))
	}
	if smokeIO != nil {
		if err := smokeIO.stop(deadline); err != nil {
			errs = append(errs, err)
		}
	}
	w.smokeSt.release()
	if w.rec != nil {
		if err := w.rec.close(); err != nil {
			errs = append(errs, err)
		}
	}
	w.osp.close()
	w.mu.Lock()
	w.running = false
	w.stopErr = errors.Join(errs...)
	w.mu.Unlock()
	for _, err := range errs {
		w.log.Error("stop", zap.Error(err))
	}
	close(w.done)
}

// running counts the workers that have neither exited nor called Stop.
func running(ws []*worker) int {
	n := 0
	for _, k := range ws {
		select {
		case <-k.done:
		case <-k.inStop:
		default:
			n++
		}
	}
	return n
}

// tick takes one sample of every series, judges it and publishes the result. In the steady state
// (no level change) it allocates nothing.
func (w *Watchdog) tick() {
	begin := time.Now()
	now := begin
	if _, system := w.clock.(systemClock); !system {
		now = w.clock.Now()
	}
	v, lim, errs := w.vals, w.lims, w.errs
	for i := range errs {
		errs[i] = nil
	}
	slow := w.ticks%w.slowEvery == 0
	w.rt.read(v, lim, slow)
	v[idxFDs], errs[idxFDs] = w.osp.fds()
	// RSS (the kernel walks the memory map to write statm: about half a tick), the
	// runtime/metrics figures and the FD limit (which changes rarely) are read every slowEvery
	// ticks, at most every slowPeriod, and hold their value in between.
	if slow {
		w.fdLimit, errs[idxFDLimit] = w.osp.fdLimit()
		w.rss, errs[idxRSSBytes] = w.osp.rss()
	}
	newHeap := false
	if slow {
		// the live heap changes only at a collection: a read with no collection since the
		// last one repeats it and is not a new sample, and before the first collection
		// nothing has been marked live (it reads 0)
		live, cycles := w.heap.read()
		newHeap = !math.IsNaN(live) && cycles > 0 && (math.IsNaN(w.heapLive) || cycles != w.heapCycles)
		if newHeap {
			w.heapLive, w.heapCycles = live, cycles
		}
	}
	v[idxHeapLive] = w.heapLive
	v[idxFDLimit], v[idxRSSBytes] = w.fdLimit, w.rss // a failed read holds NaN until the next
	lim[idxFDs] = v[idxFDLimit]
	if w.osp.memLimit > 0 {
		lim[idxRSSBytes] = w.osp.memLimit
		if math.IsNaN(lim[idxHeapBytes]) {
			lim[idxHeapBytes] = w.osp.memLimit
		}
	}
	lim[idxHeapLive] = lim[idxHeapBytes] // GOMEMLIMIT, else the cgroup's
	readPools(w.pools, v[w.pool0:w.gauge0])
	if w.gauges != nil {
		w.gauges.read(v[w.gauge0:], errs[w.gauge0:])
		for i := w.gauge0; i < len(v); i++ {
			if math.IsNaN(v[i]) && errs[i] == nil {
				errs[i] = errGaugeNaN
			}
		}
	}
	// A reading of ±Inf is no reading: every consumer (engine, history, snapshot, JSON,
	// recording, smoke) sees it as unread (NaN), and the series counts an error. An infinite
	// limit is no limit.
	for i := range v {
		if math.IsInf(v[i], 0) {
			v[i] = math.NaN()
			if errs[i] == nil {
				errs[i] = errNonFinite
			}
		}
		if math.IsInf(lim[i], 0) {
			lim[i] = math.NaN()
		}
	}
	// The slow series hold their last reading between reads, for the snapshot and the history;
	// the engine and the recording get only what was read this tick, the rest as unread (NaN),
	// so that a held value is not judged as a new sample and a replay sees what the live
	// engine saw.
	fresh := w.fresh
	copy(fresh, v)
	if !slow {
		for _, i := range slowSeries {
			fresh[i] = math.NaN()
		}
	}
	if !newHeap {
		fresh[idxHeapLive] = math.NaN()
	}
	w.eng.step(now, fresh, lim)
	if w.rec != nil {
		if err := w.rec.write(now, fresh, lim); err != nil {
			w.log.Warn("record", zap.Error(err))
		}
	}

	alerts, nerr := w.publish(now, v, lim, errs)

	if nerr > 0 {
		w.probeErrors.Add(uint64(nerr))
		for i, err := range errs {
			if err != nil && err != errUnsupportedOS && err != errGaugePending && w.series[i].errs%100 == 1 {
				w.log.Warn("probe error", zap.String("series", w.names[i]), zap.Error(err), zap.Uint64("count", w.series[i].errs))
			}
		}
	}
	for _, a := range alerts {
		w.deliver(a, now)
	}
	w.evidenceTick(now)
	// smoke: see smoke.go; the run gets this value only, and must not block
	w.smokeSt.step(&smokeInput{now: now, fig: smokeFiguresOf(v, w.pool0, len(w.pools)), values: v, alerts: alerts, snapshot: w.smokeSnap})
	w.addCost(time.Since(begin))
}

func (w *Watchdog) addCost(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cost.add(d)
}

// publish copies a tick's values, levels and alerts to what the snapshot reads, under w.mu
// (released by defer: a panic never leaves it held). It returns the alerts raised and the
// count of series whose read failed.
func (w *Watchdog) publish(now time.Time, v, lim []float64, errs []error) (alerts []Alert, nerr int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if testHookPublish != nil {
		testHookPublish()
	}
	copy(w.snapVals, v)
	copy(w.snapLims, lim)
	w.hist.add(now, v)
	for i := range w.series {
		s, es := &w.series[i], &w.eng.series[i]
		s.level, s.cause = es.level, es.cause
		s.rate, s.ready, s.baseline, s.exhaustion = es.verdict.RatePerMin, es.verdict.Ready, es.verdict.Baseline, es.verdict.Exhaustion
		if errs[i] != nil && errs[i] != errUnsupportedOS && errs[i] != errGaugePending {
			s.errs++
			nerr++
			if s.lastErr == "" || s.errs%100 == 1 {
				s.lastErr = errs[i].Error()
			}
		}
	}
	for _, i := range w.eng.changed {
		a := w.eng.alert(i).finite()
		a.ID = w.alertSeq.Add(1)
		if i == idxGoroutines && a.Level > LevelOK {
			if a.CreatedPerMin = finite(w.createdPerMin(now)); a.CreatedPerMin > 0 {
				a.Reason += fmt.Sprintf("; created %.0f/min, retained %.2f/min", a.CreatedPerMin, a.RatePerMin)
			}
		}
		w.series[i].since = now
		alerts = append(alerts, a)
		w.alerts[w.nAlerts%len(w.alerts)] = a
		w.nAlerts++
		w.alertsTotal[a.Level]++
	}
	w.ticks++
	w.lastTick = now
	return alerts, nerr
}

var (
	errGaugeStalled = errors.New("watchdog: gauge has not returned within an interval")
	errGaugeNaN     = errors.New("watchdog: gauge returned NaN or panicked")
	errNonFinite    = errors.New("watchdog: reading is infinite")
	errGaugePending = errors.New("watchdog: gauge has not answered yet")
)

// createdPerMin is the goroutine creation rate over the window, from the history.
func (w *Watchdog) createdPerMin(now time.Time) float64 {
	cur, ok := w.hist.at(idxGoroutinesCreated, now)
	if !ok {
		return 0
	}
	old, ok := w.hist.at(idxGoroutinesCreated, now.Add(-w.cfg.Window))
	if !ok {
		if old, ok = w.hist.oldest(idxGoroutinesCreated); !ok {
			return 0
		}
	}
	d := cur.Time.Sub(old.Time).Minutes()
	if d <= 0 {
		return 0
	}
	return (cur.Value - old.Value) / d
}

// deliver logs the alert and hands it to the sink goroutine: attribution first when planned (its
// evidence goes to the log and the snapshot), then the handlers, each on its own queue. An alert
// that gets no snapshot but should have evidence gets evidence saying why, at once; one whose
// snapshot finds the queue full is logged again ("attribution") with evidence saying so. It never
// blocks: a full queue drops the job (or the alert for that handler) and counts it.
func (w *Watchdog) deliver(a Alert, now time.Time) {
	take, leakProfile, skipped := w.planAttribution(a, now)
	if skipped != "" {
		kind, _ := w.evidenceKindOf(w.index[a.Series])
		a.Evidence = &Evidence{AlertID: a.ID, Series: a.Series, Kind: kind, Skipped: skipped}
		w.attachEvidence(a.ID, a.Evidence)
	}
	w.log.Check(a.logLevel(), "alert").Write(a.zapFields()...)
	if !take && len(w.handlers) == 0 {
		return
	}
	ok := w.sink.post(func() {
		if take {
			ev := w.attribute(a, leakProfile)
			a.Evidence = ev
			w.attachEvidence(a.ID, ev)
			w.log.Check(a.logLevel(), "attribution").Write(a.zapFields()...) // the alert again, with its evidence
		}
		w.callHandlers(a)
	})
	if !ok {
		w.handlerDropped.Add(uint64(max(1, len(w.handlers))))
		if take { // the alert is logged already: log it again with the evidence that says why there is none
			kind, _ := w.evidenceKindOf(w.index[a.Series])
			a.Evidence = &Evidence{AlertID: a.ID, Series: a.Series, Kind: kind,
				Skipped: "the queue to the attribution goroutine was full (Config.AlertQueue)"}
			w.attachEvidence(a.ID, a.Evidence)
			w.log.Check(a.logLevel(), "attribution").Write(a.zapFields()...)
		}
	}
}

// callHandlers hands a to every handler's own queue; a full queue drops it for that handler and
// counts it. It never blocks.
func (w *Watchdog) callHandlers(a Alert) {
	for _, h := range w.handlers {
		if !h.post(a) {
			w.handlerDropped.Add(1)
		}
	}
}
