package watchdog

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The watchdog runs user code (alert handlers, gauges, the logger) on goroutines of its own so
// that none of it can delay sampling. Each such goroutine is a worker: it remembers its
// goroutine's ID, so that a Stop called from inside it (a handler that stops the watchdog) is
// recognised and not waited for, and it closes done on exit, so that Stop can wait for all of
// them against one deadline.
type worker struct {
	gid      atomic.Uint64
	done     chan struct{}
	inStop   chan struct{} // closed when this worker's goroutine calls Stop
	stopOnce sync.Once
}

func newWorker() *worker {
	return &worker{done: make(chan struct{}), inStop: make(chan struct{})}
}

// enter records the calling goroutine as the worker's; the worker's goroutine calls it first.
func (k *worker) enter() { k.gid.Store(goid()) }

// stopFrom marks the worker as the caller of Stop when gid is its goroutine.
func (k *worker) stopFrom(gid uint64) bool {
	if k.gid.Load() != gid {
		return false
	}
	k.stopOnce.Do(func() { close(k.inStop) })
	return true
}

// waitWorkers waits until every worker has exited or called Stop itself, or until deadline. It
// returns the number of workers still running user code at the deadline.
func waitWorkers(deadline time.Time, ws ...*worker) int {
	tm := time.NewTimer(time.Until(deadline))
	defer tm.Stop()
	late := 0
	for _, k := range ws {
		if late > 0 {
			select { // past the deadline: only count
			case <-k.done:
			case <-k.inStop:
			default:
				late++
			}
			continue
		}
		select {
		case <-k.done:
		case <-k.inStop:
		case <-tm.C:
			late++
		}
	}
	return late
}

// goid returns the calling goroutine's ID, parsed from the first line of its stack trace
// ("goroutine 42 [running]:"). It costs about a microsecond; the watchdog calls it once per
// worker goroutine and once per Stop, never per tick. 0 if the line cannot be parsed.
func goid() uint64 {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s, ok := bytes.CutPrefix(s, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// sink runs the watchdog's own work that must not delay sampling, one job at a time: the
// attribution snapshots and handing alerts to the handlers. It runs no user code but the
// logger. The queue is bounded; a full queue drops the job and counts it.
type sink struct {
	*worker
	jobs     chan func()
	dropped  atomic.Uint64
	panics   atomic.Uint64
	quit     chan struct{}
	quitOnce sync.Once
}

func newSink(capacity int) *sink {
	s := &sink{worker: newWorker(), jobs: make(chan func(), capacity), quit: make(chan struct{})}
	go s.run()
	return s
}

func (s *sink) run() {
	defer close(s.done)
	s.enter()
	serve(s.jobs, s.quit, s.do)
}

// serve calls do for each value received on ch until quit is closed, then for what was queued
// before the quit, and returns: the loop of the sink and of every handler runner.
func serve[T any](ch <-chan T, quit <-chan struct{}, do func(T)) {
	for {
		select {
		case v := <-ch:
			do(v)
		case <-quit:
			for {
				select {
				case v := <-ch:
					do(v)
				default:
					return
				}
			}
		}
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
// A job posted after stop is never run.
func (s *sink) post(job func()) bool {
	select {
	case s.jobs <- job:
		return true
	default:
		s.dropped.Add(1)
		return false
	}
}

// stop asks the goroutine to finish the queued jobs and exit; it does not wait.
func (s *sink) stop() { s.quitOnce.Do(func() { close(s.quit) }) }

// handlerRunner calls one [OnAlert] handler on a goroutine of its own, one alert at a time, from
// a bounded queue of its own: a handler that blocks holds up only itself. The attribution, the
// log and the snapshot never wait for it, nor do the other handlers.
type handlerRunner struct {
	*worker
	fn       func(Alert)
	alerts   chan Alert
	quit     chan struct{}
	quitOnce sync.Once
	panicked func(Alert, any)
}

func newHandlerRunner(fn func(Alert), capacity int, panicked func(Alert, any)) *handlerRunner {
	h := &handlerRunner{worker: newWorker(), fn: fn, alerts: make(chan Alert, capacity), quit: make(chan struct{}), panicked: panicked}
	go h.run()
	return h
}

func (h *handlerRunner) run() {
	defer close(h.done)
	h.enter()
	serve(h.alerts, h.quit, h.call)
}

func (h *handlerRunner) call(a Alert) {
	defer func() {
		if r := recover(); r != nil {
			h.panicked(a, r)
		}
	}()
	h.fn(a)
}

// post queues a without blocking; false when the handler's queue is full.
func (h *handlerRunner) post(a Alert) bool {
	select {
	case h.alerts <- a:
		return true
	default:
		return false
	}
}

// stop asks the goroutine to deliver the queued alerts and exit; it does not wait.
func (h *handlerRunner) stop() { h.quitOnce.Do(func() { close(h.quit) }) }
