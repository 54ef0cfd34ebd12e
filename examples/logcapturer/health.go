package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// health is the body of GET /health.
type health struct {
	// Status is "healthy", or "unhealthy" when a series is at critical or the watchdog is
	// stalled or stopped.
	Status string `json:"status"`
	// Reasons says why the status is unhealthy.
	Reasons []string `json:"reasons,omitempty"`
	// Level is the highest level of any series; Warning and Critical name the series there.
	Level    watchdog.Level `json:"level"`
	Warning  []string       `json:"warning,omitempty"`
	Critical []string       `json:"critical,omitempty"`

	Uptime   float64        `json:"uptime_s"`
	Watchdog watchdogHealth `json:"watchdog"`
	Capture  captureHealth  `json:"capture"`
	Smoke    smokeHealth    `json:"smoke"`
}

type smokeHealth struct {
	Status  watchdog.SmokeStatus `json:"status"`
	Verdict string               `json:"verdict,omitempty"`
	Stalled bool                 `json:"stalled,omitempty"`
}

type watchdogHealth struct {
	Running  bool      `json:"running"`
	Stalled  bool      `json:"stalled"`
	LastTick time.Time `json:"last_tick"`
}

type captureHealth struct {
	Containers   int64  `json:"containers"`
	Lines        uint64 `json:"lines"`
	FailedCycles uint64 `json:"failed_cycles"`
}

// checkHealth reads the watchdog's snapshot and the capturer's counters.
func checkHealth(s watchdog.Snapshot, smoke watchdog.SmokeReport, c *capturer, started time.Time) health {
	h := health{
		Status:   "healthy",
		Uptime:   s.Time.Sub(started).Seconds(),
		Watchdog: watchdogHealth{Running: s.Running, Stalled: s.Stalled, LastTick: s.LastTick},
		Capture: captureHealth{Containers: c.containers.Load(), Lines: c.lines.Load(),
			FailedCycles: c.errors.Load()},
		Smoke: smokeHealth{Status: smoke.Status, Verdict: smoke.Verdict, Stalled: smoke.Stalled},
	}
	for _, ser := range s.Series {
		h.Level = max(h.Level, ser.Level)
		switch ser.Level {
		case watchdog.LevelWarning:
			h.Warning = append(h.Warning, ser.Name)
		case watchdog.LevelCritical:
			h.Critical = append(h.Critical, ser.Name)
			h.Reasons = append(h.Reasons, ser.Name+" is critical")
		}
	}
	if s.Stalled {
		h.Reasons = append(h.Reasons, "watchdog stalled: no sample since "+s.LastTick.Format(time.RFC3339))
	}
	if !s.Running {
		h.Reasons = append(h.Reasons, "watchdog stopped")
	}
	if len(h.Reasons) > 0 {
		h.Status = "unhealthy"
	}
	return h
}

// healthHandler serves GET /health: 200 with status "healthy", or 503 with "unhealthy" and the
// reasons, as a container health check expects.
func healthHandler(w *watchdog.Watchdog, c *capturer, started time.Time) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := checkHealth(w.Snapshot(), w.SmokeReport(), c, started)
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		rw.Header().Set("Cache-Control", "no-store")
		if h.Status != "healthy" {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		enc.Encode(h) //nolint:errcheck // the client went away
	})
}
