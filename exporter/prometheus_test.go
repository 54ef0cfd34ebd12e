package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// TestRealPrometheus runs the seed's service in miniature (a watchdog with an HTTP pool named
// docker talking to a loopback server, the exporter and the process collector on a loopback
// /metrics) under a real Prometheus server (Debian's /usr/bin/prometheus) scraping every second
// with rules generated for short windows. Through Prometheus's HTTP API it checks that the
// seed's queries return data, that no leak alert fires while the service is healthy, and that a
// goroutine leak fires both the raw-series rule and the verdict rule. Skipped without the
// prometheus binary or with -short. Bounded to about 90 s.
func TestRealPrometheus(t *testing.T) {
	bin := prometheusOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Second)
	defer cancel()

	// The service: an HTTP pool doing a request every 50 ms against a loopback backend.
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	pool, err := httppool.New("docker")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	// Background goroutines (the client, the leak) end before the transport and the backend
	// are closed.
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel()
	client := &http.Client{Transport: pool.Instrument(tr), Timeout: 5 * time.Second}
	bg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})

	cfg := watchdog.DefaultConfig()
	cfg.Interval, cfg.Window, cfg.Warmup = 200*time.Millisecond, 6*time.Second, time.Nanosecond
	cfg.Attribution.Disabled = true
	w, err := watchdog.Start(ctx, cfg, watchdog.WithHTTPPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(w, Options{Namespace: "log_capturer"}), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()

	api := startPrometheus(t, ctx, bin, strings.TrimPrefix(metrics.URL, "http://"))

	// Healthy: the seed's queries return data, and no leak alert fires.
	for _, q := range []string{
		"log_capturer_goroutines", "process_open_fds",
		"log_capturer_docker_http_requests_total", "log_capturer_docker_http_idle_connections",
		"log_capturer_watchdog_level", `log_capturer_watchdog_running == 1`,
	} {
		api.waitQuery(q)
	}
	api.waitQuery("rate(log_capturer_docker_http_requests_total[5s]) > 0")
	if a := api.firing(AlertGoroutineGrowth, nil); len(a) > 0 {
		t.Errorf("%s fires before the leak: %v", AlertGoroutineGrowth, a)
	}

	// The leak: 10 goroutines parked every second (600/min), released at the end.
	release := make(chan struct{})
	defer close(release)
	bg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				bg.Go(func() { <-release })
			}
		}
	})
	api.waitFiring(AlertGoroutineGrowth, map[string]string{"severity": "critical", "series": "goroutines"})
	api.waitFiring(AlertWatchdogLevel, map[string]string{"severity": "critical", "series": "goroutines"})
	for _, name := range []string{AlertHTTPNoIdleConnections, AlertHTTPErrors, AlertFDGrowth, AlertWatchdogStalled} {
		if a := api.firing(name, nil); len(a) > 0 {
			t.Errorf("%s fires for a goroutine leak: %v", name, a)
		}
	}
}

// prometheusOrSkip returns the prometheus binary, or skips the test under -short or when it is
// not installed.
func prometheusOrSkip(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the real Prometheus server test")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not on PATH (Debian: apt-get install prometheus); skipping")
	}
	return bin
}

