package watchdog

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// page is one page rendered by the handler at some moment of a run.
type page struct {
	name string // the screenshot's file name under examples/logcapturer
	html []byte
}

// get serves target from h and returns the body.
func get(t *testing.T, h http.Handler, target string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// healthyRunPages runs the seed's 30-minute smoke run at 1 s samples in a synctest bubble,
// with a burst of short-lived goroutines every second (sampling noise, no leak), and returns the
// smoke page 12 minutes in and after the end, with the run's report at those moments.
func healthyRunPages(t *testing.T) (running, passed page, repRunning SmokeReport) {
	synctest.Test(t, func(t *testing.T) {
		c := DefaultConfig()
		c.Jitter = NoJitter
		c.Attribution.Disabled = true
		c.Smoke.Enabled = true
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		h := w.Handler(HandlerOptions{})
		rng := rand.New(rand.NewPCG(1, 2))
		var wg sync.WaitGroup
		noise := func(d time.Duration) {
			for end := time.Now().Add(d); time.Now().Before(end); {
				for range rng.IntN(12) {
					sleep := time.Duration(rng.IntN(900)) * time.Millisecond
					wg.Go(func() { time.Sleep(sleep) })
				}
				time.Sleep(time.Second)
			}
		}
		noise(12*time.Minute + 30*time.Second)
		running = page{"smoke-running.png", get(t, h, "/smoke?format=html")}
		repRunning = w.SmokeReport()
		noise(19 * time.Minute)
		wg.Wait()
		passed = page{"smoke-passed.png", get(t, h, "/smoke?format=html")}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		if rep := w.SmokeReport(); rep.Status != SmokePassed {
			t.Fatalf("healthy run: %q, reasons %q", rep.Status, rep.Reasons)
		}
	})
	return running, passed, repRunning
}

// leakForever blocks sending on ch: the goroutine leak of the leaking run, so that its
// evidence names this file.
func leakForever(ch chan<- int) { ch <- 1 }

// leakingRunPages runs a 10-minute smoke run (checkpoint 1 min, Window 2 min, warm-up 1 min) in a
// synctest bubble while goroutines leak at 120/min from minute 1 and a descriptor is left open
// every 6 s (10/min), and returns the live page during the leak (minute 8), the smoke page of
// the failed run, and the diagnosis of the goroutine alert the live page shows.
func leakingRunPages(t *testing.T) (live, failed page, diagnosis string) {
	synctest.Test(t, func(t *testing.T) {
		c := DefaultConfig()
		c.Jitter = NoJitter
		c.Window = 2 * time.Minute
		c.Warmup = time.Minute
		c.Attribution = DefaultAttributionConfig()
		c.Attribution.Cooldown = time.Minute
		c.Smoke = SmokeConfig{Enabled: true, Duration: 10 * time.Minute, Checkpoint: time.Minute}
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		h := w.Handler(HandlerOptions{})
		ch := make(chan int)
		leaked := 0
		var files []*os.File
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
		time.Sleep(time.Minute + time.Second)
		step := func(d time.Duration) {
			for end := time.Now().Add(d); time.Now().Before(end); {
				for range 2 {
					go leakForever(ch)
					leaked++
				}
				if time.Now().Second()%6 == 0 {
					f, err := os.Open(os.DevNull)
					if err != nil {
						t.Fatal(err)
					}
					files = append(files, f)
				}
				time.Sleep(time.Second)
			}
		}
		step(7 * time.Minute)
		live = page{"live-leak.png", get(t, h, "/watchdog?format=html")}
		for _, a := range w.Snapshot().Alerts {
			if a.Series == SeriesGoroutines && a.Evidence != nil {
				diagnosis = a.Evidence.Diagnosis.Summary
			}
		}
		step(3 * time.Minute)
		time.Sleep(5 * time.Second)
		failed = page{"smoke-failed.png", get(t, h, "/smoke?format=html")}
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		for range leaked { // release the leak: nothing may outlive the bubble
			<-ch
		}
		if rep := w.SmokeReport(); rep.Status != SmokeFailed {
			t.Fatalf("leaking run: %q", rep.Status)
		}
	})
	if diagnosis == "" {
		t.Fatal("no goroutine alert with evidence during the leak")
	}
	return live, failed, diagnosis
}

func chromium(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
	}
	return o.String(), e.String()
}

