package watchdog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HandlerOptions configures [Watchdog.Handler]. The zero value serves GET and HEAD only.
type HandlerOptions struct {
	// AllowSmokePOST lets POST /smoke start a smoke run with Config.Smoke (a zero Duration or
	// Checkpoint there takes the default), optionally overridden by the form values duration
	// and checkpoint (Go durations: "16s", "30m"). Off by default: without it POST is 405.
	AllowSmokePOST bool
}

// Handler returns an http.Handler serving the watchdog's self-report. Nothing is registered
// anywhere: the caller mounts it. It matches on the end of the request path, so it works
// under any prefix:
//
//	mux.Handle("/debug/smoke", h)       // GET /debug/smoke
//	mux.Handle("/debug/watchdog", h)    // GET /debug/watchdog
//	mux.Handle("/debug/", http.StripPrefix("/debug", h))
//
// Paths ending in /smoke serve the current or last smoke run ([Watchdog.SmokeReport]):
//
//   - no parameter or format=json: the report as JSON (status, verdict, baseline, checkpoints,
//     criteria, expected_end, stalled, ...);
//   - format=text: the seed's output lines so far (text/plain);
//   - format=md: the seed's report template filled in (text/markdown);
//   - format=html: one self-contained page: the run's phase (running with its progress and
//     what is on track so far, passed, failed; a criterion not judged yet is pending), inline
//     SVG charts of the goroutines, FDs and HTTP connections over the whole run (the run keeps
//     its own series, whatever Config.HistorySize) with clock-time axes, the baseline, the
//     threshold, the checkpoints and the alerts drawn and sampling noise as a min-max band; the
//     checklist, what grew in its units, the alerts with their evidence; no script, no
//     external asset.
//
// Paths ending in /watchdog serve the continuous view:
//
//   - no parameter or format=json: as JSON, every series' value, rate per minute, level and
//     time to exhaustion, the recent alerts with their evidence, the heartbeat (last tick,
//     stalled) and the smoke run's status;
//   - format=html: the live status page, the same for a person: every series with its level,
//     rate in its unit, a sparkline of its history and time to exhaustion, the series that
//     need attention first; the recent alerts, newest first, each with its evidence laid out
//     (diagnosis, goroutine groups, descriptors, connections); the watchdog's own health (tick
//     cost, stalls, probe errors, dropped alerts, handler panics). It refreshes itself every
//     5 s with a meta refresh: no script.
//
// GET and HEAD never change anything and no parameter reaches the filesystem. An unknown or
// repeated parameter, or an unknown format, is answered 400; another path 404; another
// method 405 with an Allow header, except POST /smoke with opts.AllowSmokePOST, which starts
// a run (202 with the JSON report; 400 for bad values; 409 while a run is going; 503 after
// Stop). Errors are text/plain. Every response carries X-Content-Type-Options: nosniff. Every
// format escapes what it prints (HTML by html/template, Markdown by backslashes and entities),
// and the pages are bounded: at most 20 alerts, 10 rows per evidence table, 120 points per
// sparkline, 600 columns per chart.
// The handler is safe for concurrent use, also after Stop.
func (w *Watchdog) Handler(opts HandlerOptions) http.Handler {
	return &handler{w: w, opts: opts}
}

type handler struct {
	w    *Watchdog
	opts HandlerOptions
}

// httpError is the handler's one error path.
func httpError(rw http.ResponseWriter, code int, msg string) {
	h := rw.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(code)
	fmt.Fprintln(rw, msg)
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "smoke" || strings.HasSuffix(p, "/smoke"):
		h.smoke(rw, r)
	case p == "watchdog" || strings.HasSuffix(p, "/watchdog"):
		h.watchdog(rw, r)
	default:
		httpError(rw, http.StatusNotFound, "watchdog: not found: the handler serves paths ending in /smoke and /watchdog")
	}
}

// params parses the query, refusing parameters not in allowed and repeated ones.
func params(raw string, allowed ...string) (map[string]string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("watchdog: bad query: %w", err)
	}
	out := make(map[string]string, len(q))
	for k, v := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("watchdog: unknown parameter %q: this path takes none", k)
			}
			return nil, fmt.Errorf("watchdog: unknown parameter %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("watchdog: parameter %q given %d times", k, len(v))
		}
		out[k] = v[0]
	}
	return out, nil
}

