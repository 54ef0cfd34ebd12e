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
// Adding a sample allocates nothing. The columns live in memory only: after a restart (a run
// resumed from its state file) the charts start at the resume, the checkpoints before it still
// marked.
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

// chartPoint is one column of a chart: the time of its middle, the mean, the minimum and the
// maximum of its samples.
type chartPoint struct {
	t            time.Time
	mean, lo, hi float64
	n            int32
}

// points returns series s's columns that hold samples.
func (c *smokeChart) points(s int) []chartPoint {
	var out []chartPoint
	for i, b := range c.cols[s] {
		if b.n == 0 {
			continue
		}
		out = append(out, chartPoint{t: c.t0.Add(time.Duration(i)*c.width + c.width/2),
			mean: b.sum / float64(b.n), lo: b.min, hi: b.max, n: b.n})
	}
	return out
}

// clone copies the chart (for rendering outside the lock).
func (c *smokeChart) clone() *smokeChart {
	if c == nil {
		return nil
	}
	x := *c
	return &x
}

// regroup merges points into columns of width w from t0, so that a chart has a few samples per
// drawn column (their spread is the band) rather than one sample each (spikes).
func regroup(pts []chartPoint, t0 time.Time, w time.Duration) []chartPoint {
	if w <= 0 {
		return pts
	}
	var out []chartPoint
	var sum float64
	col := int64(-1)
	for _, p := range pts {
		k := int64(p.t.Sub(t0) / w)
		if k != col || len(out) == 0 {
			if len(out) > 0 {
				out[len(out)-1].mean = sum / float64(out[len(out)-1].n)
			}
			out = append(out, chartPoint{t: t0.Add(time.Duration(k)*w + w/2), lo: p.lo, hi: p.hi})
			sum, col = 0, k
		}
		o := &out[len(out)-1]
		o.lo, o.hi = math.Min(o.lo, p.lo), math.Max(o.hi, p.hi)
		o.n += p.n
		sum += p.mean * float64(p.n)
	}
	if len(out) > 0 {
		out[len(out)-1].mean = sum / float64(out[len(out)-1].n)
	}
	return out
}
