package trend

import "time"

// Unread tells the detector that at t the series was due but not read: a probe read on a
// slower cadence than the ticks, or one that reads only when something changed (the live heap
// changes only at a collection). Nothing is estimated from it and no clock is reset: a level
// that the last sample supported and that has been supported for its confirmation time by t
// is raised (a pending raise confirms on time, not at the next reading, which may be minutes
// away), and nothing else changes; in particular nothing resolves on an unread sample, since
// without data a level is held. A t earlier than the newest sample, or before any sample,
// returns the previous verdict with Changed false, like a skipped Step.
func (d *Detector) Unread(t time.Duration) Verdict {
	out := d.last
	out.Prev, out.Changed = d.level, false
	if !d.started || t < d.lastT {
		return out
	}
	for l := Critical; l > d.level; l-- {
		if d.sinceOK[l] && t-d.since[l] >= d.confirmFor(l) {
			d.level, d.cause, d.downOn = l, d.pending, false
			out.Level, out.Changed, out.Cause = l, true, d.pending
			d.last = out
			d.last.Changed = false
			return out
		}
	}
	return out
}