func (h *handler) smoke(rw http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		if h.opts.AllowSmokePOST {
			h.startSmoke(rw, r)
			return
		}
		fallthrough
	default:
		allow := "GET, HEAD"
		if h.opts.AllowSmokePOST {
			allow = "GET, HEAD, POST"
		}
		rw.Header().Set("Allow", allow)
		httpError(rw, http.StatusMethodNotAllowed, "watchdog: method "+r.Method+" not allowed on /smoke (allowed: "+allow+")")
		return
	}
	q, err := params(r.URL.RawQuery, "format")
	if err != nil {
		httpError(rw, http.StatusBadRequest, err.Error())
		return
	}
	format, ok := q["format"]
	if !ok {
		format = "json"
	}
	var rep SmokeReport
	if format != "html" {
		rep = h.w.SmokeReport()
	}
	var body []byte
	var ctype string
	switch format {
	case "json":
		body, err = json.MarshalIndent(rep, "", "  ")
		body, ctype = append(body, '\n'), "application/json"
	case "text":
		body, ctype = []byte(rep.Text()+rep.textStatus()), "text/plain; charset=utf-8"
	case "md":
		body, ctype = []byte(rep.Markdown()), "text/markdown; charset=utf-8"
	case "html":
		body, err = h.w.smokeHTML(r.Context())
		ctype = "text/html; charset=utf-8"
	default:
		httpError(rw, http.StatusBadRequest, fmt.Sprintf("watchdog: unknown format %q (json, text, md or html)", format))
		return
	}
	if err != nil {
		if r.Context().Err() != nil {
			return // the client has gone
		}
		httpError(rw, http.StatusInternalServerError, "watchdog: "+err.Error())
		return
	}
	write(rw, ctype, http.StatusOK, body)
}

func write(rw http.ResponseWriter, ctype string, code int, body []byte) {
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(code)
	rw.Write(body)
}

// startSmoke serves POST /smoke.
func (h *handler) startSmoke(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 1<<10))
	if err != nil {
		httpError(rw, http.StatusBadRequest, "watchdog: form too large or unreadable")
		return
	}
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		httpError(rw, http.StatusUnsupportedMediaType, "watchdog: POST /smoke takes application/x-www-form-urlencoded")
		return
	}
	raw := r.URL.RawQuery
	if len(body) > 0 {
		if raw != "" {
			raw += "&"
		}
		raw += string(bytes.TrimSpace(body))
	}
	q, err := params(raw, "duration", "checkpoint")
	if err != nil {
		httpError(rw, http.StatusBadRequest, err.Error())
		return
	}
	c := h.w.cfg.Smoke // its zero durations are defaulted already
	for k, dst := range map[string]*time.Duration{"duration": &c.Duration, "checkpoint": &c.Checkpoint} {
		if v, ok := q[k]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				httpError(rw, http.StatusBadRequest, fmt.Sprintf("watchdog: %s: %v", k, err))
				return
			}
			*dst = d
		}
	}
	switch err := h.w.StartSmoke(c); {
	case errors.Is(err, ErrSmokeRunning):
		httpError(rw, http.StatusConflict, err.Error())
		return
	case errors.Is(err, ErrStopped):
		httpError(rw, http.StatusServiceUnavailable, err.Error())
		return
	case errors.Is(err, ErrInvalidConfig):
		httpError(rw, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		httpError(rw, http.StatusInternalServerError, err.Error())
		return
	}
	b, err := json.MarshalIndent(h.w.SmokeReport(), "", "  ")
	if err != nil {
		httpError(rw, http.StatusInternalServerError, "watchdog: "+err.Error())
		return
	}
	write(rw, "application/json", http.StatusAccepted, append(b, '\n'))
}

// watchdogView is the JSON of GET /watchdog.
type watchdogView struct {
	Time      time.Time    `json:"time"`
	Started   time.Time    `json:"started"`
	Running   bool         `json:"running"`
	Heartbeat heartbeat    `json:"heartbeat"`
	Interval  float64      `json:"interval_s"`
	Window    float64      `json:"window_s"`
	Series    []seriesView `json:"series"`
	// Alerts, newest first.
	Alerts        []Alert           `json:"alerts"`
	AlertsTotal   map[string]uint64 `json:"alerts_total"`
	Cost          Cost              `json:"cost"`
	ProbeErrors   uint64            `json:"probe_errors"`
	HandlerPanics uint64            `json:"handler_panics"`
	AlertsDropped uint64            `json:"alerts_dropped"`
	Smoke         smokeBrief        `json:"smoke"`
}

