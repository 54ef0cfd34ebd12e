package watchdog

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// stoppedSmokeWatchdog returns a watchdog that ran the 16s smoke run to a pass in a synctest
// bubble and was stopped: its report and history stay readable, outside the bubble.
func stoppedSmokeWatchdog(t *testing.T) *Watchdog {
	t.Helper()
	var w *Watchdog
	synctest.Test(t, func(t *testing.T) {
		var err error
		if w, err = Start(t.Context(), smokeConfig()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(17 * time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	return w
}

// TestSmokeHandler covers GET /smoke on a finished run, and POST /smoke on a live watchdog
// (real clock: the runs it starts are never waited for).
func TestSmokeHandler(t *testing.T) {
	done := stoppedSmokeWatchdog(t)
	live, err := Start(t.Context(), fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	h := done.Handler(HandlerOptions{})
	stopped := done.Handler(HandlerOptions{AllowSmokePOST: true})
	post := live.Handler(HandlerOptions{AllowSmokePOST: true})
	{
		for _, tc := range []struct {
			name, method, target, body string
			h                          http.Handler
			code                       int
			ctype                      string
			contains                   string
		}{
			{"json default", "GET", "/smoke", "", h, 200, "application/json", `"status": "passed"`},
			{"json explicit", "GET", "/debug/smoke?format=json", "", h, 200, "application/json", `"verdict": "PASS"`},
			{"text", "GET", "/smoke?format=text", "", h, 200, "text/plain; charset=utf-8", "[4/4] 16s: GOR="},
			{"md", "GET", "/smoke?format=md", "", h, 200, "text/markdown; charset=utf-8", "| Metric | Baseline | Final | Growth | Rate/min | Target | Status |"},
			{"html", "GET", "/smoke?format=html", "", h, 200, "text/html; charset=utf-8", "<svg"},
			{"head", "HEAD", "/smoke", "", h, 200, "application/json", ""},
			{"trailing slash", "GET", "/x/smoke/", "", h, 200, "application/json", `"status"`},
			{"unknown format", "GET", "/smoke?format=pdf", "", h, 400, "text/plain; charset=utf-8", `unknown format "pdf"`},
			{"empty format", "GET", "/smoke?format=", "", h, 400, "text/plain; charset=utf-8", "unknown format"},
			{"repeated format", "GET", "/smoke?format=md&format=json", "", h, 400, "text/plain; charset=utf-8", "given 2 times"},
			{"unknown param", "GET", "/smoke?fmt=md", "", h, 400, "text/plain; charset=utf-8", `unknown parameter "fmt"`},
			{"bad query escape", "GET", "/smoke?format=%zz", "", h, 400, "text/plain; charset=utf-8", "bad query"},
			{"semicolon query", "GET", "/smoke?format=md;x=1", "", h, 400, "text/plain; charset=utf-8", "bad query"},
			{"path param", "GET", "/smoke?../../etc/passwd", "", h, 400, "text/plain; charset=utf-8", "unknown parameter"},
			{"post not allowed", "POST", "/smoke", "", h, 405, "text/plain; charset=utf-8", "not allowed"},
			{"put", "PUT", "/smoke", "", post, 405, "text/plain; charset=utf-8", "not allowed"},
			{"delete", "DELETE", "/smoke", "", h, 405, "text/plain; charset=utf-8", "not allowed"},
			{"not found", "GET", "/smokes", "", h, 404, "text/plain; charset=utf-8", "not found"},
			{"post bad duration", "POST", "/smoke", "duration=forever", post, 400, "text/plain; charset=utf-8", "duration"},
			{"post checkpoint over duration", "POST", "/smoke", "duration=4s&checkpoint=8s", post, 400, "text/plain; charset=utf-8", "must not exceed"},
			{"post checkpoint under interval", "POST", "/smoke", "duration=4s&checkpoint=10ms", post, 400, "text/plain; charset=utf-8", "at least the Interval"},
			{"post negative", "POST", "/smoke", "duration=-1s", post, 400, "text/plain; charset=utf-8", "must be > 0"},
			{"post repeated", "POST", "/smoke?duration=8s", "duration=4s", post, 400, "text/plain; charset=utf-8", "given 2 times"},
			{"post unknown", "POST", "/smoke", "dir=/tmp", post, 400, "text/plain; charset=utf-8", "unknown parameter"},
			{"post too large", "POST", "/smoke", "duration=" + strings.Repeat("9", 2000) + "s", post, 400, "text/plain; charset=utf-8", "too large"},
			{"post wrong type", "POST", "/smoke", "{}", post, 415, "text/plain; charset=utf-8", "x-www-form-urlencoded"},
			{"post after stop", "POST", "/smoke", "", stopped, 503, "text/plain; charset=utf-8", "stopped"},
			{"post starts", "POST", "/smoke", "duration=8m&checkpoint=4m", post, 202, "application/json", `"status": "running"`},
			{"post while running", "POST", "/smoke", "", post, 409, "text/plain; charset=utf-8", "already running"},
			{"running json", "GET", "/smoke", "", post, 200, "application/json", `"expected_end"`},
			{"running text", "GET", "/smoke?format=text", "", post, 200, "text/plain; charset=utf-8", "=== Connection Pool Smoke Test (8min) ==="},
			{"running text end", "GET", "/smoke?format=text", "", post, 200, "text/plain; charset=utf-8", "Expected End: "},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
				if tc.body != "" && tc.body != "{}" {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, r)
				if rec.Code != tc.code {
					t.Errorf("code = %d, want %d; body %q", rec.Code, tc.code, rec.Body.String())
				}
				if got := rec.Header().Get("Content-Type"); got != tc.ctype {
					t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
				}
				if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
				}
				if tc.code == 405 && rec.Header().Get("Allow") == "" {
					t.Error("405 without Allow")
				}
				if !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("body lacks %q:\n%.600s", tc.contains, rec.Body.String())
				}
			})
		}
	}
}

// TestSmokeHandlerGoneClient: a request whose context has ended gets no page.
func TestSmokeHandlerGoneClient(t *testing.T) {
	w := stoppedSmokeWatchdog(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, target := range []string{"/smoke?format=html", "/watchdog"} {
		rec := httptest.NewRecorder()
		w.Handler(HandlerOptions{}).ServeHTTP(rec, httptest.NewRequest("GET", target, nil).WithContext(ctx))
		if rec.Body.Len() != 0 {
			t.Errorf("%s for a gone client wrote %d bytes", target, rec.Body.Len())
		}
	}
}

func TestSmokeHandlerNoRunAndHTML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(time.Second)
		h := w.Handler(HandlerOptions{})
		for _, f := range []string{"json", "text", "md", "html"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/smoke?format="+f, nil))
			if rec.Code != 200 {
				t.Errorf("format %s without run: code %d", f, rec.Code)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/smoke", nil))
		var rep SmokeReport
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rep.Status != SmokeNone || rep.Verdict != "" {
			t.Errorf("no run: %+v, %v; want status none", rep, err)
		}
	})
}

func TestWatchdogHandler(t *testing.T) {
	var w *Watchdog
	synctest.Test(t, func(t *testing.T) {
		c := smokeConfig()
		var err error
		w, err = Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // 600/min: critical
			defer close(done)
			for range 50 {
				go func() { <-stop }()
				time.Sleep(100 * time.Millisecond)
			}
			<-stop
		}()
		time.Sleep(6 * time.Second)
		close(stop)
		<-done
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	h := w.Handler(HandlerOptions{AllowSmokePOST: true})
	{
		for _, tc := range []struct {
			name, method, target string
			code                 int
			contains             string
		}{
			{"json", "GET", "/watchdog", 200, `"name": "goroutines"`},
			{"prefix", "GET", "/debug/watchdog", 200, `"heartbeat"`},
			{"head", "HEAD", "/watchdog", 200, ""},
			{"format json", "GET", "/watchdog?format=json", 200, `"heartbeat"`},
			{"format html", "GET", "/watchdog?format=html", 200, `<meta http-equiv="refresh"`},
			{"unknown format", "GET", "/watchdog?format=xml", 400, `unknown format "xml"`},
			{"repeated format", "GET", "/watchdog?format=html&format=json", 400, "given 2 times"},
			{"unknown param", "GET", "/watchdog?x=1", 400, `unknown parameter "x"`},
			{"bad query", "GET", "/watchdog?%zz", 400, "bad query"},
			{"post", "POST", "/watchdog", 405, "not allowed"},
			{"patch", "PATCH", "/watchdog", 405, "not allowed"},
			{"other path", "GET", "/watchdogs", 404, "not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
				if rec.Code != tc.code {
					t.Errorf("code = %d, want %d; body %q", rec.Code, tc.code, rec.Body.String())
				}
				if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Error("no nosniff")
				}
				if tc.code == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow = %q", rec.Header().Get("Allow"))
				}
				if !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("body lacks %q:\n%.400s", tc.contains, rec.Body.String())
				}
			})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/watchdog", nil))
		var v struct {
			Heartbeat struct {
				Stalled  bool      `json:"stalled"`
				LastTick time.Time `json:"last_tick"`
			} `json:"heartbeat"`
			Series []struct {
				Name       string  `json:"name"`
				RatePerMin float64 `json:"rate_per_min"`
				Level      string  `json:"level"`
			} `json:"series"`
			Alerts []struct { // Cause has no UnmarshalText, so not []Alert
				Series string `json:"series"`
				Reason string `json:"reason"`
			} `json:"alerts"`
			Smoke struct {
				Status string `json:"status"`
			} `json:"smoke"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Heartbeat.Stalled || v.Heartbeat.LastTick.IsZero() {
			t.Errorf("heartbeat = %+v, want a last tick and no stall (stopped)", v.Heartbeat)
		}
		if v.Series[0].Name != SeriesGoroutines || v.Series[0].RatePerMin < 300 || v.Series[0].Level == "ok" {
			t.Errorf("goroutines = %+v, want a raised level and a rate near 600/min", v.Series[0])
		}
		if len(v.Alerts) == 0 || v.Alerts[0].Series != SeriesGoroutines {
			t.Errorf("alerts = %v, want a goroutine alert first", v.Alerts)
		}
		if v.Smoke.Status != "failed" {
			t.Errorf("smoke status = %q, want failed (stopped after 6s of 16s)", v.Smoke.Status)
		}
	}
}

// TestLiveHTML: GET /watchdog?format=html is the live status page of a watchdog during a
// goroutine leak: every series with its level, the alert with its diagnosis and goroutine
// groups, the watchdog's health; text/html, nosniff, a meta refresh and no script.
func TestLiveHTML(t *testing.T) {
	var w *Watchdog
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Warmup = time.Second
		w, _ = leakSenders(t, c)
	})
	var ev *Evidence
	for _, a := range w.Snapshot().Alerts {
		if a.Series == SeriesGoroutines && a.Evidence != nil {
			ev = a.Evidence
		}
	}
	if ev == nil {
		t.Fatal("no goroutine alert with evidence")
	}
	var summary strings.Builder // as html/template escapes text
	if err := template.Must(template.New("").Parse("{{.}}")).Execute(&summary, ev.Diagnosis.Summary); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	w.Handler(HandlerOptions{}).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/watchdog?format=html", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET: %d, headers %v", rec.Code, rec.Header())
	}
	page := rec.Body.String()
	for _, want := range []string{`<meta http-equiv="refresh" content="5">`, `<span class="status critical" id="worst">critical</span>`,
		`<p class="diag">` + summary.String() + `</p>`, "Goroutine groups that grew", "evidence_test.go:",
		"chan send", "Watchdog health", `class="spark"`, "goroutines/min", ">stopped<"} {
		if !strings.Contains(page, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	for _, name := range []string{SeriesGoroutines, SeriesFDs, SeriesHeapBytes} {
		if !strings.Contains(page, "<td>"+name+"</td>") {
			t.Errorf("live page lacks series %s", name)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the live page has a script")
	}
	if n := len(page); n > 256<<10 {
		t.Errorf("live page is %d bytes, want it bounded", n)
	}
}
