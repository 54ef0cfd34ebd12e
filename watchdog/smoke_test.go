package watchdog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
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

// smokeConfig is fastConfig with a 16s run and 4s checkpoints.
func smokeConfig() Config {
	c := fastConfig()
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
		c := smokeConfig()
		c.SmokeOutput = os.Stdout
		w, err := Start(t.Context(), c)
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
		c.SmokeOutput = &out
		w, err := Start(t.Context(), c, WithLogger(zap.New(core)))
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
			t.Errorf("SmokeOutput = %q, want the report's lines %q", got, want)
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
