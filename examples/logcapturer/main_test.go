package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-to-end tests build the command and run it as the seed's team would: a 16-second smoke
// run with a checkpoint every 4 s, on free loopback ports, while the test queries it with the
// seed's commands (/metrics greps, /health's status, the pprof goroutine dump). A healthy run
// must pass (exit 0), a run leaking 600 goroutines a minute must fail (exit 1) and say that the
// goroutine criterion failed. Each run takes about 17 s; the two run in parallel.

const (
	smokeArgs   = "-smoke 16s -checkpoint 4s -exit-after-smoke"
	checkpoints = 4
)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it for about 20 s")
	}
	bin := buildCommand(t)

	t.Run("healthy", func(t *testing.T) {
		t.Parallel()
		r := start(t, bin, strings.Fields(smokeArgs)...)
		r.waitMetrics(t)

		m := r.get(t, "metrics", "/metrics", http.StatusOK)
		for _, name := range []string{"log_capturer_goroutines", "process_open_fds",
			"log_capturer_docker_http_idle_connections", "log_capturer_docker_http_requests_total"} {
			if _, ok := metricValue(m, name); !ok {
				t.Errorf("/metrics: no line %q", "^"+name+" ")
			}
		}
		if !strings.Contains(m, "docker_http") {
			t.Errorf("/metrics: nothing matches docker_http")
		}
		if v, _ := metricValue(m, "log_capturer_docker_http_requests_total"); v < 1 {
			t.Errorf("log_capturer_docker_http_requests_total = %v, want >= 1 (the first cycle ran before the watchdog)", v)
		}
		r.waitIdleConnection(t)

		var h health
		r.getJSON(t, "health", "/health", http.StatusOK, &h)
		if h.Status != "healthy" {
			t.Errorf("/health status = %q (reasons %q), want healthy", h.Status, h.Reasons)
		}
		if h.Capture.Containers != 4 {
			t.Errorf("/health capture.containers = %d, want 4", h.Capture.Containers)
		}
		var smoke struct{ Status string }
		r.getJSON(t, "health", "/smoke", http.StatusOK, &smoke)
		if smoke.Status != "running" {
			t.Errorf("/smoke status = %q, want running", smoke.Status)
		}
		var wd struct{ Series []json.RawMessage }
		r.getJSON(t, "health", "/watchdog", http.StatusOK, &wd)
		if len(wd.Series) == 0 {
			t.Errorf("/watchdog: no series")
		}
		dump := r.get(t, "pprof", "/debug/pprof/goroutine?debug=2", http.StatusOK)
		if !strings.Contains(dump, "main.(*capturer).run") {
			t.Errorf("goroutine dump lacks the capture loop main.(*capturer).run:\n%.2000s", dump)
		}

		code := r.wait(t, 40*time.Second)
		out := r.stdout.String()
		checkSmokeOutput(t, out)
		if code != 0 {
			t.Errorf("exit status %d, want 0 (PASS)\nstdout:\n%s\nstderr:\n%s", code, out, r.stderr.String())
		}
		if v := r.finalVerdict(t); v.Verdict != "PASS" {
			t.Errorf("verdict %q, reasons %q, want PASS", v.Verdict, v.Reasons)
		}
	})

	t.Run("goroutine-leak", func(t *testing.T) {
		t.Parallel()
		r := start(t, bin, append(strings.Fields(smokeArgs), "-leak-goroutines", "600")...)
		r.waitMetrics(t)

		// The detector's window is 4 s (derived): 600/min is critical (>= 50/min) within the run,
		// which /health reports. It may pass through unhealthy with goroutines only at warning
		// first (how soon depends on the machine's load): wait for the critical verdict itself.
		var h health
		deadline := time.Now().Add(12 * time.Second)
		for {
			h = health{}
			r.getJSON(t, "health", "/health", 0, &h)
			if (h.Status == "unhealthy" && slices.Contains(h.Critical, "goroutines")) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if h.Status != "unhealthy" || !slices.Contains(h.Critical, "goroutines") {
			t.Errorf("/health status %q critical %q, want unhealthy with goroutines critical", h.Status, h.Critical)
		}
		dump := r.get(t, "pprof", "/debug/pprof/goroutine?debug=2", http.StatusOK)
		if n := strings.Count(dump, "main.blockedForeverOnSend("); n < 10 {
			t.Errorf("goroutine dump shows %d goroutines in main.blockedForeverOnSend, want >= 10", n)
		}

		code := r.wait(t, 40*time.Second)
		out := r.stdout.String()
		growth := checkSmokeOutput(t, out)
		if code != 1 {
			t.Errorf("exit status %d, want 1 (FAIL)\nstdout:\n%s\nstderr:\n%s", code, out, r.stderr.String())
		}
		if growth < 100 {
			t.Errorf("goroutine growth at the last checkpoint %d, want >= 100 (600/min over 16 s)", growth)
		}
		v := r.finalVerdict(t)
		if v.Verdict != "FAIL" || len(v.Reasons) == 0 || !strings.Contains(v.Reasons[0], "goroutines grew") ||
			!strings.Contains(v.Reasons[0], "10/min") {
			t.Errorf("verdict %q, reasons %q; want FAIL, first reason: goroutines grew ... 10/min must-have", v.Verdict, v.Reasons)
		}
	})
}

// buildCommand builds the example into a temporary directory.
func buildCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "logcapturer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is one running process of the command.
type proc struct {
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	addrs  map[string]string // server name -> host:port, from the "listening" log lines
	exited chan struct{}     // closed once Wait has returned
	err    error             // Wait's error, once exited is closed
	client *http.Client
}

