package watchdog

import (
	"sync"
	"sync/atomic"
)

// sink runs the work that must not delay sampling, one job at a time on a goroutine of its own:
// alert handlers and attribution snapshots. The queue is bounded; a full queue drops the job and
// counts it.
type sink struct {
	jobs     chan func()
	dropped  atomic.Uint64
	panics   atomic.Uint64
	quitOnce sync.Once
	done     chan struct{}
}

func newSink(capacity int) *sink {
	s := &sink{jobs: make(chan func(), capacity), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *sink) run() {
	defer close(s.done)
	for job := range s.jobs {
		s.do(job)
	}
}

func (s *sink) do(job func()) {
	defer func() {
		if recover() != nil {
			s.panics.Add(1)
		}
	}()
	job()
}

// post queues job without blocking; it reports false (and counts a drop) when the queue is full.
func (s *sink) post(job func()) bool {
	select {
	case s.jobs <- job:
		return true
	default:
		s.dropped.Add(1)
		return false
	}
}

// stop closes the queue; the goroutine finishes the queued jobs and exits. It reports whether it
// exited within wait's bound.
func (s *sink) stop(wait func(<-chan struct{}) bool) bool {
	s.quitOnce.Do(func() { close(s.jobs) })
	return wait(s.done)
}
