package watchdog

import (
	"bytes"
	"testing"
	"time"
)

// validStateFile returns the state of a run 8s into a 16s run with 4s checkpoints.
func validStateFile(t testing.TB) []byte {
	t.Helper()
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newSmokeRun(SmokeConfig{Duration: 16 * time.Second, Checkpoint: 4 * time.Second}, t0, nil, smokeTargetsFrom(DefaultConfig().Rules, nil))
	r.rep.BaselineAt = t0
	r.rep.Baseline = &SmokeSample{Time: t0, Goroutines: 9, FDs: 11, FDsAvailable: true}
	r.baseVals = map[string]float64{SeriesGoroutines: 9, SeriesFDs: 11}
	for i := 1; i <= 2; i++ {
		cp := SmokeCheckpoint{Index: i, Of: 4, Label: durLabel(r.offset(i)), Elapsed: r.offset(i)}
		cp.SmokeSample = SmokeSample{Time: t0.Add(r.offset(i)), Goroutines: 9 + float64(i), FDs: 11, FDsAvailable: true}
		cp.derive(*r.rep.Baseline)
		r.rep.Checkpoints = append(r.rep.Checkpoints, cp)
	}
	r.rep.Lines = []string{"=== Connection Pool Smoke Test (16s) ===", "Baseline: GOR=9 FD=11"}
	b, err := encodeSmokeState(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSmokeState(t *testing.T) {
	valid := validStateFile(t)
	st, err := parseSmokeState(valid)
	if err != nil {
		t.Fatalf("valid state: %v", err)
	}
	r := st.run(SmokeConfig{}, nil, SmokeTargets{}, time.Date(2000, 1, 1, 0, 0, 9, 0, time.UTC))
	if r.rep.Restarts != 1 || r.next != 2 || r.rep.Status != SmokeRunning || r.cfg.Duration != 16*time.Second {
		t.Errorf("resumed run: restarts %d, next %d, status %q, duration %v", r.rep.Restarts, r.next, r.rep.Status, r.cfg.Duration)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"foreign kind", `"kind":"leakwatch.smoke-state"`, `"kind":"other"`},
		{"version", `"version":3`, `"version":2`},
		{"zero checkpoint", `"checkpoint_s":4`, `"checkpoint_s":0`},
		{"status", `"status":"running"`, `"status":"paused"`},
		{"numbering", `"index":2`, `"index":7`},
		{"negative restarts", `"restarts":0`, `"restarts":-1`},
		{"unknown field", `"version":3`, `"version":3,"extra":true`},
		{"unknown field in the run", `"checkpoint_s":4`, `"checkpoint_s":4,"checkpoint_ns":4000000000`},
		{"negative goroutines", `"goroutines":9,`, `"goroutines":-9,`},
		{"missing baseline time", `"baseline_at":"2000-01-01T00:00:00Z"`, `"baseline_at":"0001-01-01T00:00:00Z"`},
	} {
		b := bytes.Replace(valid, []byte(tc.from), []byte(tc.to), 1)
		if bytes.Equal(b, valid) {
			t.Fatalf("%s: %s not found in %s", tc.name, tc.from, valid)
		}
		if _, err := parseSmokeState(b); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := parseSmokeState(append(valid, []byte(" {}")...)); err == nil {
		t.Error("trailing data accepted")
	}
}

func FuzzLoadSmokeState(f *testing.F) {
	f.Add(validStateFile(f))
	f.Add([]byte(`{"kind":"leakwatch.smoke-state","version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseSmokeState(b)
		if err != nil {
			return
		}
		// Accepted: it rebuilds a run; a finished one encodes to the same state, a running one
		// counts one more restart.
		r := st.run(SmokeConfig{}, nil, SmokeTargets{}, st.Run.Started.Add(time.Hour))
		if st.Run.Status == SmokeRunning {
			if r.rep.Restarts != st.Run.Restarts+1 {
				t.Fatalf("resumed run has %d restarts, state %d", r.rep.Restarts, st.Run.Restarts)
			}
			return
		}
		again, err := encodeSmokeState(r)
		if err != nil {
			t.Fatalf("re-encoding an accepted state: %v", err)
		}
		st2, err := parseSmokeState(again)
		if err != nil {
			t.Fatalf("re-encoded state rejected: %v\n%s", err, again)
		}
		if st2.Run.Restarts != st.Run.Restarts || len(st2.Run.Checkpoints) != len(st.Run.Checkpoints) || !st2.Run.BaselineAt.Equal(st.Run.BaselineAt) {
			t.Fatalf("round trip changed the state:\n%+v\n%+v", st, st2)
		}
	})
}
