package watchdog

import (
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// Suffixes of an HTTP pool's series: the pool named "docker" has http_docker_requests,
// http_docker_errors, and so on. See [httppool.Stats] for what each counts.
const (
	HTTPRequests     = "requests"      // requests sent (counter)
	HTTPErrors       = "errors"        // transport errors (counter)
	HTTPResponses5xx = "responses_5xx" // 5xx responses, apart from errors (counter)
	HTTPOpen         = "open"          // open connections
	HTTPActive       = "active"        // connections carrying a request or an unread body
	HTTPIdle         = "idle"          // open - active
	HTTPReuseRatio   = "reuse_ratio"   // share of requests served on an already-open connection, 0..1
	HTTPWaiting      = "waiting"       // requests waiting for a connection (MaxConnsPerHost)
)

var httpSuffixes = []string{HTTPRequests, HTTPErrors, HTTPResponses5xx, HTTPOpen, HTTPActive, HTTPIdle, HTTPReuseRatio, HTTPWaiting}

// HTTPSeries returns the name of the series with the given suffix for the pool named pool:
// HTTPSeries("docker", HTTPIdle) is "http_docker_idle".
func HTTPSeries(pool, suffix string) string { return "http_" + pool + "_" + suffix }

// seedReuseRatio is the seed's connection reuse target (80%), declared once: the reuse
// ratio's floor in [HTTPRules] and the smoke run's nice-to-have.
const seedReuseRatio = 0.8

// HTTPRules returns the seed's rules for the pool named pool, which [Start] applies to every pool
// given with [WithHTTPPool] unless Config.Rules sets a rule of the same name: any transport error
// is a warning; no idle connection for a while as requests flow is a warning ("pooling is
// broken"); reuse under 80% as requests flow is a notice; open connections are judged by the
// growth thresholds of fds in [DefaultRules] (5, 15, 30/min).
func HTTPRules(pool string) map[string]Rule {
	fd := DefaultRules()[SeriesFDs] // open connections grow like descriptors: the same thresholds
	return map[string]Rule{
		HTTPSeries(pool, HTTPErrors):     {OnIncrease: LevelWarning},
		HTTPSeries(pool, HTTPOpen):       {NoticePerMin: fd.NoticePerMin, WarningPerMin: fd.WarningPerMin, CriticalPerMin: fd.CriticalPerMin},
		HTTPSeries(pool, HTTPIdle):       {Below: 1, BelowLevel: LevelWarning, BelowWhile: HTTPSeries(pool, HTTPRequests)},
		HTTPSeries(pool, HTTPReuseRatio): {Below: seedReuseRatio, BelowLevel: LevelNotice, BelowWhile: HTTPSeries(pool, HTTPRequests)},
	}
}

// WithHTTPPool samples the pool's statistics every tick as the series named by [HTTPSeries]
// (http_<name>_requests, _errors, _responses_5xx, _open, _active, _idle, _reuse_ratio,
// _waiting), judged by [HTTPRules]. The pool may instrument its transports before or after
// Start. Two pools may not share a name. A nil pool is ignored.
func WithHTTPPool(p *httppool.Pool) Option {
	return optionFunc(func(o *options) {
		if p != nil {
			o.pools = append(o.pools, p)
		}
	})
}

// readPools stores every pool's statistics into v, len(httpSuffixes) values per pool.
func readPools(pools []*httppool.Pool, v []float64) {
	for i, p := range pools {
		s := p.Stats()
		x := v[i*len(httpSuffixes):]
		x[0] = float64(s.Requests)
		x[1] = float64(s.Errors)
		x[2] = float64(s.Responses5xx)
		x[3] = float64(s.Open)
		x[4] = float64(s.Active)
		x[5] = float64(s.Idle)
		x[6] = s.ReuseRatio
		x[7] = float64(s.Waiting)
	}
}

// HTTPPoolSeries is one HTTP pool given with [WithHTTPPool], as data: its name and the names of
// its series, so that a consumer (an exporter, say) need not parse series names back.
type HTTPPoolSeries struct {
	// Pool is the pool's name, as given to httppool.New.
	Pool string
	// Series holds one entry per suffix, in the order HTTPRequests, HTTPErrors,
	// HTTPResponses5xx, HTTPOpen, HTTPActive, HTTPIdle, HTTPReuseRatio, HTTPWaiting.
	Series []HTTPSeriesName
}

// HTTPSeriesName is one series of an HTTP pool: its suffix (HTTPRequests, ...) and its name,
// HTTPSeries(pool, suffix), as in [Snapshot] and [Watchdog.SeriesNames].
type HTTPSeriesName struct {
	Suffix, Name string
}

// HTTPPools returns the watchdog's HTTP pools in the order they were given to [Start], each
// with its series. The result is a fresh copy; the pools are fixed at Start, so it never
// changes. Safe for concurrent use.
func (w *Watchdog) HTTPPools() []HTTPPoolSeries {
	out := make([]HTTPPoolSeries, 0, len(w.pools))
	for _, p := range w.pools {
		ps := HTTPPoolSeries{Pool: p.Name(), Series: make([]HTTPSeriesName, len(httpSuffixes))}
		for i, suf := range httpSuffixes {
			ps.Series[i] = HTTPSeriesName{Suffix: suf, Name: HTTPSeries(p.Name(), suf)}
		}
		out = append(out, ps)
	}
	return out
}
