package watchdog

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// leakingSmokeWatchdog returns a stopped watchdog whose 16s smoke run failed: a goroutine was
// parked every 100ms (600/min).
func leakingSmokeWatchdog(t *testing.T) *Watchdog {
	t.Helper()
	var w *Watchdog
	synctest.Test(t, func(t *testing.T) {
		var err error
		c := smokeConfig()
		c.Attribution = DefaultAttributionConfig() // the alerts carry their evidence
		c.Attribution.Cooldown = time.Minute
		if w, err = Start(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var parked sync.WaitGroup
		for range 170 {
			time.Sleep(100 * time.Millisecond)
			parked.Go(func() { <-stop })
		}
		close(stop)
		parked.Wait()
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	if rep := w.SmokeReport(); rep.Status != SmokeFailed {
		t.Fatalf("leaking run: status %q, want failed", rep.Status)
	}
	return w
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

// TestSmokeHTMLInChromium loads a leaking run's page in a real headless Chromium: the SVG charts
// must be in the rendered DOM and the console free of errors. With -update it saves the
// screenshot as examples/logcapturer/smoke-report.png.
func TestSmokeHTMLInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not installed (apt-get install chromium): skipping the browser test", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	w := leakingSmokeWatchdog(t)
	srv := httptest.NewServer(w.Handler(HandlerOptions{}))
	defer srv.Close()
	url := srv.URL + "/debug/smoke?format=html"

	dom, logs := chromium(t, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	if n := strings.Count(dom, "<svg"); n < 2 {
		t.Errorf("rendered DOM has %d SVG charts, want at least 2 (goroutines, fds):\n%.2000s", n, dom)
	}
	for _, want := range []string{`class="threshold"`, `class="baseline"`, `class="mark"`, `class="series"`, "failed: FAIL", "goroutines grew", "evidence: "} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Uncaught") || strings.Contains(l, "Failed to load resource") {
			t.Errorf("console message: %s", l)
		}
	}

	shot := filepath.Join(t.TempDir(), "smoke-report.png")
	chromium(t, "--hide-scrollbars", "--screenshot="+shot, "--window-size=1280,1600", url)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10000 {
		t.Errorf("screenshot is not a PNG of a page (%d bytes)", len(png))
	}
	if *update {
		dst := filepath.Join("..", "examples", "logcapturer", "smoke-report.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