// start runs bin with free loopback ports and JSON logs, and waits for its three servers to
// listen. The process is killed at the end of the test if it is still running.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args = append([]string{"-metrics-addr", "127.0.0.1:0", "-health-addr", "127.0.0.1:0",
		"-pprof-addr", "127.0.0.1:0", "-log-json"}, args...)
	r := &proc{
		cmd:    exec.CommandContext(ctx, bin, args...), // cancel kills it
		addrs:  map[string]string{},
		exited: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	pr, pw := io.Pipe()
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = pw
	r.cmd.WaitDelay = 2 * time.Second
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	addrs := make(chan [2]string, 3)
	scanned := make(chan struct{})
	go func() { // stderr: keep every line, report the listening addresses
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			r.stderr.Write(append(line, '\n'))
			var l struct{ Msg, Server, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				addrs <- [2]string{l.Server, l.Addr}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		r.err = r.cmd.Wait()
		pw.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills the process if it still runs
		<-r.exited
		<-scanned
		if t.Failed() {
			t.Logf("%s %s\nstdout:\n%s\nstderr:\n%s", bin, strings.Join(args, " "), r.stdout.String(), r.stderr.String())
		}
	})
	timeout := time.After(30 * time.Second)
	for len(r.addrs) < 3 {
		select {
		case a := <-addrs:
			r.addrs[a[0]] = a[1]
		case <-r.exited:
			t.Fatalf("exited before listening (%v)\nstderr:\n%s", r.err, r.stderr.String())
		case <-timeout:
			t.Fatalf("servers not listening after 30s: %v\nstderr:\n%s", r.addrs, r.stderr.String())
		}
	}
	return r
}

// fetch GETs path from the named server.
func (r *proc) fetch(server, path string) (int, string, error) {
	addr, ok := r.addrs[server]
	if !ok {
		return 0, "", fmt.Errorf("no server %q", server)
	}
	resp, err := r.client.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// get GETs path from the named server and checks the status code (0: any).
func (r *proc) get(t *testing.T, server, path string, wantCode int) string {
	t.Helper()
	code, body, err := r.fetch(server, path)
	if err != nil {
		t.Fatalf("GET %s %s: %v", server, path, err)
	}
	if wantCode != 0 && code != wantCode {
		t.Fatalf("GET %s %s: status %d, want %d\n%.500s", server, path, code, wantCode, body)
	}
	return body
}

func (r *proc) getJSON(t *testing.T, server, path string, wantCode int, v any) {
	t.Helper()
	body := r.get(t, server, path, wantCode)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s %s: %v\n%.500s", server, path, err, body)
	}
}

// waitMetrics waits until /metrics serves the watchdog's metrics (the routes are mounted once
// the watchdog has started, a few milliseconds after the servers listen).
func (r *proc) waitMetrics(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, err := r.fetch("metrics", "/metrics")
		if err == nil && code == http.StatusOK && strings.Contains(body, "\nlog_capturer_goroutines ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics not ready after 10s: status %d, error %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitIdleConnection waits until the docker pool shows an idle connection (pooling works), as
// the seed's "HTTP Idle Conns: should be > 0". A scrape can land inside a capture cycle, when
// the one connection is busy, so it looks a few times.
func (r *proc) waitIdleConnection(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := r.get(t, "metrics", "/metrics", http.StatusOK)
		if v, _ := metricValue(m, "log_capturer_docker_http_idle_connections"); v > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("log_capturer_docker_http_idle_connections never > 0 in 5s")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit status.
func (r *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		t.Fatalf("wait: %v", r.err)
	}
	return 0
}

type verdict struct {
	Verdict string
	Reasons []string
}

// finalVerdict returns the verdict the command logged before exiting.
func (r *proc) finalVerdict(t *testing.T) verdict {
	t.Helper()
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		var l struct {
			Msg string
			verdict
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "smoke run over, exiting" {
			return l.verdict
		}
	}
	t.Fatalf("no log line \"smoke run over, exiting\"")
	return verdict{}
}

// checkSmokeOutput checks stdout line by line against the seed's format for a 16-second run
// with 4 checkpoints, and returns the goroutine growth at the last checkpoint.
func checkSmokeOutput(t *testing.T, out string) (growth int) {
	t.Helper()
	const date = `[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4}`
	const rate = `\(([+-]\d+), -?\d+\.\d\d/min\)`
	want := []string{
		`=== Connection Pool Smoke Test \(16s\) ===`,
		`Start: ` + date,
		`Getting baseline\.\.\.`,
		`Baseline: GOR=\d+ FD=\d+`,
		``,
	}
	for i := 1; i <= checkpoints; i++ {
		want = append(want, fmt.Sprintf(`\[%d/%d\] %ds: GOR=\d+ %s FD=\d+ %s`, i, checkpoints, 4*i, rate, rate))
	}
	want = append(want, ``, `Complete: `+date)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Errorf("stdout has %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range min(len(lines), len(want)) {
		m := regexp.MustCompile(`^` + want[i] + `$`).FindStringSubmatch(lines[i])
		if m == nil {
			t.Errorf("stdout line %d = %q, want match for %q", i+1, lines[i], want[i])
			continue
		}
		if i == 4+checkpoints {
			growth, _ = strconv.Atoi(m[1])
		}
	}
	return growth
}

// metricValue returns the value of the first sample line "name value" of a text exposition, as
// the seed's grep "^name " | awk '{print $2}' reads it.
func metricValue(exposition, name string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine and the test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
