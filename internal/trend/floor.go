package trend

import (
	"math"
	"time"
)

// floorRing keeps, for each fixed-width time slot of a history of h slots, the lowest sample
// and when it was seen. The estimate looks at the last n completed slots (its window) plus, for
// a series that recycles, up to h-n-1 older slots (the cycle lag). Memory is fixed at
// construction; add is O(1) and allocation-free; estimate is O(h·lag + n²) and also
// allocation-free, and is meant to run once per completed slot.
type floorRing struct {
	width time.Duration
	n     int // completed slots in the estimate window
	h     int // positions in the ring: history, including the open slot
	idx   []int64
	min   []float64
	tmin  []time.Duration
	max   []float64 // the slot's highest sample
	drop  []float64 // the largest fall within the slot: a sample below an earlier one of the slot
	cur   int64     // the open slot (the newest)
	curP  int       // its position
	curT0 time.Duration
	curT1 time.Duration // [curT0, curT1) is the open slot's time span
	used  bool
	from  int64 // first slot whose samples may be graded (after warm-up); earlier ones only show cycles

	// estimate also computes the window's consistency (Kendall's tau, for the growth estimate)
	wantTau bool

	// scratch for estimate, sized at construction
	pt    []point // completed slots of the history, oldest first
	flt   []float64
	raw   []float64 // the window's raw minima, floored over the cycle lag
	env   []point
	diffs []float64
	pairs []float64
}

type point struct {
	s    int64 // absolute slot number
	t    time.Duration
	v    float64
	hi   float64 // the slot's highest sample (history only)
	drop float64 // the largest fall within the slot (history only)
}

