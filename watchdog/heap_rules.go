package watchdog

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// Defaults of the live-heap rule ([HeapLiveRule]).
const (
	mib = 1 << 20
	// heapPctOf is the least live heap the percentages are taken of: 10 %/h of it is
	// 0.48 MiB/min, the slowest growth a service is warned of.
	heapPctOf = 288 * mib
	// heapPctAfter: the percentages grade from 40 minutes of uptime. A heap growing by less
	// than 2 MiB/min takes hours to matter, and a cache filled at start-up (150 MiB with a
	// 5-minute time constant) still grows by about 1 MiB/min averaged over minutes 6 to 26.
	heapPctAfter = 40 * time.Minute
	// heapWindowFactor: the live heap is judged over this many Windows (20 min at the default
	// 5 min). Its readings come only at collections, minutes apart in a program that allocates
	// little, and caches and batch buffers flushed every few minutes make sawtooths longer
	// than the goroutines' ones: a 5-minute window would see one reading or half a period.
	heapWindowFactor = 4
	// heapWarmupFactor: the live heap's warm-up is this times Warmup (6 min at the default
	// 5 min): caches filled at start-up still grow at a few MiB/min after 5 minutes.
	heapWarmupFactor = 1.2
	// heapFastEvidence is the live heap's Params.FastEvidence: its fast rule supports a level
	// once the heap rose a Window's worth of the threshold (40 MiB for the warning), not two,
	// over growth steady at every segment length from a fifth of the Window (4 min) down:
	// readings are minutes apart, and a leak of a few MiB per minute must be warned within
	// 10 minutes.
	heapFastEvidence = 1.0
	// heapConfirmFactor: the live heap's Confirm and Resolve are this times the Config's
	// (2.5 and 5 min at the defaults).
	heapConfirmFactor = 2
)

// HeapLiveRule returns the default rule of [SeriesHeapLive]: notice at 1 MiB/min or 5 %/h,
// warning at 2 MiB/min or 10 %/h, the percentages of max(live heap, 288 MiB), whichever is
// lower; no critical for growth (a heap that grows is not about to fail unless it has a
// limit); and, where GOMEMLIMIT or a cgroup limit is set, the exhaustion horizons of the
// other memory series (warning within 6 h, critical within 1 h, critical at the limit).
//
// Why these: a service whose live heap is flat or bounded (a cache that fills and then
// evicts, a batch buffer flushed every few minutes, the jitter of requests in flight at each
// collection) must never alarm, and one that keeps a few MiB per minute for tens of minutes
// must. The absolute rates catch a fast leak whatever the heap's size; the percentages catch
// a slow one in a small heap (10 %/h of 288 MiB is 491 KiB/min: a 512 KiB/min leak is
// warned), from 40 minutes of uptime (a cache filled at start-up still grows by a fraction of
// a MiB per minute for half an hour); above 1.2 GiB the absolute rates are the lower, so a
// 2 GiB heap is warned at 2 MiB/min, not at its 3.4 MiB/min of 10 %/h. The floor of 288 MiB
// keeps a 30 MiB heap growing by 3 MiB/h (10 %/h) from alarming.
func HeapLiveRule() Rule {
	return Rule{
		NoticePerMin: 1 * mib, WarningPerMin: 2 * mib,
		NoticePctPerHour: 5, WarningPctPerHour: 10, PctOf: heapPctOf, PctAfter: heapPctAfter,
		ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour,
	}
}

// seriesParams returns the detector parameters of the series named name. Every series is
// judged over Config.Window after Config.Warmup, with the Config's Confirm and Resolve,
// except the live heap: over heapWindowFactor Windows (20 min), after a quiet warm-up of
// heapWarmupFactor times Warmup (6 min), confirmed and resolved in heapConfirmFactor times
// the Config's (2.5 and 5 min), with the fast rule at heapFastEvidence and steady over a fifth
// of its window (see the package docs, Memory).
func seriesParams(cfg Config, name string) trend.Params {
	p := trendParams(cfg)
	if name == SeriesHeapLive {
		if p.Window == 0 {
			p.Window = trend.DefaultParams().Window
		}
		if p.Warmup == 0 {
			p.Warmup = trend.DefaultParams().Warmup
		}
		// Confirm and Resolve: twice the Config's (zero derives them from the Config's
		// Window, not the live heap's longer one): readings come a collection apart, and a
		// 75 s confirmation would rest on one or two of them
		if p.Confirm == 0 {
			p.Confirm = p.Window / 4
		}
		if p.Resolve == 0 {
			p.Resolve = p.Window / 2
		}
		p.Confirm *= heapConfirmFactor
		p.Resolve *= heapConfirmFactor
		p.Window *= heapWindowFactor
		p.QuietWarmup = true
		p.FastEvidence = heapFastEvidence
		p.FastSteadySpan = p.Window / 5
		if p.Warmup > 0 {
			p.Warmup = time.Duration(float64(p.Warmup) * heapWarmupFactor)
		}
	}
	return p
}
