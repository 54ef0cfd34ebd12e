package watchdog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// smokeIO writes a run's output lines, state file and results on a goroutine of its own, so
// that the sampling goroutine never waits for a disk or for the user's writer. Lines keep
// their order; of the state, only the latest version is written.
type smokeIO struct {
	out *smokeOut       // nil without a writer
	cb  *smokeCallbacks // the completion callbacks' goroutine
	log *zap.Logger

	mu        sync.Mutex
	statePath string
	stateData []byte            // written as it is (tests)
	deltas    []smokeStateDelta // of the run's state, applied to mirror in order
	mirror    smokeStateFile    // the run's whole state; the writer goroutine's own
	files     []smokeFile       // written as they are (tests)
	runs      []smokeResults    // finished runs' results
	lastFiles []string          // the names of the last run's results written
	finished  []smokeDone

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// smokeDone is a finished run's report and the callbacks to hand it to. withFiles: the run
// queued results just before; the report gets their names.
type smokeDone struct {
	rep       SmokeReport
	fns       []func(SmokeReport)
	withFiles bool
}

type smokeFile struct {
	path string
	data []byte
}

// startSmokeIO starts the writer's goroutines: one for the files, one for out (when not nil)
// and one for the completion callbacks (with callbacks).
func startSmokeIO(out io.Writer, log *zap.Logger, callbacks bool) *smokeIO {
	s := &smokeIO{log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if out != nil {
		s.out = &smokeOut{w: out, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
		go s.out.loop()
	}
	if callbacks {
		s.cb = &smokeCallbacks{out: s.out, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
		go s.cb.loop()
	}
	go s.loop()
	return s
}

// smokeOutMaxBytes bounds the output lines queued for the user's writer; lines beyond it are
// dropped and counted.
const smokeOutMaxBytes = 1 << 20

// smokeSyncGrace is how long the completion callbacks wait for the output lines before them.
const smokeSyncGrace = time.Second

// smokeOut writes the output lines to the user's writer on a goroutine of its own, through a
// bounded queue: a writer that blocks or panics delays nothing else (state file, results,
// callbacks); lines it cannot take are dropped, counted and logged.
type smokeOut struct {
	w   io.Writer
	log *zap.Logger

	mu      sync.Mutex
	buf     []byte
	queued  int             // lines in buf
	dropped int             // lines dropped since the last report
	waiters []chan struct{} // closed once the lines queued before them are written

	wake, quit, done chan struct{}
}

func (o *smokeOut) add(line string) {
	o.mu.Lock()
	if len(o.buf)+len(line)+1 > smokeOutMaxBytes {
		o.dropped++
	} else {
		o.buf = append(append(o.buf, line...), '\n')
		o.queued++
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// pending returns the lines still queued and dropped unreported.
func (o *smokeOut) pending() (queued, dropped int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued, o.dropped
}

func (o *smokeOut) loop() {
	defer close(o.done)
	for {
		select {
		case <-o.wake:
			o.flush()
		case <-o.quit:
			o.flush()
			return
		}
	}
}

func (o *smokeOut) flush() {
	o.mu.Lock()
	buf, dropped, waiters := o.buf, o.dropped, o.waiters
	o.buf, o.dropped, o.waiters = nil, 0, nil
	o.mu.Unlock()
	defer func() {
		for _, w := range waiters {
			close(w)
		}
	}()
	if dropped > 0 {
		o.log.Warn("smoke output writer too slow; lines dropped", zap.Int("dropped", dropped))
	}
	if len(buf) > 0 {
		o.write(buf)
	}
	o.mu.Lock()
	o.queued -= bytesCount(buf, '\n')
	o.mu.Unlock()
}

// sync waits, at most grace, until the lines queued so far are written; false if not.
func (o *smokeOut) sync(grace time.Duration) bool {
	ch := make(chan struct{})
	o.mu.Lock()
	o.waiters = append(o.waiters, ch)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func bytesCount(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

func (s *smokeIO) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *smokeIO) output(line string) {
	if s.out != nil {
		s.out.add(line)
	}
}

func (s *smokeIO) state(path string, data []byte) {
	s.mu.Lock()
	s.statePath, s.stateData = path, data
	s.mu.Unlock()
	s.poke()
}

// stateDelta queues a change of the run's state; the writer applies it and writes the state.
func (s *smokeIO) stateDelta(d smokeStateDelta) {
	s.mu.Lock()
	s.deltas = append(s.deltas, d)
	s.mu.Unlock()
	s.poke()
}

func (s *smokeIO) results(files []smokeFile) {
	s.mu.Lock()
	s.files = append(s.files, files...)
	s.mu.Unlock()
	s.poke()
}

// runResults queues a finished run's results.
func (s *smokeIO) runResults(res smokeResults) {
	s.mu.Lock()
	s.runs = append(s.runs, res)
	s.mu.Unlock()
	s.poke()
}

// completed queues the completion callbacks, called after the files queued before; withFiles:
// rep gets the names of the results queued just before it.
func (s *smokeIO) completed(rep SmokeReport, fns []func(SmokeReport), withFiles bool) {
	s.mu.Lock()
	s.finished = append(s.finished, smokeDone{rep, fns, withFiles})
	s.mu.Unlock()
	s.poke()
}

// stop drains what is pending and ends the goroutines, waiting until deadline at most. It
// returns nil once everything was written, else an error saying what was lost: the state,
// results and callbacks not done, or the lines the user's writer did not take (also logged,
// with their count).
func (s *smokeIO) stop(deadline time.Time) error {
	select {
	case <-s.quit:
	default:
		close(s.quit)
		if s.out != nil {
			close(s.out.quit)
		}
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-s.done:
	default:
		select {
		case <-s.done:
		case <-t.C:
			return errors.New("watchdog: the smoke writer (state file, results) did not finish within 5s of Stop; what it had not written is lost and its goroutine is left behind")
		}
	}
	if s.cb != nil {
		select {
		case <-s.cb.done:
		default:
			select {
			case <-s.cb.done:
			case <-t.C:
				return errors.New("watchdog: an OnSmokeDone completion callback did not return within 5s of Stop; its goroutine is left behind")
			}
		}
	}
	if s.out == nil {
		return nil
	}
	select {
	case <-s.out.done:
		return nil
	default:
	}
	select {
	case <-s.out.done:
		return nil
	case <-t.C:
		q, d := s.out.pending()
		s.log.Error("smoke output writer blocked at Stop; its lines are lost and its goroutine is left behind",
			zap.Int("undelivered", q), zap.Int("dropped", d))
		return fmt.Errorf("watchdog: the smoke output writer blocked at Stop: %d lines lost (%d not delivered, %d dropped before); its goroutine is left behind", q+d, q, d)
	}
}

func (s *smokeIO) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			s.flush()
		case <-s.quit:
			s.flush()
			if s.cb != nil {
				close(s.cb.quit) // after the last runs were handed to the callbacks
			}
			return
		}
	}
}

func (s *smokeIO) flush() {
	s.mu.Lock()
	path, data, deltas, files, runs, done := s.statePath, s.stateData, s.deltas, s.files, s.runs, s.finished
	s.stateData, s.deltas, s.files, s.runs, s.finished = nil, nil, nil, nil, nil
	s.mu.Unlock()
	if data != nil {
		if err := writeFileAtomic(path, data); err != nil {
			s.log.Error("smoke state file", zap.String("path", path), zap.Error(err))
		}
	}
	if len(deltas) > 0 {
		for i := range deltas {
			deltas[i].apply(&s.mirror)
		}
		path := deltas[len(deltas)-1].path
		b, err := json.Marshal(&s.mirror)
		if err == nil {
			err = writeFileAtomic(path, b)
		}
		if err != nil {
			s.log.Error("smoke state file", zap.String("path", path), zap.Error(err))
		}
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			s.log.Error("smoke results", zap.String("path", f.path), zap.Error(err))
			continue
		}
		if err := writeFileAtomic(f.path, f.data); err != nil {
			s.log.Error("smoke results", zap.String("path", f.path), zap.Error(err))
		}
	}
	for _, res := range runs {
		s.lastFiles = s.writeResults(res)
	}
	for _, d := range done {
		if d.withFiles {
			d.rep.ResultFiles = append([]string(nil), s.lastFiles...)
		}
		if s.cb != nil {
			s.cb.add(d)
		}
	}
}

// smokeCallbacksMax bounds the finished runs queued for callbacks that have not returned.
const smokeCallbacksMax = 64

// smokeCallbacks runs the completion callbacks on a goroutine of their own, in order, after
// the files written before them: one that blocks holds up only the callbacks, never the state
// file or the results of a later run. Runs beyond smokeCallbacksMax waiting are dropped and
// logged.
type smokeCallbacks struct {
	out *smokeOut // nil without a writer
	log *zap.Logger

	mu    sync.Mutex
	queue []smokeDone

	wake, quit, done chan struct{}
}

func (c *smokeCallbacks) add(d smokeDone) {
	c.mu.Lock()
	full := len(c.queue) >= smokeCallbacksMax
	if !full {
		c.queue = append(c.queue, d)
	}
	c.mu.Unlock()
	if full {
		c.log.Error("smoke completion callbacks blocked; a finished run's report is not handed to them",
			zap.Time("started", d.rep.Started))
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *smokeCallbacks) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
			c.run()
		case <-c.quit:
			c.run()
			return
		}
	}
}

func (c *smokeCallbacks) run() {
	c.mu.Lock()
	q := c.queue
	c.queue = nil
	c.mu.Unlock()
	if len(q) > 0 && c.out != nil && !c.out.sync(smokeSyncGrace) {
		c.log.Warn("smoke output writer still busy; completion callbacks run before it has all the lines")
	}
	for _, d := range q {
		for _, fn := range d.fns {
			c.call(fn, d.rep)
		}
	}
}

// write hands lines to the user's writer, recovering a panic: a faulty writer loses its lines
// (logged), never the host process or the state and results writes after it.
func (o *smokeOut) write(lines []byte) {
	defer func() {
		if p := recover(); p != nil {
			o.log.Error("smoke output writer panicked; its lines are lost", zap.Any("panic", p))
		}
	}()
	if _, err := o.w.Write(lines); err != nil {
		o.log.Warn("smoke output", zap.Error(err))
	}
}

// call runs one completion callback, recovering a panic.
func (c *smokeCallbacks) call(fn func(SmokeReport), rep SmokeReport) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("smoke completion callback panicked", zap.Any("panic", p))
		}
	}()
	fn(rep)
}

