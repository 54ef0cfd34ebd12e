package watchdog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
)

// longestRun returns a run as long as the config allows (366 days, 4096 checkpoints), with
// every checkpoint taken, HTTP figures at each, its output lines and the most notes, n of its
// checkpoints done.
func longestRun(tb testing.TB, n int) *smokeRun {
	tb.Helper()
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	c := SmokeConfig{Duration: smokeMaxDuration, Checkpoint: smokeMaxDuration / smokeMaxCheckpoints, Warmup: smokeMaxDuration}
	r := newSmokeRun(c, t0, []string{"docker", "upstream"}, smokeTargetsFrom(DefaultConfig().Rules, nil))
	if r.n != smokeMaxCheckpoints {
		tb.Fatalf("run of %d checkpoints, want %d", r.n, smokeMaxCheckpoints)
	}
	r.rep.BaselineAt = t0.Add(c.Warmup)
	h := SmokeHTTP{Requests: 123456789, Errors: 12345, Responses5xx: 1234, Open: 1000, Active: 999, Idle: 998, ReuseRatio: 0.987654321, Waiting: 12}
	r.rep.Baseline = &SmokeSample{Time: r.rep.BaselineAt, Goroutines: 123456, FDs: 65000, FDsAvailable: true, HTTP: &h}
	r.baseVals = map[string]float64{SeriesGoroutines: 123456.789, SeriesFDs: 65000}
	r.rep.Lines = []string{"=== Connection Pool Smoke Test (366d) ===", "Start: Sat Jan  1 00:00:00 UTC 2000", "Getting baseline...", "Baseline: GOR=123456 FD=65000", ""}
	for i := 1; i <= n; i++ {
		cp := SmokeCheckpoint{Index: i, Of: r.n, Label: durLabel(r.offset(i)), Elapsed: r.offset(i) + 123456789}
		hh := h
		hh.Requests += float64(i) * 1000.123
		cp.SmokeSample = SmokeSample{Time: r.dueAt(i).Add(123456789), Goroutines: 123456 + float64(i), FDs: 65000 + float64(i), FDsAvailable: true, HTTP: &hh}
		cp.derive(*r.rep.Baseline)
		r.rep.Checkpoints = append(r.rep.Checkpoints, cp)
		r.rep.Lines = append(r.rep.Lines, cp.line())
	}
	r.next = n
	for i := range smokeMaxNotes {
		r.rep.Notes = appendNote(r.rep.Notes, fmt.Sprintf("resumed after a restart at Sat Jan  1 00:00:00 UTC 2000 (restart %d)", i+1))
	}
	r.rep.Restarts = smokeMaxNotes
	return r
}

// TestSmokeStateLongestRunLoads: the state file of the longest run the config allows, one
// checkpoint before its end, fits the loader's cap and loads back.
func TestSmokeStateLongestRunLoads(t *testing.T) {
	r := longestRun(t, smokeMaxCheckpoints-1)
	b, err := encodeSmokeState(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state file of the longest run: %d bytes (cap %d)", len(b), smokeStateMax)
	st, err := parseSmokeState(b)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(b), err)
	}
	if len(st.Run.Checkpoints) != smokeMaxCheckpoints-1 {
		t.Errorf("%d checkpoints loaded", len(st.Run.Checkpoints))
	}
}

// TestSmokeStateDeltasWriteWholeState: the writer, handed only what each save added, writes
// the same state file as encoding the whole run would, across a restart too.
func TestSmokeStateDeltasWriteWholeState(t *testing.T) {
	t0 := time.Date(2025, 11, 7, 12, 11, 19, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "smoke.state")
	snap := func() Snapshot { return Snapshot{} }
	c := SmokeConfig{Duration: 10 * time.Minute, Checkpoint: time.Minute, StateFile: path}
	var r *smokeRun
	for life := range 2 {
		s := &smokeState{names: []string{SeriesGoroutines}, log: zap.NewNop(), targets: smokeTargetsFrom(DefaultConfig().Rules, nil)}
		from := 0
		if life == 0 {
			if err := s.start(c, t0); err != nil {
				t.Fatal(err)
			}
		} else {
			b, _ := os.ReadFile(path)
			st, err := parseSmokeState(b)
			if err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			s.begin(st.run(c, nil, s.targets, t0.Add(250*time.Second)))
			s.mu.Unlock()
			from = 250
		}
		for sec := from; sec <= from+240; sec++ {
			g := 95.0 + float64(sec/40)
			s.step(&smokeInput{now: t0.Add(time.Duration(sec) * time.Second),
				fig: smokeFigures{goroutines: g, fds: 22, fdsOK: true}, values: []float64{g}, snapshot: snap})
		}
		if err := s.io.stop(time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		r = s.run
		want, err := encodeSmokeState(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("life %d: state file\n%s\nwant the whole run\n%s", life, got, want)
		}
	}
	if r.rep.Restarts != 1 || len(r.rep.Checkpoints) != 8 {
		t.Errorf("restarts %d, %d checkpoints; want 1 and 8", r.rep.Restarts, len(r.rep.Checkpoints))
	}
}
