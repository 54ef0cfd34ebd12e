package watchdog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// syncBuffer is an io.Writer safe for the smoke writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// smokeConfig is fastConfig with a 16s run and 4s checkpoints, sampled on the grid (no Jitter),
// so that checkpoints fall exactly when due and rates are the round figures of the seed's
// examples. TestSmokeJitter runs a smoke test with jitter.
func smokeConfig() Config {
	c := fastConfig()
	c.Jitter = NoJitter
	c.Attribution.Disabled = true
	c.Smoke = SmokeConfig{Enabled: true, Duration: 16 * time.Second, Checkpoint: 4 * time.Second}
	return c
}

// TestSmokeGolden runs the 16s run in a child process, whose goroutines and descriptors are
// the same at every run, and compares its output with testdata/smoke_16s.golden byte for byte.
func TestSmokeGolden(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the golden output has FD counts: Linux only")
	}
	if os.Getenv("LEAKWATCH_SMOKE_CHILD") == "1" {
		t.Skip("child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestSmokeGoldenChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LEAKWATCH_SMOKE_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.String())
	}
	begin := bytes.Index(out, []byte("=== Connection"))
	end := bytes.Index(out, []byte("--- END SMOKE"))
	if begin < 0 || end < begin {
		t.Fatalf("child output has no smoke lines:\n%s", out)
	}
	got := out[begin:end]
	golden := filepath.Join("testdata", "smoke_16s.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("smoke output differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

// goldenFDs is the number of descriptors the golden child holds before Start. The count a
// child starts with depends on the machine, not on us: Go 1.25+ keeps the cgroup v1 CPU quota
// files open to track GOMAXPROCS, and a cgroup v2 or cgroup-less host has no such files.
const goldenFDs = 24

// padFDs opens /dev/null until the process holds n descriptors, so that the FD counts in the
// golden output are the same on every machine, and returns the function that closes them.
func padFDs(t *testing.T, n int) (closeAll func()) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	have := len(ents) - 1 // ReadDir's own descriptor is gone once it returns
	if have > n {
		t.Fatalf("the child holds %d descriptors before padding, more than goldenFDs = %d: raise goldenFDs and run with -update", have, n)
	}
	var pad []*os.File
	for ; have < n; have++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		pad = append(pad, f)
	}
	return func() {
		for _, f := range pad {
			f.Close()
		}
	}
}

// TestSmokeGoldenChild is the child of TestSmokeGolden: it prints the run's output to stdout.
func TestSmokeGoldenChild(t *testing.T) {
	if os.Getenv("LEAKWATCH_SMOKE_CHILD") != "1" {
		t.Skip("run by TestSmokeGolden")
	}
	synctest.Test(t, func(t *testing.T) {
		// Growth of every sign: 2 goroutines parked before the baseline and released at 9s;
		// 3 more from 1s to 13s; one descriptor opened at 1s, another at 5s, both closed at 13s.
		park := func(n int) (release func()) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() { <-stop })
			}
			return func() { close(stop); wg.Wait() }
		}
		open := func() *os.File {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		releaseA := park(2)
		defer padFDs(t, goldenFDs)()
		c := smokeConfig()
		w, err := Start(t.Context(), c, WithSmokeOutput(os.Stdout))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		releaseB := park(3)
		f1 := open()
		time.Sleep(4 * time.Second)
		f2 := open()
		time.Sleep(4 * time.Second)
		releaseA()
		time.Sleep(4 * time.Second)
		releaseB()
		f1.Close()
		f2.Close()
		time.Sleep(4 * time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("--- END SMOKE\n")
	})
}

func TestSmokePassesAndReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		var out syncBuffer
		c := smokeConfig()
		w, err := Start(t.Context(), c, WithLogger(zap.New(core)), WithSmokeOutput(&out))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if got := w.SmokeReport().Status; got != SmokeRunning {
			t.Errorf("Status at start = %q, want running", got)
		}
		time.Sleep(17 * time.Second)
		rep := w.SmokeReport()
		if rep.Status != SmokePassed || rep.Verdict != "PASS" {
			t.Fatalf("Status, Verdict = %q, %q, want passed, PASS; reasons %q\n%s", rep.Status, rep.Verdict, rep.Reasons, rep.Text())
		}
		if len(rep.Checkpoints) != 4 {
			t.Errorf("%d checkpoints, want 4", len(rep.Checkpoints))
		}
		for i, cp := range rep.Checkpoints {
			if cp.Index != i+1 || cp.Of != 4 || cp.Elapsed != time.Duration(i+1)*4*time.Second {
				t.Errorf("checkpoint %d = %d/%d at %v, want %d/4 at %v", i, cp.Index, cp.Of, cp.Elapsed, i+1, time.Duration(i+1)*4*time.Second)
			}
		}
		if want := "16s of 16s"; rep.Criteria[0].Value != want {
			t.Errorf("full-duration criterion = %q, want %q", rep.Criteria[0].Value, want)
		}
		http, _ := rep.criterion("HTTP metrics")
		if !http.Passed || !http.NotApplicable || http.Value != "no HTTP pool configured" {
			t.Errorf("HTTP criterion = %+v, want passed, not applicable, no pool", http)
		}
		if !rep.Completed.Equal(rep.BaselineAt.Add(16 * time.Second)) {
			t.Errorf("Completed = %v, want baseline + 16s", rep.Completed)
		}
		w.Stop()
		if got, want := out.String(), rep.Text(); got != want {
			t.Errorf("smoke output = %q, want the report's lines %q", got, want)
		}
		if n := logs.FilterMessage("smoke checkpoint").Len(); n != 4 {
			t.Errorf("%d checkpoint logs, want 4", n)
		}
		cp := logs.FilterMessage("smoke checkpoint").All()[0].ContextMap()
		for _, k := range []string{"index", "of", "goroutines", "goroutine_rate_per_min", "fd_rate_per_min"} {
			if _, ok := cp[k]; !ok && (k != "fd_rate_per_min" || runtime.GOOS == "linux") {
				t.Errorf("checkpoint log lacks field %q: %v", k, cp)
			}
		}
	})
}

func TestSmokeLeakFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := smokeConfig()
		c.Smoke.Enabled = false
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := w.StartSmoke(c.Smoke); err != nil {
			t.Fatal(err)
		}
		if err := w.StartSmoke(c.Smoke); !errors.Is(err, ErrSmokeRunning) {
			t.Errorf("second StartSmoke = %v, want ErrSmokeRunning", err)
		}
		// One goroutine parked every 200ms: 300/min.
		stop := make(chan struct{})
		var parked sync.WaitGroup
		for range 85 {
			time.Sleep(200 * time.Millisecond)
			parked.Go(func() { <-stop })
		}
		rep := w.SmokeReport()
		close(stop)
		parked.Wait()
		if rep.Status != SmokeFailed || rep.Verdict != "FAIL" {
			t.Fatalf("Status, Verdict = %q, %q, want failed, FAIL", rep.Status, rep.Verdict)
		}
		gor, _ := rep.criterion("Goroutine leak rate")
		if gor.Passed {
			t.Errorf("goroutine criterion passed: %+v", gor)
		}
		last := rep.Checkpoints[len(rep.Checkpoints)-1]
		if last.GoroutineRatePerMin < 280 || last.GoroutineRatePerMin > 320 {
			t.Errorf("goroutine rate = %v/min, want about 300", last.GoroutineRatePerMin)
		}
		if len(rep.Reasons) == 0 || !strings.Contains(rep.Reasons[0], "goroutines grew") || !strings.Contains(rep.Reasons[0], "10/min") {
			t.Errorf("reasons = %q, want the goroutine growth first", rep.Reasons)
		}
		if len(rep.Growth) == 0 || rep.Growth[0].Series != SeriesGoroutinesCreated && rep.Growth[0].Series != SeriesGoroutines {
			t.Errorf("growth evidence = %+v, want goroutines first", rep.Growth)
		}
		found := false
		for _, a := range rep.Alerts {
			found = found || a.Series == SeriesGoroutines
		}
		if !found {
			t.Errorf("no goroutine alert among the run's alerts %v", rep.Alerts)
		}
		md := rep.Markdown()
		for _, want := range []string{"❌ FAIL", "| Goroutines |", "## What Grew", "goroutines grew"} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"elapsed_s":16`)) {
			t.Errorf("JSON lacks elapsed_s 16: %s", b)
		}
	})
}

func TestSmokeRestartResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := smokeConfig()
		c.Smoke.StateFile = filepath.Join(dir, "smoke.state")
		w1, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(9 * time.Second) // baseline and two checkpoints
		w1.Stop()
		first := w1.SmokeReport()
		if first.Status != SmokeFailed || !strings.Contains(strings.Join(first.Reasons, " "), "resumes at the next Start") {
			t.Errorf("stopped run = %q %q, want failed and kept for the next Start", first.Status, first.Reasons)
		}
		fi, err := os.Stat(c.Smoke.StateFile)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("state file mode = %v, want 0600", fi.Mode().Perm())
		}
		time.Sleep(time.Second) // the process is "down" for a second

		w2, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Stop()
		rep := w2.SmokeReport()
		if rep.Status != SmokeRunning || rep.Restarts != 1 || !rep.BaselineAt.Equal(first.BaselineAt) {
			t.Fatalf("after restart: status %q, restarts %d, baseline at %v; want running, 1, %v", rep.Status, rep.Restarts, rep.BaselineAt, first.BaselineAt)
		}
		time.Sleep(8 * time.Second)
		rep = w2.SmokeReport()
		if rep.Status != SmokeFailed {
			t.Fatalf("status = %q, want failed (a restart)", rep.Status)
		}
		if len(rep.Checkpoints) != 4 || rep.Checkpoints[3].Missed {
			t.Errorf("checkpoints = %+v, want 4, the last taken", rep.Checkpoints)
		}
		restarts, _ := rep.criterion("Zero restarts")
		full, _ := rep.criterion("Test completes")
		if restarts.Passed || restarts.Value != "1 restarts" || !full.Passed {
			t.Errorf("criteria: restarts %+v, full %+v; want restarts failed with 1, full duration held", restarts, full)
		}
		if md := rep.Markdown(); !strings.Contains(md, "- Container Restarts: 1 ❌") {
			t.Errorf("markdown lacks the restart:\n%s", md)
		}
		text := rep.Text()
		for _, want := range []string{"Baseline: GOR=", "[2/4] 8s:", "Resumed: Sat Jan  1 00:00:10 UTC 2000 (restart 1)", "[3/4] 12s:", "Complete: Sat Jan  1 00:00:16 UTC 2000"} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, text)
			}
		}
		if strings.Count(text, "=== Connection Pool") != 1 {
			t.Errorf("header printed again after the restart:\n%s", text)
		}
	})
}

func TestSmokeCorruptStateSetAside(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"garbage", "\x00\x01not json"},
		{"truncated", `{"kind":"leakwatch.smoke-state","version":1,"duration_ns":16000000000,`},
		{"foreign", `{"kind":"something-else","version":1}`},
		{"future version", `{"kind":"leakwatch.smoke-state","version":99}`},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "smoke.state")
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
				core, logs := observer.New(zapcore.WarnLevel)
				c := smokeConfig()
				c.Smoke.StateFile = path
				w, err := Start(t.Context(), c, WithLogger(zap.New(core)))
				if err != nil {
					t.Fatalf("Start = %v, want a corrupt state file not to be fatal", err)
				}
				defer w.Stop()
				rep := w.SmokeReport()
				if rep.Restarts != 0 || rep.Status != SmokeRunning {
					t.Errorf("report = %q with %d restarts, want a fresh run", rep.Status, rep.Restarts)
				}
				aside := path + ".corrupt-20000101T000000Z"
				if b, err := os.ReadFile(aside); err != nil || string(b) != tc.content {
					t.Errorf("set-aside file %s: %q, %v; want the original content", aside, b, err)
				}
				if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "not trusted") || !strings.Contains(rep.Notes[0], aside) {
					t.Errorf("notes = %q, want one saying where the file went", rep.Notes)
				}
				if logs.FilterMessage("smoke state file set aside").Len() != 1 {
					t.Errorf("logs = %v, want a warning", logs.All())
				}
			})
		})
	}
}

func TestSmokeResultsDir(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "results")
		c := smokeConfig()
		c.Smoke.ResultsDir = dir
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(17 * time.Second)
		w.Stop()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
			t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
		}
		rep := w.SmokeReport()
		for _, name := range []string{"smoke_test_20000101_000000.log", "metrics_final_20000101_000000.json",
			"smoke_report_20000101_000000.md", "smoke_report_20000101_000000.json"} {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
			}
			b, _ := os.ReadFile(p)
			switch filepath.Ext(name) {
			case ".log":
				if string(b) != rep.Text() {
					t.Errorf("%s = %q, want the output %q", name, b, rep.Text())
				}
			case ".json":
				if !json.Valid(b) {
					t.Errorf("%s is not JSON", name)
				}
			case ".md":
				if !strings.Contains(string(b), "✅ PASS") {
					t.Errorf("%s lacks the conclusion:\n%s", name, b)
				}
			}
		}
		if len(rep.ResultFiles) != 4 {
			t.Errorf("ResultFiles = %q, want 4", rep.ResultFiles)
		}
	})
}

// stuckClock tells the time but its tickers never fire: the sampling goroutine takes the first
// sample at Start and no other, as when it is wedged.
type stuckClock struct{}

func (stuckClock) Now() time.Time                 { return time.Now() }
func (stuckClock) NewTicker(time.Duration) Ticker { return stuckTicker{} }

type stuckTicker struct{}

func (stuckTicker) C() <-chan time.Time { return nil }
func (stuckTicker) Stop()               {}

func TestSmokeStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), smokeConfig(), WithClock(stuckClock{}))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(5 * time.Second) // checkpoint 1 (4s) is 1s overdue: not yet stalled
		if rep := w.SmokeReport(); rep.Stalled || rep.Status != SmokeRunning {
			t.Errorf("at 5s: status %q, stalled %v; want running, not stalled", rep.Status, rep.Stalled)
		}
		time.Sleep(1500 * time.Millisecond) // 6.5s: 1.5 checkpoint intervals without one
		rep := w.SmokeReport()
		if !rep.Stalled || rep.Status != SmokeRunning {
			t.Errorf("at 6.5s: status %q, stalled %v; want running and stalled", rep.Status, rep.Stalled)
		}
		if want := time.Date(2000, 1, 1, 0, 0, 16, 0, time.UTC); !rep.ExpectedEnd.Equal(want) {
			t.Errorf("ExpectedEnd = %v, want %v", rep.ExpectedEnd, want)
		}
		if md := rep.Markdown(); !strings.Contains(md, "**stalled**") || !strings.Contains(md, "expected end Sat Jan  1 00:00:16 UTC 2000") {
			t.Errorf("markdown does not say stalled with the expected end:\n%s", md)
		}
		b, _ := json.Marshal(rep)
		if !bytes.Contains(b, []byte(`"stalled":true`)) || !bytes.Contains(b, []byte(`"expected_end":"2000-01-01T00:00:16Z"`)) {
			t.Errorf("JSON lacks stalled or expected_end: %s", b)
		}
	})
}

func TestStartSmokeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			c    SmokeConfig
			want error
		}{
			{"negative duration", SmokeConfig{Duration: -time.Second}, ErrInvalidConfig},
			{"checkpoint over duration", SmokeConfig{Duration: time.Second, Checkpoint: 2 * time.Second}, ErrInvalidConfig},
			{"checkpoint under interval", SmokeConfig{Duration: time.Second, Checkpoint: time.Millisecond}, ErrInvalidConfig},
			{"negative warmup", SmokeConfig{Duration: time.Second, Checkpoint: time.Second, Warmup: -1}, ErrInvalidConfig},
		} {
			if err := w.StartSmoke(tc.c); !errors.Is(err, tc.want) {
				t.Errorf("%s: StartSmoke = %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := w.SmokeReport().Status; got != SmokeNone {
			t.Errorf("status after bad configs = %q, want none", got)
		}
		w.Stop()
		if err := w.StartSmoke(DefaultSmokeConfig()); !errors.Is(err, ErrStopped) {
			t.Errorf("StartSmoke after Stop = %v, want ErrStopped", err)
		}
	})
}

// TestSmokeWithHTTPPool: a configured pool makes the HTTP figures part of every checkpoint and
// of the criteria. No request flows here, so pooling is not proven (nice-to-have unmet).
func TestSmokeWithHTTPPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool, err := httppool.New("docker")
		if err != nil {
			t.Fatal(err)
		}
		w, err := Start(t.Context(), smokeConfig(), WithHTTPPool(pool))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(17 * time.Second)
		rep := w.SmokeReport()
		if rep.Status != SmokePassed || len(rep.HTTPPools) != 1 || rep.HTTPPools[0] != "docker" {
			t.Fatalf("status %q, pools %q; want passed with pool docker (reasons %q)", rep.Status, rep.HTTPPools, rep.Reasons)
		}
		for _, cp := range rep.Checkpoints {
			if !cp.HTTPAvailable || cp.HTTP == nil {
				t.Errorf("checkpoint %d has no HTTP figures", cp.Index)
			}
		}
		for _, tc := range []struct {
			prefix, value string
			passed, na    bool
		}{
			{"HTTP metrics available", "4 of 4 checkpoints", true, false},
			{"HTTP idle connections", "avg 0.00, max 0", false, false},
			{"Connection reuse", "0.0%", false, false},
		} {
			c, ok := rep.criterion(tc.prefix)
			if !ok || c.Value != tc.value || c.Passed != tc.passed || c.NotApplicable != tc.na {
				t.Errorf("%s = %+v, want value %q passed %v", tc.prefix, c, tc.value, tc.passed)
			}
		}
		md := rep.Markdown()
		for _, want := range []string{"| HTTP Requests | 0 | 0 | +0 | - | - | - |", "- HTTP Idle Connections: 0.00 (avg)", "- Estimated Reuse Rate: 0.0%", "- HTTP Errors: 0 ✅"} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
	})
}

func TestSmokeWarmup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := smokeConfig()
		c.Smoke.Warmup = 2 * time.Second
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(time.Second)
		rep := w.SmokeReport()
		if rep.Baseline != nil || len(rep.Lines) != 3 || rep.Lines[2] != "Getting baseline..." {
			t.Errorf("during warm-up: baseline %v, lines %q; want none yet and the header", rep.Baseline, rep.Lines)
		}
		if want := rep.Started.Add(18 * time.Second); !rep.ExpectedEnd.Equal(want) {
			t.Errorf("ExpectedEnd during warm-up = %v, want start + warm-up + duration %v", rep.ExpectedEnd, want)
		}
		time.Sleep(17500 * time.Millisecond)
		rep = w.SmokeReport()
		if got := rep.BaselineAt.Sub(rep.Started); got != 2*time.Second {
			t.Errorf("baseline %v after the start, want the 2s warm-up", got)
		}
		if rep.Status != SmokePassed || !rep.Completed.Equal(rep.Started.Add(18*time.Second)) {
			t.Errorf("status %q completed %v, want passed at start + 18s", rep.Status, rep.Completed)
		}
	})
}

// blockingWriter blocks every Write until released: a wedged terminal or pipe.
type blockingWriter struct{ release chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

// TestSmokeOutputNeverBlocksSampling: a smoke output writer that blocks delays neither the ticks nor
// the run.
func TestSmokeOutputNeverBlocksSampling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bw := blockingWriter{make(chan struct{})}
		c := smokeConfig()
		w, err := Start(t.Context(), c, WithSmokeOutput(bw))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(17 * time.Second)
		rep := w.SmokeReport()
		if rep.Status != SmokePassed {
			t.Errorf("status with a blocked output = %q, want passed", rep.Status)
		}
		if s := w.Snapshot(); s.Stalled || s.Cost.Ticks < 170 {
			t.Errorf("ticks = %d, stalled %v; want sampling undisturbed", s.Cost.Ticks, s.Stalled)
		}
		close(bw.release)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSmokeTargetsFromRules: the criteria judge against the configured rules. The same slow
// leak (2 goroutines over the 16s run: 7.5/min) passes the default 10/min and fails once
// Rules["goroutines"] is tightened to 5/min, whose figure the criterion and the reasons name.
func TestSmokeTargetsFromRules(t *testing.T) {
	// The run is driven through its seam with a made-up goroutine count (+1 at 3 s, +1 at
	// 11 s): the process-wide runtime.NumGoroutine would also count goroutines of earlier
	// tests that are still winding down.
	run := func(t *testing.T, c Config) SmokeReport {
		t.Helper()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s := &smokeState{names: []string{SeriesGoroutines}, log: zap.NewNop(), targets: smokeTargetsFrom(c.Rules, nil)}
		if err := s.start(c.Smoke, t0); err != nil {
			t.Fatal(err)
		}
		snap := func() Snapshot { return Snapshot{} }
		for sec := 0; sec <= 17; sec++ {
			g := 40.0
			if sec >= 3 {
				g++
			}
			if sec >= 11 {
				g++
			}
			s.step(&smokeInput{now: t0.Add(time.Duration(sec) * time.Second),
				fig: smokeFigures{goroutines: g, fds: 22, fdsOK: true}, values: []float64{g}, snapshot: snap})
		}
		return s.report(t0.Add(18 * time.Second))
	}
	def := run(t, smokeConfig())
	if def.Status != SmokePassed {
		t.Fatalf("default rules: status %q, want passed; reasons %q", def.Status, def.Reasons)
	}
	if got := def.Checkpoints[3].GoroutineRatePerMin; got != 7.5 {
		t.Fatalf("goroutine rate = %v/min, want 7.5", got)
	}
	if def.Targets.GoroutinesPerMin != 10 || def.Targets.FDsPerMin != 5 || def.Targets.GoroutinesNicePerMin != 5 || def.Targets.FDsNicePerMin != 2 {
		t.Errorf("default targets = %+v, want the seed's 10, 5, 5 and 2/min", def.Targets)
	}

	c := smokeConfig()
	c.Rules[SeriesGoroutines] = Rule{NoticePerMin: 5, WarningPerMin: 20, CriticalPerMin: 50}
	tight := run(t, c)
	if tight.Status != SmokeFailed {
		t.Fatalf("goroutines rule at 5/min: status %q, want failed", tight.Status)
	}
	gor, ok := tight.criterion("Goroutine leak rate <5/min")
	if !ok || gor.Passed || gor.Value != "7.50/min" {
		t.Errorf("criterion = %+v (found %v), want failed at 7.50/min", gor, ok)
	}
	if len(tight.Reasons) == 0 || !strings.Contains(tight.Reasons[0], "at or over the 5/min must-have") {
		t.Errorf("reasons = %q, want the 5/min must-have named", tight.Reasons)
	}
	if nice, ok := tight.criterion("Goroutine growth <2.5/min"); !ok || nice.Passed {
		t.Errorf("nice-to-have = %+v (found %v), want failed at the rule's half", nice, ok)
	}
	if md := tight.Markdown(); !strings.Contains(md, "| Goroutines |") || !strings.Contains(md, "| <5/min | ❌ |") {
		t.Errorf("markdown table does not judge against 5/min:\n%s", md)
	}

	c = smokeConfig()
	c.Rules[SeriesFDs] = Rule{ExhaustWarning: 6 * time.Hour, ExhaustCritical: time.Hour} // no growth rule
	norule := run(t, c)
	if fd, ok := norule.criterion("FD leak rate"); !ok || !fd.NotApplicable || !fd.Passed {
		t.Errorf("FD criterion without a growth rule = %+v, want not applicable", fd)
	}
}

// TestSmokeReuseTargetFromRules: the reuse nice-to-have is the pools' reuse floor from the
// configured rules (HTTPRules' 80% by default), so raising it to 90% fails a run reusing 85%
// of its connections, and a pool without a reuse rule makes the criterion not applicable.
func TestSmokeReuseTargetFromRules(t *testing.T) {
	rules := func(edit func(map[string]Rule)) map[string]Rule {
		r := DefaultRules()
		maps.Copy(r, HTTPRules("docker"))
		edit(r)
		return r
	}
	reuse := HTTPSeries("docker", HTTPReuseRatio)
	run := func(t *testing.T, tg SmokeTargets) SmokeCriterion {
		t.Helper()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s := &smokeState{names: []string{SeriesGoroutines}, pools: []string{"docker"}, log: zap.NewNop(), targets: tg}
		if err := s.start(smokeConfig().Smoke, t0); err != nil {
			t.Fatal(err)
		}
		for sec := 0; sec <= 17; sec++ {
			s.step(&smokeInput{now: t0.Add(time.Duration(sec) * time.Second), values: []float64{40},
				fig: smokeFigures{goroutines: 40, fds: 22, fdsOK: true, httpOK: true,
					http: SmokeHTTP{Requests: float64(10 * sec), Idle: 1, Open: 2, ReuseRatio: 0.85}},
				snapshot: func() Snapshot { return Snapshot{} }})
		}
		c, ok := s.report(t0.Add(18 * time.Second)).criterion("Connection reuse rate")
		if !ok {
			t.Fatal("no reuse criterion")
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		rules  map[string]Rule
		pools  []string
		want   float64
		passed bool
		na     bool
	}{
		{"seed", rules(func(map[string]Rule) {}), []string{"docker"}, 0.8, true, false},
		{"raised", rules(func(r map[string]Rule) { x := r[reuse]; x.Below = 0.9; r[reuse] = x }), []string{"docker"}, 0.9, false, false},
		{"no reuse rule", rules(func(r map[string]Rule) { r[reuse] = Rule{} }), []string{"docker"}, 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := smokeTargetsFrom(tc.rules, tc.pools)
			if tg.ReuseRatio != tc.want {
				t.Errorf("reuse target %v, want %v", tg.ReuseRatio, tc.want)
			}
			if c := run(t, tg); c.Passed != tc.passed || c.NotApplicable != tc.na {
				t.Errorf("criterion %+v, want passed %v, not applicable %v", c, tc.passed, tc.na)
			}
		})
	}
	two := rules(func(r map[string]Rule) {
		maps.Copy(r, HTTPRules("registry"))
		x := r[HTTPSeries("registry", HTTPReuseRatio)]
		x.Below = 0.95
		r[HTTPSeries("registry", HTTPReuseRatio)] = x
	})
	if got := smokeTargetsFrom(two, []string{"docker", "registry"}).ReuseRatio; got != 0.95 {
		t.Errorf("two pools, floors 0.8 and 0.95: reuse target %v, want the higher", got)
	}
}

// TestSmokeDoneCallback: OnSmokeDone hands every finished run's final report to the caller
// once, after its result files are written, and a run ended by Stop too.
func TestSmokeDoneCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan SmokeReport, 4)
		c := smokeConfig()
		c.Smoke.ResultsDir = t.TempDir()
		w, err := Start(t.Context(), c, OnSmokeDone(func(r SmokeReport) { done <- r }),
			OnSmokeDone(func(SmokeReport) { panic("a callback that panics") }))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if len(done) != 0 {
			t.Fatalf("callback before the run finished: %+v", <-done)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		var rep SmokeReport
		select {
		case rep = <-done:
		default:
			t.Fatal("no callback after the run finished")
		}
		if rep.Status != SmokePassed || rep.Verdict != "PASS" || len(rep.Criteria) == 0 || len(rep.ResultFiles) != 4 {
			t.Errorf("callback report: status %q verdict %q, %d criteria, files %q", rep.Status, rep.Verdict, len(rep.Criteria), rep.ResultFiles)
		}
		for _, f := range rep.ResultFiles {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("result file not written before the callback: %v", err)
			}
		}

		// A second run, ended by Stop: the callback gets it as failed.
		if err := w.StartSmoke(c.Smoke); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		select {
		case rep = <-done:
		default:
			t.Fatal("no callback for the run ended by Stop")
		}
		if rep.Status != SmokeFailed || !strings.Contains(strings.Join(rep.Reasons, " "), "the watchdog stopped") {
			t.Errorf("stopped run: status %q reasons %q", rep.Status, rep.Reasons)
		}
		if len(done) != 0 {
			t.Errorf("%d extra callbacks", len(done))
		}
	})
}

// TestSmokeStateSeam drives a run without a watchdog, through the value the sampling
// goroutine hands it: the state needs nothing else.
func TestSmokeStateSeam(t *testing.T) {
	t0 := time.Date(2025, 11, 7, 12, 11, 19, 0, time.UTC)
	s := &smokeState{names: []string{SeriesGoroutines}, log: zap.NewNop(), targets: smokeTargetsFrom(DefaultConfig().Rules, nil)}
	if err := s.start(SmokeConfig{Duration: 4 * time.Minute, Checkpoint: 2 * time.Minute}, t0); err != nil {
		t.Fatal(err)
	}
	snap := func() Snapshot { return Snapshot{} }
	for sec := 0; sec <= 240; sec++ {
		g := 95.0 + float64(sec/40) // +1 every 40s: 1.5/min
		s.step(&smokeInput{now: t0.Add(time.Duration(sec) * time.Second),
			fig: smokeFigures{goroutines: g, fds: 22, fdsOK: true}, values: []float64{g}, snapshot: snap})
	}
	rep := s.report(t0.Add(5 * time.Minute))
	want := []string{
		"=== Connection Pool Smoke Test (4min) ===",
		"Start: Fri Nov  7 12:11:19 UTC 2025",
		"Getting baseline...",
		"Baseline: GOR=95 FD=22",
		"",
		"[1/2] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)",
		"[2/2] 4min: GOR=101 (+6, 1.50/min) FD=22 (+0, 0.00/min)",
		"",
		"Complete: Fri Nov  7 12:15:19 UTC 2025",
	}
	if strings.Join(rep.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(rep.Lines, "\n"), strings.Join(want, "\n"))
	}
	if rep.Status != SmokePassed || len(rep.Growth) != 1 || rep.Growth[0].Series != SeriesGoroutines || rep.Growth[0].Growth != 6 {
		t.Errorf("status %q, growth %+v; want passed with goroutines +6", rep.Status, rep.Growth)
	}
}

// TestSmokeRunningIsPending: a healthy run half-way through fails nothing: what cannot be
// judged before the end is pending, in the report and in every format.
func TestSmokeRunningIsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), smokeConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(9 * time.Second)
		rep := w.SmokeReport()
		if rep.Status != SmokeRunning {
			t.Fatalf("status %q, want running", rep.Status)
		}
		for _, c := range rep.Criteria {
			if !c.Passed && !c.Pending && !c.NotApplicable {
				t.Errorf("criterion %q failed while the run is healthy and going: %+v", c.Name, c)
			}
		}
		full, _ := rep.criterion("Test completes")
		if !full.Pending || full.Passed || full.Value != "8s of 16s so far" {
			t.Errorf("full-duration criterion = %+v, want pending at 8s of 16s so far", full)
		}
		md := rep.Markdown()
		if strings.Contains(md, "❌") || !strings.Contains(md, "- Uptime: 8s of 16s so far (running)") ||
			!strings.Contains(md, "- [~] Test completes full 16s: 8s of 16s so far") {
			t.Errorf("markdown of a running healthy run:\n%s", md)
		}
	})
}

// TestSmokeStepAllocatesNothing: between checkpoints, the run's share of a tick (the value
// the tick builds, the chart's column, the schedule) allocates nothing.
func TestSmokeStepAllocatesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fastConfig()
		c.Attribution.Disabled = true
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := w.StartSmoke(SmokeConfig{Duration: time.Hour, Checkpoint: 30 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the baseline is taken
		synctest.Wait()
		w.mu.Lock()
		vals := append([]float64(nil), w.snapVals...)
		w.mu.Unlock()
		now := time.Now()
		if n := testing.AllocsPerRun(100, func() {
			in := smokeInput{now: now, fig: smokeFiguresOf(vals, w.pool0, len(w.pools)), values: vals, snapshot: w.smokeSnap}
			w.smokeSt.step(&in)
		}); n != 0 {
			t.Errorf("a smoke step allocates %v times, want 0", n)
		}
	})
}

// TestFillEvidenceByID: the run's alerts get the evidence of the snapshot's copy with the same
// ID, not of another alert that shares its series, time and level; an alert without an ID, or
// whose copy has no evidence yet, gets none.
func TestFillEvidenceByID(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ev1, ev2 := &Evidence{AlertID: 1}, &Evidence{AlertID: 2}
	al := func(id uint64, ev *Evidence) Alert {
		return Alert{ID: id, Time: t0, Series: SeriesFDs, Level: LevelWarning, Evidence: ev}
	}
	alerts := []Alert{al(1, nil), al(2, nil), al(3, nil), al(0, nil)}
	from := []Alert{al(2, ev2), al(1, ev1), al(3, nil), al(0, ev1)}
	fillEvidence(alerts, from)
	want := []*Evidence{ev1, ev2, nil, nil}
	name := func(e *Evidence) string {
		if e == nil {
			return "none"
		}
		return "the evidence for alert " + strconv.FormatUint(e.AlertID, 10)
	}
	for i, a := range alerts {
		if a.Evidence != want[i] {
			t.Errorf("alert ID %d got %s, want %s", a.ID, name(a.Evidence), name(want[i]))
		}
	}
}