// smokeResults is a finished run to write to ResultsDir: the names are reserved on the
// writer's goroutine, then the files rendered with them. named, when not nil, is told the
// names (the run's ResultFiles).
type smokeResults struct {
	dir   string
	ts    string // the run's start as YYYYMMDD_HHMMSS
	rep   SmokeReport
	snap  Snapshot
	named func([]string)
}

// smokeResultsTries bounds the suffixes tried for one run's names (_2 to _999).
const smokeResultsTries = 999

// resultPaths are the seed's "Results Collection" names for stem: smoke_test_<stem>.log
// (the output), metrics_final_<stem>.json (the snapshot), smoke_report_<stem>.md and
// smoke_report_<stem>.json.
func resultPaths(dir, stem string) []string {
	return []string{
		filepath.Join(dir, "smoke_test_"+stem+".log"),
		filepath.Join(dir, "metrics_final_"+stem+".json"),
		filepath.Join(dir, "smoke_report_"+stem+".md"),
		filepath.Join(dir, "smoke_report_"+stem+".json"),
	}
}

// reserveResults creates the run's four files empty with O_EXCL (mode 0600), so that no other
// run, process or program's file of the same name is overwritten: stem ts, else ts_2, ts_3,
// ... until one set is free.
func reserveResults(dir, ts string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for k := 1; k <= smokeResultsTries; k++ {
		stem := ts
		if k > 1 {
			stem = fmt.Sprintf("%s_%d", ts, k)
		}
		paths := resultPaths(dir, stem)
		var made []string
		var err error
		for _, p := range paths {
			var f *os.File
			if f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
				break
			}
			f.Close()
			made = append(made, p)
		}
		if err == nil {
			return paths, nil
		}
		for _, p := range made {
			os.Remove(p)
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%d sets of result names for %s taken", smokeResultsTries, ts)
}

// renderResults renders a finished run's files under paths (from [resultPaths]).
func renderResults(rep SmokeReport, snap Snapshot, paths []string) ([]smokeFile, error) {
	rep.ResultFiles = paths
	var log []byte
	for _, l := range rep.Lines {
		log = append(append(log, l...), '\n')
	}
	metrics, err1 := json.MarshalIndent(snap, "", "  ")
	report, err2 := json.MarshalIndent(rep, "", "  ")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("watchdog: smoke results: %w", err)
	}
	return []smokeFile{
		{paths[0], log},
		{paths[1], append(metrics, '\n')},
		{paths[2], []byte(rep.Markdown())},
		{paths[3], append(report, '\n')},
	}, nil
}

// writeResults reserves a run's names and writes its files; it returns the names written.
func (s *smokeIO) writeResults(res smokeResults) []string {
	paths, err := reserveResults(res.dir, res.ts)
	if err != nil {
		s.log.Error("smoke results", zap.String("dir", res.dir), zap.Error(err))
		return nil
	}
	files, err := renderResults(res.rep, res.snap, paths)
	if err != nil {
		s.log.Error("smoke results", zap.Error(err))
		for _, p := range paths {
			os.Remove(p)
		}
		return nil
	}
	for _, f := range files {
		if err := writeFileAtomic(f.path, f.data); err != nil {
			s.log.Error("smoke results", zap.String("path", f.path), zap.Error(err))
		}
	}
	if res.named != nil {
		res.named(paths)
	}
	return paths
}
