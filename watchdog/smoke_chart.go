package watchdog

import (
	"math"
	"time"
)

// The series a run keeps for its charts, whatever Config.HistorySize.
const (
	chartGoroutines = iota
	chartFDs
	chartHTTPOpen
	chartHTTPIdle
	chartHTTPRequests
	chartSeries
)

// chartBuckets is the number of columns a run's series are kept at: about one per pixel of a
// chart. Memory is fixed per run (chartBuckets x chartSeries x 32 bytes, about 100 KB).
const chartBuckets = 600

// bucket is the samples of one series in one column: their minimum, maximum and sum.
type bucket struct {
	min, max, sum float64
	n             int32
}

func (b *bucket) add(v float64) {
	if b.n == 0 || v < b.min {
		b.min = v
	}
	if b.n == 0 || v > b.max {
		b.max = v
	}
	b.sum += v
	b.n++
}

func (b *bucket) merge(o bucket) {
	if o.n == 0 {
		return
	}
	if b.n == 0 {
		*b = o
		return
	}
	b.min, b.max, b.sum, b.n = math.Min(b.min, o.min), math.Max(b.max, o.max), b.sum+o.sum, b.n+o.n
}

// smokeChart keeps a run's series downsampled to chartBuckets columns from the run's start:
// each column holds the minimum, maximum and mean of the samples in it, so that a chart shows
// sampling noise as a band and covers the whole run at any length. The columns are planned for
// the run's expected span; a run that outlasts it (a late baseline) halves its resolution.
// Adding a sample allocates nothing.
type smokeChart struct {
	t0    time.Time
	width time.Duration // of one column
	cols  [chartSeries][chartBuckets]bucket
}

func newSmokeChart(t0 time.Time, span time.Duration) *smokeChart {
	return &smokeChart{t0: t0, width: max(span/chartBuckets, time.Millisecond)}
}

// add records the figures of one tick.
func (c *smokeChart) add(t time.Time, f *smokeFigures) {
	if t.Before(c.t0) {
		return
	}
	k := int(t.Sub(c.t0) / c.width)
	for k >= chartBuckets {
		c.halve()
		k = int(t.Sub(c.t0) / c.width)
	}
	if !math.IsNaN(f.goroutines) {
		c.cols[chartGoroutines][k].add(f.goroutines)
	}
	if f.fdsOK {
		c.cols[chartFDs][k].add(f.fds)
	}
	if f.httpOK {
		c.cols[chartHTTPOpen][k].add(f.http.Open)
		c.cols[chartHTTPIdle][k].add(f.http.Idle)
		c.cols[chartHTTPRequests][k].add(f.http.Requests)
	}
}

// halve merges pairs of columns: twice the span at half the resolution.
func (c *smokeChart) halve() {
	for s := range c.cols {
		col := &c.cols[s]
		for i := 0; i < chartBuckets/2; i++ {
			b := col[2*i]
			b.merge(col[2*i+1])
			col[i] = b
		}
		for i := chartBuckets / 2; i < chartBuckets; i++ {
			col[i] = bucket{}
		}
	}
	c.width *= 2
}