// startPrometheus runs the prometheus binary on a free loopback port, scraping target every
// second with the rules generated for short windows, waits until it is ready, and kills it
// when the test ends.
func startPrometheus(t *testing.T, ctx context.Context, bin, target string) *promAPI {
	t.Helper()
	dir := t.TempDir()
	rules, err := AlertRules(RulesOptions{Namespace: "log_capturer", Pools: []string{"docker"},
		GrowthWindow: 20 * time.Second, GrowthFor: 5 * time.Second,
		ExhaustionWindow: time.Minute, ExhaustionFor: 5 * time.Second,
		HTTPWindow: 20 * time.Second, HTTPFor: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: log_capturer
    static_configs:
      - targets: [%q]
`, target)
	for name, b := range map[string][]byte{"rules.yml": rules, "prometheus.yml": []byte(conf)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	logs := &lockedBuilder{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	api := &promAPI{t: t, ctx: ctx, base: "http://" + addr}
	api.waitReady()
	return api
}

// lockedBuilder is a strings.Builder safe for the writes of a child process's two pipes.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRealPrometheusScrapesExample runs examples/logcapturer as the seed's team runs their
// service, with a descriptor leak switched on, and a real Prometheus scraping its /metrics every
// second: the seed's queries return data, and the FD growth alert fires, from the raw gauge
// (process_open_fds) and from the watchdog's verdict.
func TestRealPrometheusScrapesExample(t *testing.T) {
	bin := prometheusOrSkip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Second)
	defer cancel()
	example := filepath.Join(t.TempDir(), "logcapturer")
	if out, err := exec.Command("go", "build", "-o", example, "../examples/logcapturer").CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/logcapturer: %v\n%s", err, out)
	}
	metricsAddr := freeAddr(t)
	logs := &lockedBuilder{}
	cmd := exec.CommandContext(ctx, example, "-smoke", "0", "-interval", "200ms", "-window", "6s", "-warmup", "1s",
		"-leak-fds", "120", "-metrics-addr", metricsAddr, "-health-addr", freeAddr(t), "-pprof-addr", freeAddr(t))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("example output:\n%s", logs.String())
		}
	}()
	api := startPrometheus(t, ctx, bin, metricsAddr)
	for _, q := range []string{
		"log_capturer_goroutines", "process_open_fds", "log_capturer_docker_http_requests_total",
		"log_capturer_docker_http_idle_connections", "log_capturer_watchdog_level",
	} {
		api.waitQuery(q)
	}
	// promtool check metrics on a scrape of the example: the exporter, the process and the Go
	// collectors side by side.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	runPromtool(t, t.TempDir(), scrape, "check", "metrics")
	api.waitFiring(AlertFDGrowth, map[string]string{"severity": "critical"})
	api.waitFiring(AlertWatchdogLevel, map[string]string{"severity": "critical", "series": "fds"})
	if a := api.firing(AlertHTTPErrors, nil); len(a) > 0 {
		t.Errorf("%s fires for a descriptor leak: %v", AlertHTTPErrors, a)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// promAPI queries a Prometheus server's HTTP API; every wait polls every 100 ms until ctx ends.
type promAPI struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (p *promAPI) get(path string, v any) error {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// wait calls ok every 100 ms until it returns true, failing the test when ctx ends first.
func (p *promAPI) wait(what string, ok func() (bool, error)) {
	p.t.Helper()
	var last error
	for {
		done, err := ok()
		if done {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-p.ctx.Done():
			p.t.Fatalf("gave up waiting for %s (last error: %v)", what, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *promAPI) waitReady() {
	p.t.Helper()
	p.wait("prometheus /-/ready", func() (bool, error) { return p.get("/-/ready", nil) == nil, nil })
}

// waitQuery waits until the instant query q returns at least one sample.
func (p *promAPI) waitQuery(q string) {
	p.t.Helper()
	p.wait("query "+q, func() (bool, error) {
		var r struct {
			Status string
			Data   struct{ Result []json.RawMessage }
		}
		if err := p.get("/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
			return false, err
		}
		return r.Status == "success" && len(r.Data.Result) > 0, nil
	})
}

type promAlert struct {
	Labels map[string]string
	State  string
}

// firing returns the firing alerts named name whose labels include labels.
func (p *promAPI) firing(name string, labels map[string]string) []promAlert {
	p.t.Helper()
	var r struct {
		Data struct{ Alerts []promAlert }
	}
	if err := p.get("/api/v1/alerts", &r); err != nil {
		p.t.Errorf("alerts: %v", err)
		return nil
	}
	var out []promAlert
next:
	for _, a := range r.Data.Alerts {
		if a.State != "firing" || a.Labels["alertname"] != name {
			continue
		}
		for k, v := range labels {
			if a.Labels[k] != v {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

func (p *promAPI) waitFiring(name string, labels map[string]string) {
	p.t.Helper()
	start := time.Now()
	p.wait(fmt.Sprintf("alert %s %v firing", name, labels), func() (bool, error) {
		return len(p.firing(name, labels)) > 0, nil
	})
	p.t.Logf("%s %v firing after %v", name, labels, time.Since(start).Round(100*time.Millisecond))
}
