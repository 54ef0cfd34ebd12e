package watchdog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	out io.Writer
	log *zap.Logger

	mu        sync.Mutex
	lines     []byte
	statePath string
	stateData []byte
	files     []smokeFile
	finished  []smokeDone

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// smokeDone is a finished run's report and the callbacks to hand it to.
type smokeDone struct {
	rep SmokeReport
	fns []func(SmokeReport)
}

type smokeFile struct {
	path string
	data []byte
}

func startSmokeIO(out io.Writer, log *zap.Logger) *smokeIO {
	s := &smokeIO{out: out, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *smokeIO) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *smokeIO) output(line string) {
	s.mu.Lock()
	s.lines = append(append(s.lines, line...), '\n')
	s.mu.Unlock()
	s.poke()
}

func (s *smokeIO) state(path string, data []byte) {
	s.mu.Lock()
	s.statePath, s.stateData = path, data
	s.mu.Unlock()
	s.poke()
}

func (s *smokeIO) results(files []smokeFile) {
	s.mu.Lock()
	s.files = append(s.files, files...)
	s.mu.Unlock()
	s.poke()
}

// completed queues the completion callbacks, called after the files queued before.
func (s *smokeIO) completed(rep SmokeReport, fns []func(SmokeReport)) {
	s.mu.Lock()
	s.finished = append(s.finished, smokeDone{rep, fns})
	s.mu.Unlock()
	s.poke()
}

// stop drains what is pending and ends the goroutine, waiting at most grace.
func (s *smokeIO) stop(grace time.Duration) bool {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
		return false
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
			return
		}
	}
}

func (s *smokeIO) flush() {
	s.mu.Lock()
	lines, path, data, files, done := s.lines, s.statePath, s.stateData, s.files, s.finished
	s.lines, s.stateData, s.files, s.finished = nil, nil, nil, nil
	s.mu.Unlock()
	if len(lines) > 0 && s.out != nil {
		s.write(lines)
	}
	if data != nil {
		if err := writeFileAtomic(path, data); err != nil {
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
	for _, d := range done {
		for _, fn := range d.fns {
			s.call(fn, d.rep)
		}
	}
}

// write hands lines to the user's writer, recovering a panic: a faulty writer loses its lines
// (logged), never the host process or the state and results writes after it.
func (s *smokeIO) write(lines []byte) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("smoke output writer panicked; its lines are lost", zap.Any("panic", p))
		}
	}()
	if _, err := s.out.Write(lines); err != nil {
		s.log.Warn("smoke output", zap.Error(err))
	}
}

// call runs one completion callback, recovering a panic.
func (s *smokeIO) call(fn func(SmokeReport), rep SmokeReport) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("smoke completion callback panicked", zap.Any("panic", p))
		}
	}()
	fn(rep)
}

// resultFiles renders a finished run's files, as the seed's "Results Collection" did by hand:
// smoke_test_<ts>.log (the output), metrics_final_<ts>.json (the snapshot),
// smoke_report_<ts>.md and smoke_report_<ts>.json, ts being the run's start as
// YYYYMMDD_HHMMSS.
func resultFiles(rep SmokeReport, snap Snapshot, dir string, started time.Time) ([]smokeFile, error) {
	ts := started.Format("20060102_150405")
	paths := []string{
		filepath.Join(dir, "smoke_test_"+ts+".log"),
		filepath.Join(dir, "metrics_final_"+ts+".json"),
		filepath.Join(dir, "smoke_report_"+ts+".md"),
		filepath.Join(dir, "smoke_report_"+ts+".json"),
	}
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