// rendered writes p to a file, loads it in headless Chromium and returns the DOM after
// rendering; the console must be free of errors. With -update it saves a screenshot under
// examples/logcapturer.
func rendered(t *testing.T, p page, height int) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), strings.TrimSuffix(p.name, ".png")+".html")
	if err := os.WriteFile(file, p.html, 0o600); err != nil {
		t.Fatal(err)
	}
	url := "file://" + file
	dom, logs := chromium(t, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Uncaught") || strings.Contains(l, "Failed to load resource") {
			t.Errorf("%s: console message: %s", p.name, l)
		}
	}
	if *update {
		shot := filepath.Join(t.TempDir(), p.name)
		chromium(t, "--hide-scrollbars", "--screenshot="+shot, "--window-size=1280,"+strconv.Itoa(height), url)
		png, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10000 {
			t.Fatalf("screenshot is not a PNG of a page (%d bytes)", len(png))
		}
		if err := os.WriteFile(filepath.Join("..", "examples", "logcapturer", p.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dom
}

var (
	svgSpan   = regexp.MustCompile(`<svg[^>]*class="chart"[^>]*data-t0="([^"]+)" data-t1="([^"]+)"`)
	polyFirst = regexp.MustCompile(`<polyline class="series"[^>]*points="([0-9.]+),`)
)

// TestSmokeHTMLInChromium loads the pages in a real headless Chromium and asserts on the
// rendered DOM: a healthy run in progress shows no failed criterion and its charts span the
// whole run from its start to its expected end; a finished healthy run passes; a leaking run
// fails with its evidence laid out; the live page during the leak shows the alert's diagnosis.
// With -update it saves the four screenshots under examples/logcapturer.
func TestSmokeHTMLInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not installed (apt-get install chromium): skipping the browser test", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	running, passed, rep := healthyRunPages(t)
	live, failed, diagnosis := leakingRunPages(t)

	t.Run("running", func(t *testing.T) {
		dom := rendered(t, running, 1250)
		if !strings.Contains(dom, `id="phase">running: 12m30s of 30min`) {
			t.Errorf("phase not running with its progress:\n%.3000s", dom)
		}
		i, j := strings.Index(dom, `id="checklist"`), strings.Index(dom, "</table>")
		if i < 0 || j < i {
			t.Fatalf("no checklist in the DOM")
		}
		if list := dom[i:]; strings.Contains(list[:strings.Index(list, "</table>")], `class="fail"`) {
			t.Errorf("a running healthy run shows a failed criterion:\n%s", list[:strings.Index(list, "</table>")])
		}
		if !strings.Contains(dom, `class="pending">pending`) || strings.Contains(dom, "off track") {
			t.Errorf("want the full duration pending and nothing off track")
		}
		spans := svgSpan.FindAllStringSubmatch(dom, -1)
		if len(spans) < 2 {
			t.Fatalf("%d charts in the DOM, want goroutines and fds", len(spans))
		}
		for _, s := range spans {
			if s[1] != rep.Started.UTC().Format(time.RFC3339) || s[2] != rep.ExpectedEnd.UTC().Format(time.RFC3339) {
				t.Errorf("chart spans %s to %s, want the whole run %v to %v", s[1], s[2], rep.Started, rep.ExpectedEnd)
			}
		}
		for _, m := range polyFirst.FindAllStringSubmatch(dom, -1) {
			if x, _ := strconv.ParseFloat(m[1], 64); x > 56+530.0/drawnColumns { // the plot starts at x=56; the first point is mid-column
				t.Errorf("series starts at x=%v, want the run's start at the left edge", x)
			}
		}
		for _, want := range []string{`class="threshold"`, `class="baseline"`, `class="band"`, `class="mark"`, `class="tick xtick"`} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
	})
	t.Run("passed", func(t *testing.T) {
		dom := rendered(t, passed, 1250)
		for _, want := range []string{`id="phase">passed: PASS`, "every must-have holds"} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
		if strings.Contains(dom, `class="pending"`) {
			t.Error("a finished run shows a pending criterion")
		}
	})
	t.Run("failed", func(t *testing.T) {
		dom := rendered(t, failed, 2200)
		for _, want := range []string{`id="phase">failed: FAIL`, "goroutines grew", `class="alert"`, `class="diag"`,
			"Goroutine groups that grew", "handler_chromium_test.go:", "Descriptors by kind and target", "goroutines/min"} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
	})
	t.Run("live", func(t *testing.T) {
		dom := rendered(t, live, 1400)
		for _, want := range []string{`<meta http-equiv="refresh" content="5">`, `class="diag">` + domText(diagnosis),
			`class="spark"`, "Watchdog health", "tick cost"} {
			if !strings.Contains(dom, want) {
				t.Errorf("live page lacks %q", want)
			}
		}
	})
}

// domText is s as Chromium serializes a text node.
func domText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}
