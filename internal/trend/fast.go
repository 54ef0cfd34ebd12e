package trend

// steadyOver applies Params.FastSteadySpan to the fast rule's envelope env (its newest point
// at index last): with K the number of slots that span at least FastSteadySpan, the envelope
// must have risen over both of its newest two K-slot segments, the newer at least fastSteady
// × the older's rate and the older at least fastAccel × the newer's, as the fast rule checks
// for each segment length. Growth that decelerates (a cache filling, at a rate decaying by a
// third every two minutes) fails it over four minutes even where a collector's jitter makes
// it look steady over two; a leak passes at every length. Without the span, or before the
// envelope holds two such segments, it reports true when the span is off and false otherwise
// (the fast rule then waits for the data).
func (d *Detector) steadyOver(env []point, last int) bool {
	span := d.p.FastSteadySpan
	if span <= 0 {
		return true
	}
	w := d.short.width
	k := int((span + w - 1) / w)
	if k < 1 {
		k = 1
	}
	if 2*k > last {
		return false
	}
	b, c := last-2*k, last-k
	dtNew, dtMid := (env[last].t - env[c].t).Minutes(), (env[c].t - env[b].t).Minutes()
	if dtNew <= 0 || dtMid <= 0 {
		return false
	}
	rNew, rMid := (env[last].v-env[c].v)/dtNew, (env[c].v-env[b].v)/dtMid
	return rNew > 0 && rMid > 0 && rNew >= fastSteady*rMid && rMid >= fastAccel*rNew
}
