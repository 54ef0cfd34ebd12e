package watchdog

import (
	"math"
	"sync/atomic"
)

// gaugeRunner calls the user's gauges off the sampling goroutine, one goroutine per gauge, so
// that a gauge that is slow, blocks or panics never delays sampling nor the other gauges. Each
// tick asks every gauge for a new value without waiting (one pending request at most) and reads
// the value it returned last.
type gaugeRunner struct {
	cells  []gaugeCell
	panics atomic.Uint64
	stalls atomic.Uint64
	quit   chan struct{}
}

type gaugeCell struct {
	fn      func() float64
	bits    atomic.Uint64 // math.Float64bits of the latest value
	rounds  atomic.Uint64 // calls finished
	asked   uint64        // calls requested; sampling goroutine only
	request chan struct{}
	w       *worker
}

func newGaugeRunner(g []gauge) *gaugeRunner {
	r := &gaugeRunner{cells: make([]gaugeCell, len(g)), quit: make(chan struct{})}
	for i := range r.cells {
		c := &r.cells[i]
		c.fn, c.request = g[i].fn, make(chan struct{}, 1)
		c.bits.Store(math.Float64bits(math.NaN()))
		c.w = newWorker()
		go r.run(c)
	}
	return r
}

func (r *gaugeRunner) run(c *gaugeCell) {
	defer close(c.w.done)
	c.w.enter()
	for {
		select {
		case <-r.quit:
			return
		case <-c.request:
		}
		c.bits.Store(math.Float64bits(r.call(c.fn)))
		c.rounds.Add(1)
	}
}

func (r *gaugeRunner) call(fn func() float64) (v float64) {
	defer func() {
		if recover() != nil {
			r.panics.Add(1)
			v = math.NaN()
		}
	}()
	return fn()
}

// read stores the latest value of every gauge into v (NaN for one whose last request is still
// unanswered) and asks each for a new one; errs gets errGaugeStalled for those.
func (r *gaugeRunner) read(v []float64, errs []error) {
	for i := range r.cells {
		c := &r.cells[i]
		if c.asked > c.rounds.Load() {
			r.stalls.Add(1)
			v[i], errs[i] = math.NaN(), errGaugeStalled
			continue
		}
		v[i] = math.Float64frombits(c.bits.Load())
		if c.rounds.Load() == 0 {
			errs[i] = errGaugePending // not answered yet (the first ticks): no value, no error
		}
		select {
		case c.request <- struct{}{}:
			c.asked++
		default:
		}
	}
}

// stop asks the gauge goroutines to end, without waiting; workers lists them for the wait (a
// gauge that never returns keeps its goroutine).
func (r *gaugeRunner) stop() { close(r.quit) }

func (r *gaugeRunner) workers() []*worker {
	ws := make([]*worker, len(r.cells))
	for i := range r.cells {
		ws[i] = r.cells[i].w
	}
	return ws
}