// newFloorRing returns a ring of n window slots over span, with lag extra slots of history
// for the cycle lag.
func newFloorRing(span time.Duration, n, lag int) *floorRing {
	w := span / time.Duration(n)
	if w <= 0 {
		w = 1
	}
	h := n + lag + 1
	return &floorRing{
		width: w, n: n, h: h, from: math.MaxInt64,
		idx: make([]int64, h), min: make([]float64, h), tmin: make([]time.Duration, h),
		max: make([]float64, h), drop: make([]float64, h),
		pt: make([]point, 0, h), flt: make([]float64, h), raw: make([]float64, h), env: make([]point, 0, n),
		diffs: make([]float64, 0, h), pairs: make([]float64, 0, n*(n-1)/2),
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

func (r *floorRing) pos(s int64) int { return int(((s % int64(r.h)) + int64(r.h)) % int64(r.h)) }

// gradeFrom marks t as the first gradable sample: the estimate uses slots from the first one
// that starts at or after t.
func (r *floorRing) gradeFrom(t time.Duration) {
	r.from = r.slot(t)
	if r.slotStart(r.from) < t {
		r.from++
	}
}

// add records a sample in O(1). It reports whether t opened a new slot after an earlier one:
// then every slot before r.cur is complete and an estimate may change. t must not go back.
func (r *floorRing) add(t time.Duration, v float64) (closed bool) {
	if r.used && t >= r.curT0 && t < r.curT1 { // the common case: no division
		p := r.curP
		if v < r.min[p] {
			r.min[p], r.tmin[p] = v, t
		}
		if v > r.max[p] {
			r.max[p] = v
		} else if r.max[p]-v > r.drop[p] {
			r.drop[p] = r.max[p] - v
		}
		return false
	}
	s := r.slot(t)
	if r.used && s == r.cur {
		return false // not reached while t is in [curT0, curT1)
	}
	closed = r.used
	p := r.pos(s)
	r.idx[p], r.min[p], r.tmin[p], r.max[p], r.drop[p] = s, v, t, v, 0
	r.cur, r.curP, r.used = s, p, true
	r.curT0, r.curT1 = r.slotStart(s), r.slotStart(s+1)
	return closed
}

// history fills r.pt with the completed slots of the last h-1, oldest first.
func (r *floorRing) history() []point {
	r.pt = r.pt[:0]
	if !r.used {
		return r.pt
	}
	for s := r.cur - int64(r.h) + 1; s <= r.cur; s++ {
		if p := r.pos(s); r.idx[p] == s {
			r.pt = append(r.pt, point{s: s, t: r.tmin[p], v: r.min[p], hi: r.max[p], drop: r.drop[p]})
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
	jump      float64       // size of the one-time step taken out (0: none)
	jumpSlot  int64         // absolute slot number just before the step
	jumpTop   float64       // envelope level just after the step (not spliced)
	flatAfter bool          // the envelope after the step rose by less than half the step
	lag       int           // cycle lag used, in slots
	tau       float64       // Kendall's tau of the window's floored points (before the envelope)
	noise     float64       // noise scale of the window's slot-to-slot changes
}

// ceiling returns the level that growth now at v tends to if it goes on decelerating as it
// did: from rate r1 to rate r2 over dt minutes, growth whose rate decays exponentially
// (r2 < r1) tends to v + r2 × τ with τ = dt / ln(r1/r2) (a fill levelling off tends to its
// plateau; a steady leak's noise makes τ many times dt, so its ceiling is far off). Growth
// that does not decelerate has no ceiling: +Inf.
func ceiling(r1, r2, dt, v float64) float64 {
	switch {
	case !(r1 > 0) || !(dt > 0) || r2 >= r1:
		return math.Inf(1)
	case r2 <= 0:
		return v
	}
	return v + r2*dt/math.Log(r1/r2)
}

// envCeiling returns the level the envelope of the last estimate (which must have been ok)
// tends to if it goes on decelerating as it did, from the Theil–Sen rates of its two halves
// (see ceiling); +Inf with fewer than 6 points. It reuses the estimate's scratch.
func (r *floorRing) envCeiling() float64 {
	n := len(r.env)
	if n < 6 {
		return math.Inf(1)
	}
	h := n / 2
	mid := func(i, j int) time.Duration { return (r.env[i].t + r.env[j].t) / 2 }
	return ceiling(r.slope(0, h), r.slope(h, n-1), (mid(h, n-1) - mid(0, h)).Minutes(), r.env[n-1].v)
}

// slope returns the Theil–Sen slope of r.env[i..j], per minute (0 without a pair); it uses
// r.pairs as scratch.
func (r *floorRing) slope(i, j int) float64 {
	r.pairs = r.pairs[:0]
	for a := i; a <= j; a++ {
		for b := a + 1; b <= j; b++ {
			if dt := r.env[b].t - r.env[a].t; dt > 0 {
				r.pairs = append(r.pairs, (r.env[b].v-r.env[a].v)/dt.Minutes())
			}
		}
	}
	if len(r.pairs) == 0 {
		return 0
	}
	return median(r.pairs)
}

// cycleLag finds how long the series recently stayed up before coming back down. It works on
// the raw slot minima m (not the 3-slot median, which flattens a fast sawtooth into a small
// square wave), with a return level g_i = max(m_i, m_i+1): a return must hold for two slots, so
// a single low outlier is not one. For each slot i, the excursion that ends there is the
// stretch since the latest earlier slot k with m_k <= g_i + tol (tol = 2 × noise). It counts
// when the series rose significantly above the return level in between: by more than
// stepFactor × noise, and at an average rate of at least minRate per minute over the excursion
// (a slower excursion could never be graded). With no such k in the history the excursion is
// censored: it lasted at least since the oldest slot kept. The result is the longest excursion,
// in slots, plus one slot of margin, capped at maxLag. A sawtooth gives its period, bursts that
// fill slots their length; a monotone leak, a step, a warm-up that levels off and noise give 0.
// It needs r.pt filled by history.
func (r *floorRing) cycleLag(stepFactor, minRate float64, maxLag int) int {
	pts := r.pt
	m := len(pts)
	if m < 4 {
		return 0
	}
	r.diffs = r.diffs[:0]
	for i := 1; i < m; i++ {
		r.diffs = append(r.diffs, pts[i].v-pts[i-1].v)
	}
	noise := noiseScale(r.diffs)
	tol, sig := 2*noise, stepFactor*noise
	slotMin := r.width.Minutes()
	best := 0
	for i := 1; i < m-1; i++ {
		g := max(pts[i].v, pts[i+1].v)
		top := math.Inf(-1)
		k := i - 1
		for ; k >= 0 && pts[k].v > g+tol; k-- {
			top = max(top, pts[k].v)
		}
		if k == i-1 {
			continue
		}
		k = max(k, 0) // censored: up since the oldest slot kept
		rise := top - g
		e := int(pts[i].s - pts[k].s)
		if rise > sig && rise > 0 && rise >= minRate*float64(e)*slotMin && e > best {
			best = e
		}
	}
	if best == 0 {
		return 0
	}
	return min(best+1, maxLag)
}

// filter fills r.flt with a 3-slot running median of the history's minima: one odd slot, high
// or low, is dropped. The oldest slot takes the median of the oldest three; the newest is taken
// as it is: a low outlier there only flattens the envelope for one slot, while a real drop (a
// pool recycled) must count at once.
func (r *floorRing) filter() {
	pts := r.pt
	n := len(pts)
	for i := 0; i < n; i++ {
		if i == n-1 || n < 3 {
			r.flt[i] = pts[i].v
			continue
		}
		j := max(i, 1)
		r.flt[i] = med3(pts[j-1].v, pts[j].v, pts[j+1].v)
	}
}

// estimate computes the floor growth rate over the last n completed slots:
//
//  1. the slot minima m_i, 3-slot median filtered (bursts and upward outliers vanish in a
//     slot's minimum, one odd slot in the filter);
//  2. with lag > 0 (a series that recycles), the running minimum of each point over the lag
//     slots before it: the floor taken over whole cycles;
//  3. the lower envelope e_i = min of those from i to the newest: non-decreasing; a sawtooth or
//     a burst leaves it flat, a leak raises it;
//  4. the largest rise between neighbouring envelope points is a one-time step when it is over
//     stepFactor times both the noise scale and the median rise; it is spliced out;
//  5. the Theil–Sen slope (median of pairwise slopes, by selection) of the envelope.
//
// lag < 0 asks cycleLag (with stepFactor, minRate, and the ring's spare history as the cap);
// lag >= 0 imposes it (capped likewise).
func (r *floorRing) estimate(minSpan time.Duration, stepFactor, minRate float64, lag int) estimate {
	var e estimate
	pts := r.history()
	r.filter()
	maxLag := r.h - r.n - 1
	if lag < 0 {
		lag = r.cycleLag(stepFactor, minRate, maxLag)
	}
	lag = min(lag, maxLag)
	e.lag = lag

	// window points, with the cycle floor
	from := max(r.cur-int64(r.n)+1, r.from) // oldest slot of the window
	r.env = r.env[:0]
	for i := range pts {
		if pts[i].s < from {
			continue
		}
		v, raw := r.flt[i], pts[i].v
		for k := i - 1; k >= 0 && pts[k].s >= max(pts[i].s-int64(lag), r.from); k-- {
			v, raw = min(v, r.flt[k]), min(raw, pts[k].v)
		}
		r.raw[len(r.env)] = raw
		r.env = append(r.env, point{s: pts[i].s, t: pts[i].t, v: v})
	}
	n := len(r.env)
	if n < 3 {
		return e
	}
	e.span = time.Duration(r.cur-r.env[0].s+1) * r.width
	if e.span < minSpan {
		return e
	}
	// consistency (Kendall's tau) of the window's raw slot minima, floored over the cycle lag
	// but not median-filtered: a leak raises most of them over the earlier ones; noise (or a
	// sawtooth aliased by short slots) whose lower envelope rises only because its newest
	// points have not come down yet does not
	conc, pairs := 0, 0
	for i := 0; i < n && r.wantTau; i++ {
		for j := i + 1; j < n; j++ {
			switch d := r.raw[j] - r.raw[i]; {
			case d > 0:
				conc++
			case d < 0:
				conc--
			}
			pairs++
		}
	}
	if pairs > 0 {
		e.tau = float64(conc) / float64(pairs)
	}
	// noise: median absolute deviation of the slot-to-slot changes of the window's raw minima
	r.diffs = r.diffs[:0]
	for i := len(pts) - n + 1; i < len(pts); i++ {
		r.diffs = append(r.diffs, pts[i].v-pts[i-1].v)
	}
	noise := noiseScale(r.diffs)
	e.noise = noise

	// lower envelope: the lowest the series goes from then on
	for i := n - 2; i >= 0; i-- {
		if r.env[i+1].v < r.env[i].v {
			r.env[i].v = r.env[i+1].v
		}
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
		if dmax > stepFactor*noise && dmax > stepFactor*typical && dmax > 0 {
			e.jump = dmax
			e.jumpSlot = r.env[kmax-1].s
			e.jumpTop = r.env[kmax].v
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

// noiseScale returns the noise scale of slot-to-slot changes d (reordered): their median
// absolute deviation, but at least the data's resolution (the smallest non-zero change, when
// there are two or more), so that integer counts that mostly repeat do not make every change of
// one look significant.
func noiseScale(d []float64) float64 {
	res, nz := math.Inf(1), 0
	for _, x := range d {
		if x != 0 {
			res = min(res, math.Abs(x))
			nz++
		}
	}
	if nz < 2 { // a constant series with one change: that change is not noise
		res = 0
	}
	med := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	return max(median(d), res)
}

// median returns the median of s (NaN when empty) in O(len(s)) by selection; it reorders s
// and does not allocate.
func median(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	k := n / 2
	hi := selectK(s, k)
	if n%2 == 1 {
		return hi
	}
	// s[:k] now holds the k smallest: the lower middle is their maximum
	lo := s[0]
	for _, x := range s[1:k] {
		lo = max(lo, x)
	}
	return (lo + hi) / 2
}

// selectK reorders s so that s[k] is the value it would have sorted, everything before it is
// <= s[k] and everything after is >= s[k], and returns s[k]. Quickselect with a median-of-three
// pivot; expected O(len(s)), no allocation.
func selectK(s []float64, k int) float64 {
	lo, hi := 0, len(s)-1
	for hi > lo {
		if hi-lo < 8 { // insertion sort for short ranges
			for i := lo + 1; i <= hi; i++ {
				for j := i; j > lo && s[j] < s[j-1]; j-- {
					s[j], s[j-1] = s[j-1], s[j]
				}
			}
			break
		}
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}

// med3 returns the median of three values.
func med3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
