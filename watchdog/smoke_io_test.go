package watchdog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("hostile writer") }

// TestSmokeOutputPanicRecovered: a WithSmokeOutput writer that panics loses its lines (logged);
// the process lives on and the state file is still written.
func TestSmokeOutputPanicRecovered(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	s := startSmokeIO(panicWriter{}, zap.New(core), false)
	path := filepath.Join(t.TempDir(), "state.json")
	s.output("line one")
	s.state(path, []byte("{}\n"))
	s.output("line two")
	if err := s.stop(time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("smoke writer goroutine did not end: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}\n" {
		t.Fatalf("state file = %q, %v; want it written", b, err)
	}
	if n := logs.FilterMessage("smoke output writer panicked; its lines are lost").Len(); n == 0 {
		t.Fatal("the writer's panic was not logged")
	}
}

// blockWriter blocks every Write until release is closed.
type blockWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockWriter) Write(p []byte) (int, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return len(p), nil
}

// TestSmokeOutputBlockedWriter: a writer that blocks stops neither the state file nor the
// results; the lines it cannot take are dropped (bounded queue), counted and logged, and Stop
// says it gave up on it.
func TestSmokeOutputBlockedWriter(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	bw := &blockWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := startSmokeIO(bw, zap.New(core), true)
	dir := t.TempDir()
	s.output("first")
	<-bw.entered // the writer now holds the output goroutine
	line := string(make([]byte, 1023))
	for range 2 * smokeOutMaxBytes / 1024 {
		s.output(line)
	}
	if _, d := s.out.pending(); d == 0 {
		t.Fatal("no line dropped: the queue is not bounded")
	}
	state := filepath.Join(dir, "state.json")
	s.state(state, []byte("{}\n"))
	s.results([]smokeFile{{filepath.Join(dir, "r.json"), []byte("{}\n")}})
	done := make(chan struct{})
	s.completed(SmokeReport{}, []func(SmokeReport){func(SmokeReport) { close(done) }}, false)
	<-done // callbacks run after the files queued before them, with the writer still blocked
	for _, p := range []string{state, filepath.Join(dir, "r.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s not written while the output writer blocks: %v", p, err)
		}
	}
	if err := s.stop(time.Now().Add(2 * time.Second)); err == nil {
		t.Fatal("stop reported success with the writer still blocked")
	}
	if logs.FilterMessage("smoke output writer blocked at Stop; its lines are lost and its goroutine is left behind").Len() != 1 {
		t.Fatal("Stop did not say it gave up on the writer")
	}
	close(bw.release)
	<-s.out.done
	if logs.FilterMessage("smoke output writer too slow; lines dropped").Len() == 0 {
		t.Fatal("dropped lines not reported")
	}
}

// TestStopReportsLostSmokeLines: Stop with a WithSmokeOutput writer that blocks returns, within
// its 5 s, an error that says the writer's lines were lost (not nil), and the state file is
// written all the same.
func TestStopReportsLostSmokeLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bw := &blockWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
		c := smokeConfig()
		c.Smoke.StateFile = filepath.Join(t.TempDir(), "smoke.state")
		w, err := Start(t.Context(), c, WithSmokeOutput(bw))
		if err != nil {
			t.Fatal(err)
		}
		<-bw.entered // the writer holds its goroutine from the first line on
		time.Sleep(5 * time.Second)
		t0 := time.Now()
		err = w.Stop()
		if took := time.Since(t0); took > hookGrace {
			t.Errorf("Stop took %v, more than %v", took, hookGrace)
		}
		if err == nil || !strings.Contains(err.Error(), "smoke output writer") || !strings.Contains(err.Error(), "lost") {
			t.Errorf("Stop = %v, want an error saying the smoke output lines were lost", err)
		}
		if _, err := os.Stat(c.Smoke.StateFile); err != nil {
			t.Errorf("state file not written with the writer blocked: %v", err)
		}
		close(bw.release)
	})
}

// TestSmokeResultsNeverOverwritten: two runs that start in the same second with one results
// directory (two processes, or a file left by another program) do not overwrite each other:
// names are reserved with O_EXCL, the later set gets the suffix _2, _3, ...
func TestSmokeResultsNeverOverwritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		foreign := filepath.Join(dir, "smoke_report_20000101_000000.md")
		if err := os.WriteFile(foreign, []byte("another program's\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := smokeConfig()
		c.Smoke.ResultsDir = dir
		reps := make(chan SmokeReport, 2)
		var ws []*Watchdog
		for range 2 {
			w, err := Start(t.Context(), c, OnSmokeDone(func(r SmokeReport) { reps <- r }))
			if err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		a, b := <-reps, <-reps
		for _, w := range ws {
			if err := w.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := os.ReadFile(foreign); string(got) != "another program's\n" {
			t.Errorf("%s overwritten: %q", foreign, got)
		}
		seen := map[string]bool{}
		for _, r := range []SmokeReport{a, b} {
			if len(r.ResultFiles) != 4 {
				t.Fatalf("ResultFiles = %q, want 4", r.ResultFiles)
			}
			for _, p := range r.ResultFiles {
				if seen[p] {
					t.Errorf("%s given to both runs", p)
				}
				seen[p] = true
				if p == foreign {
					t.Errorf("a run took the foreign file's name %s", p)
				}
				if strings.HasSuffix(p, ".log") {
					if got, _ := os.ReadFile(p); string(got) != r.Text() {
						t.Errorf("%s = %q, want its own run's output", p, got)
					}
				}
			}
		}
		for _, suffix := range []string{"_2", "_3"} {
			if m, _ := filepath.Glob(filepath.Join(dir, "smoke_test_20000101_000000"+suffix+".log")); len(m) != 1 {
				t.Errorf("no results set with suffix %s", suffix)
			}
		}
	})
}

// TestBlockedDoneCallbackDoesNotSilenceState: an OnSmokeDone callback that blocks forever
// holds up only the callbacks: the next run's state file is still written, and Stop returns
// within its bound with an error naming the callback.
func TestBlockedDoneCallbackDoesNotSilenceState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		entered := make(chan struct{}, 1)
		c := smokeConfig()
		w, err := Start(t.Context(), c, OnSmokeDone(func(SmokeReport) {
			entered <- struct{}{}
			<-block
		}))
		if err != nil {
			t.Fatal(err)
		}
		<-entered // the first run is over and its callback holds on
		c2 := c.Smoke
		c2.StateFile = filepath.Join(t.TempDir(), "smoke.state")
		if err := w.StartSmoke(c2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second) // baseline and a checkpoint saved
		synctest.Wait()
		b, err := os.ReadFile(c2.StateFile)
		if err != nil {
			t.Fatalf("state file not written while a completion callback blocks: %v", err)
		}
		if st, err := parseSmokeState(b); err != nil || len(st.Run.Checkpoints) != 1 {
			t.Errorf("state file %v, %v; want the first checkpoint", st, err)
		}
		t0 := time.Now()
		err = w.Stop()
		if time.Since(t0) > hookGrace {
			t.Errorf("Stop took %v", time.Since(t0))
		}
		if err == nil || !strings.Contains(err.Error(), "completion callback") {
			t.Errorf("Stop = %v, want an error naming the blocked completion callback", err)
		}
		close(block)
	})
}
