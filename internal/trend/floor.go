package trend

import (
	"math"
	"slices"
	"time"
)

// floorRing keeps, for each of n fixed-width time slots, the lowest sample and when it was
// seen. Memory is fixed at construction; add is O(1) and allocation-free.
type floorRing struct {
	width time.Duration
	n     int
	idx   []int64 // absolute slot number held at each position; meaningful only with the range check
	min   []float64
	tmin  []time.Duration
	last  int64
	used  bool

	// cache of the last estimate; valid until add changes a slot minimum
	cached  estimate
	cacheOK bool
	cacheMS time.Duration

	// scratch for estimate, sized at construction
	pt    []point
	env   []point
	diffs []float64
	pairs []float64
}

type point struct {
	t time.Duration
	v float64
}

func newFloorRing(span time.Duration, n int) *floorRing {
	w := span / time.Duration(n)
	if w <= 0 {
		w = 1
	}
	return &floorRing{
		width: w, n: n,
		idx: make([]int64, n), min: make([]float64, n), tmin: make([]time.Duration, n),
		pt: make([]point, 0, n), env: make([]point, 0, n),
		diffs: make([]float64, 0, n), pairs: make([]float64, 0, n*(n-1)/2),
	}
}

func (r *floorRing) slot(t time.Duration) int64 {
	s := int64(t / r.width)
	if t < 0 && t%r.width != 0 {
		s--
	}
	return s
}

// slotStart returns the start time of absolute slot s.
func (r *floorRing) slotStart(s int64) time.Duration { return time.Duration(s) * r.width }

func (r *floorRing) add(t time.Duration, v float64) {
	s := r.slot(t)
	pos := int(((s % int64(r.n)) + int64(r.n)) % int64(r.n))
	if !r.used || r.idx[pos] != s || s <= r.last-int64(r.n) {
		r.idx[pos], r.min[pos], r.tmin[pos] = s, v, t
		r.cacheOK = false
	} else if v < r.min[pos] {
		r.min[pos], r.tmin[pos] = v, t
		r.cacheOK = false
	}
	if !r.used || s > r.last {
		r.last = s
	}
	r.used = true
}

// points fills r.pt with the slot minima of the last n slots, oldest first.
func (r *floorRing) points() []point {
	r.pt = r.pt[:0]
	if !r.used {
		return r.pt
	}
	for s := r.last - int64(r.n) + 1; s <= r.last; s++ {
		pos := int(((s % int64(r.n)) + int64(r.n)) % int64(r.n))
		if r.idx[pos] == s {
			r.pt = append(r.pt, point{r.tmin[pos], r.min[pos]})
		}
	}
	return r.pt
}

// estimate is the result of one evaluation of a floorRing.
type estimate struct {
	ok        bool          // enough points and span
	rate      float64       // floor growth per minute, with a one-time step taken out
	base      float64       // envelope at the oldest slot (after splicing)
	floor     float64       // envelope at the newest slot (not spliced): the current floor
	span      time.Duration // from the start of the oldest non-empty slot to the end of the newest
	noise     float64       // robust spread of slot-to-slot changes of the slot minima
	jump      float64       // size of the one-time step taken out (0: none)
	jumpSlot  int64         // absolute slot number just before the step
	flatAfter bool          // the envelope after the step rose by less than half the step
}

// estimate computes the floor growth rate:
//
//  1. the slot minima m_i (bursts and upward outliers vanish in a slot's minimum);
//  2. a 3-slot running median (one odd slot, high or low, is dropped), then the lower envelope
//     e_i = min of the filtered m_i..m_last: non-decreasing; a sawtooth or a burst leaves it
//     flat, a leak raises it;
//  3. the largest rise between neighbouring envelope points is a one-time step when it is over
//     stepFactor times both the noise scale and the median rise; it is spliced out;
//  4. the Theil–Sen slope (median of pairwise slopes) of the envelope.
func (r *floorRing) estimate(minSpan time.Duration, stepFactor float64) estimate {
	if r.cacheOK && r.cacheMS == minSpan {
		return r.cached
	}
	r.cached, r.cacheOK, r.cacheMS = r.compute(minSpan, stepFactor), true, minSpan
	return r.cached
}

func (r *floorRing) compute(minSpan time.Duration, stepFactor float64) estimate {
	pts := r.points()
	var e estimate
	n := len(pts)
	if n < 3 {
		return e
	}
	e.span = time.Duration(r.last-r.slot(pts[0].t)+1) * r.width
	if e.span < minSpan {
		return e
	}
	// noise: median absolute deviation of the slot-to-slot changes of the minima
	r.diffs = r.diffs[:0]
	for i := 1; i < n; i++ {
		r.diffs = append(r.diffs, pts[i].v-pts[i-1].v)
	}
	med := median(r.diffs)
	for i := range r.diffs {
		r.diffs[i] = math.Abs(r.diffs[i] - med)
	}
	e.noise = median(r.diffs)

	// envelope: a 3-point running median (one odd slot, up or down, is dropped), then the
	// running minimum from the newest slot back (the lowest the series goes from then on)
	r.env = r.env[:n]
	for i := 0; i < n; i++ {
		// the oldest slot has one neighbour: it takes the median of the oldest three
		// the newest slot is taken as it is: a low outlier there only flattens the envelope
		// for one slot, while a real drop (a pool recycled) must count at once
		if i == n-1 {
			r.env[i] = pts[i]
			continue
		}
		j := max(i, 1)
		r.env[i] = med3(pts[j-1], pts[j], pts[j+1])
	}
	for i := n - 2; i >= 0; i-- {
		if r.env[i+1].v < r.env[i].v {
			r.env[i].v = r.env[i+1].v
		}
	}
	// each envelope point stays at its own slot's time, so a flat stretch is flat
	for i := range r.env {
		r.env[i].t = pts[i].t
	}
	e.floor = r.env[n-1].v

	// rises between neighbouring envelope points, and the largest
	r.diffs = r.diffs[:0]
	kmax, dmax := -1, 0.0
	for i := 1; i < n; i++ {
		d := r.env[i].v - r.env[i-1].v
		r.diffs = append(r.diffs, d)
		if d > dmax {
			kmax, dmax = i, d
		}
	}
	if kmax > 0 && len(r.diffs) >= 2 {
		typical := median(r.diffs)
		if dmax > stepFactor*e.noise && dmax > stepFactor*typical && dmax > 0 {
			e.jump = dmax
			e.jumpSlot = r.slot(pts[kmax-1].t)
			// a step is a shift to a new flat level; a ramp that goes on rising is not
			e.flatAfter = r.env[n-1].v-r.env[kmax].v < dmax/2
			for i := kmax; i < n; i++ {
				r.env[i].v -= dmax
			}
		}
	}
	e.base = r.env[0].v

	// Theil–Sen slope of the envelope
	r.pairs = r.pairs[:0]
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dt := r.env[j].t - r.env[i].t
			if dt <= 0 {
				continue
			}
			r.pairs = append(r.pairs, (r.env[j].v-r.env[i].v)/dt.Minutes())
		}
	}
	if len(r.pairs) == 0 {
		return e
	}
	e.rate = median(r.pairs)
	e.ok = true
	return e
}

// median sorts s in place and returns its median (NaN when empty). It does not allocate.
func median(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// med3 returns the point with the median value of three.
func med3(a, b, c point) point {
	if a.v > b.v {
		a, b = b, a
	}
	if b.v > c.v {
		b = c
	}
	if a.v > b.v {
		return a
	}
	return b
}