type heartbeat struct {
	LastTick     time.Time `json:"last_tick"`
	SinceLastS   float64   `json:"since_last_tick_s"`
	Stalled      bool      `json:"stalled"`
	StallAfterS  float64   `json:"stall_after_s"`
	TicksCounted uint64    `json:"ticks"`
}

type seriesView struct {
	Name              string  `json:"name"`
	Value             float64 `json:"value"`
	Valid             bool    `json:"valid"`
	RatePerMin        float64 `json:"rate_per_min"`
	RateReady         bool    `json:"rate_ready"`
	Baseline          float64 `json:"baseline"`
	Level             Level   `json:"level"`
	Cause             Cause   `json:"cause"`
	Limit             float64 `json:"limit,omitempty"`
	TimeToExhaustionS float64 `json:"time_to_exhaustion_s,omitempty"`
	Unsupported       bool    `json:"unsupported,omitempty"`
	LastError         string  `json:"last_error,omitempty"`
}

type smokeBrief struct {
	Status      SmokeStatus `json:"status"`
	Verdict     string      `json:"verdict"`
	Stalled     bool        `json:"stalled"`
	ExpectedEnd time.Time   `json:"expected_end,omitzero"`
}

func (h *handler) watchdog(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rw.Header().Set("Allow", "GET, HEAD")
		httpError(rw, http.StatusMethodNotAllowed, "watchdog: method "+r.Method+" not allowed on /watchdog (allowed: GET, HEAD)")
		return
	}
	q, err := params(r.URL.RawQuery, "format")
	if err != nil {
		httpError(rw, http.StatusBadRequest, err.Error())
		return
	}
	switch f, ok := q["format"]; {
	case !ok || f == "json":
	case f == "html":
		body, err := h.w.liveHTML(r.Context())
		if err != nil {
			if r.Context().Err() != nil {
				return // the client has gone
			}
			httpError(rw, http.StatusInternalServerError, "watchdog: "+err.Error())
			return
		}
		write(rw, "text/html; charset=utf-8", http.StatusOK, body)
		return
	default:
		httpError(rw, http.StatusBadRequest, fmt.Sprintf("watchdog: unknown format %q (json or html)", f))
		return
	}
	s := h.w.Snapshot()
	v := watchdogView{
		Time: s.Time, Started: s.Started, Running: s.Running,
		Heartbeat: heartbeat{LastTick: s.LastTick, Stalled: s.Stalled, StallAfterS: h.w.cfg.StallAfter.Seconds(), TicksCounted: s.Cost.Ticks},
		Interval:  s.Interval.Seconds(), Window: s.Window.Seconds(),
		Series:      make([]seriesView, 0, len(s.Series)),
		Alerts:      make([]Alert, 0, len(s.Alerts)),
		AlertsTotal: map[string]uint64{},
		Cost:        s.Cost, ProbeErrors: s.ProbeErrors, HandlerPanics: s.HandlerPanics, AlertsDropped: s.AlertsDropped,
	}
	if !s.LastTick.IsZero() {
		v.Heartbeat.SinceLastS = s.Time.Sub(s.LastTick).Seconds()
	}
	for _, x := range s.Series {
		v.Series = append(v.Series, seriesView{
			Name: x.Name, Value: x.Value, Valid: x.Valid, RatePerMin: round2(x.RatePerMin), RateReady: x.RateReady,
			Baseline: x.Baseline, Level: x.Level, Cause: x.Cause, Limit: x.Limit,
			TimeToExhaustionS: x.TimeToExhaustion.Seconds(), Unsupported: x.Unsupported, LastError: x.LastError,
		})
	}
	for i := len(s.Alerts) - 1; i >= 0; i-- {
		v.Alerts = append(v.Alerts, s.Alerts[i])
	}
	for l, n := range s.AlertsTotal {
		v.AlertsTotal[Level(l).String()] = n
	}
	rep := h.w.SmokeReport()
	v.Smoke = smokeBrief{Status: rep.Status, Verdict: rep.Verdict, Stalled: rep.Stalled}
	if rep.Status == SmokeRunning {
		v.Smoke.ExpectedEnd = rep.ExpectedEnd
	}
	if r.Context().Err() != nil {
		return
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		httpError(rw, http.StatusInternalServerError, "watchdog: "+err.Error())
		return
	}
	write(rw, "application/json", http.StatusOK, append(b, '\n'))
}
