package main

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// TestGoroutineLeakDefaults runs the command with -leak-goroutines 600 and the default detector
// settings (no -interval, -window or -warmup): goroutines are critical within 2 minutes of the
// start, /health says so, and the critical alert's own evidence (not the warning's, logged
// seconds before) names the blocked channel send in leaks.go. Once with -smoke 0 (watching
// only), once with the default 30-minute smoke run, which is still running when the live alert
// comes. About 70 s each on an idle machine; the two run in parallel.
func TestGoroutineLeakDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it for about 70 s")
	}
	bin := buildCommand(t)
	for _, c := range []struct {
		name  string
		args  []string
		smoke bool // the default 30-minute smoke run is on
	}{
		{"smoke=0", []string{"-smoke", "0", "-leak-goroutines", "600"}, false},
		{"smoke=30m", []string{"-leak-goroutines", "600"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			r := start(t, bin, c.args...)
			al, ev := r.waitCriticalEvidence(t, "goroutines", 4*time.Minute)

			// 600/min is twelve times the critical rate (50/min): a leak that starts with the
			// process is critical long before the 5-minute warm-up and window would allow.
			if d := al.time().Sub(began); d > 2*time.Minute {
				t.Errorf("goroutines critical %v after the start, want within 2m", d.Round(time.Second))
			} else {
				t.Logf("goroutines critical %v after the start", d.Round(time.Second))
			}
			if al.Cause != "growth" {
				t.Errorf("critical alert cause %q, want growth", al.Cause)
			}
			if ev.AlertID != al.AlertID || ev.Kind != "goroutines" || ev.Skipped != "" {
				t.Errorf("critical alert %d: evidence for alert %d, kind %q, skipped %q; want its own goroutine evidence",
					al.AlertID, ev.AlertID, ev.Kind, ev.Skipped)
			}
			if ev.Cause != "blocked_channel_send" {
				t.Errorf("evidence cause %q, want blocked_channel_send: %s", ev.Cause, ev.Diagnosis)
			}
			for _, want := range []string{"blocked sending on a channel", "main.blockedForeverOnSend", "leaks.go:"} {
				if !strings.Contains(ev.Diagnosis, want) {
					t.Errorf("evidence diagnosis %q does not name %q", ev.Diagnosis, want)
				}
			}

			// The live level: /health is unhealthy with goroutines critical; with a smoke run, the
			// run is still running, its verdict long to come.
			var h health
			deadline := time.Now().Add(30 * time.Second)
			for {
				h = health{}
				r.getJSON(t, "health", "/health", 0, &h)
				if slices.Contains(h.Critical, "goroutines") || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if h.Status != "unhealthy" || !slices.Contains(h.Critical, "goroutines") {
				t.Errorf("/health status %q critical %q after the critical alert, want unhealthy with goroutines critical", h.Status, h.Critical)
			}
			if c.smoke {
				if h.Smoke.Status != watchdog.SmokeRunning || h.Smoke.Verdict != "" {
					t.Errorf("/health smoke %+v at the live alert, want running with no verdict yet", h.Smoke)
				}
				var s struct{ Status watchdog.SmokeStatus }
				r.getJSON(t, "health", "/smoke", http.StatusOK, &s)
				if s.Status != watchdog.SmokeRunning {
					t.Errorf("/smoke status %q at the live alert, want running", s.Status)
				}
			}
		})
	}
}

// loggedAlert is what a test reads of an "alert" or "attribution" log line.
type loggedAlert struct {
	Msg        string
	TS         float64 `json:"ts"`
	AlertID    uint64  `json:"alert_id"`
	Series     string
	AlertLevel string `json:"alert_level"`
	Cause      string
	Evidence   *loggedEvidence
}

// time is when the line was logged.
func (l loggedAlert) time() time.Time {
	s, f := math.Modf(l.TS)
	return time.Unix(int64(s), int64(f*1e9))
}

// loggedEvidence is what a test reads of a logged alert's evidence.
type loggedEvidence struct {
	AlertID   uint64 `json:"alert_id"`
	Kind      string
	Skipped   string
	Cause     string
	Diagnosis string
}

// waitCriticalEvidence polls the log for the first critical alert on series and the
// attribution line that carries its evidence (logged once the snapshot is taken, on another
// goroutine), for at most d from now, and returns both. A critical alert logged with evidence
// that says why it has no snapshot fails at once.
func (r *proc) waitCriticalEvidence(t *testing.T, series string, d time.Duration) (loggedAlert, loggedEvidence) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var al *loggedAlert
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			var l loggedAlert
			if json.Unmarshal([]byte(line), &l) != nil || l.Series != series || l.AlertLevel != "critical" {
				continue
			}
			switch {
			case l.Msg == "alert" && al == nil:
				if l.Evidence != nil && l.Evidence.Skipped != "" {
					t.Fatalf("critical %s alert %d has no evidence: %s", series, l.AlertID, l.Evidence.Skipped)
				}
				al = &l
			case l.Msg == "attribution" && al != nil && l.AlertID == al.AlertID && l.Evidence != nil:
				return *al, *l.Evidence
			}
		}
		select {
		case <-r.exited:
			t.Fatalf("exited (%v) before a critical %s alert with its evidence was logged", r.err, series)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			if al != nil {
				t.Fatalf("critical %s alert %d logged, but no attribution line with its evidence within %v", series, al.AlertID, d)
			}
			t.Fatalf("no critical %s alert logged within %v", series, d)
		}
	}
}
