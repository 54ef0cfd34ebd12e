package watchdog

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestSmokeConfigBounds: durations and checkpoint counts that overflowed the checkpoint count
// (and made the first report index cps[-1]) or would make a run too large are rejected by
// Validate, overflow-safely, naming the field.
func TestSmokeConfigBounds(t *testing.T) {
	tests := []struct {
		name string
		s    SmokeConfig
		want string // substring of the error; empty means valid
	}{
		{"default", DefaultSmokeConfig(), ""},
		{"the issue's overflow", SmokeConfig{Duration: math.MaxInt64, Checkpoint: 4611686018427387906}, "Smoke.Duration must be at most"},
		{"max duration, max checkpoint", SmokeConfig{Duration: math.MaxInt64, Checkpoint: math.MaxInt64}, "Smoke.Duration must be at most"},
		{"too many checkpoints", SmokeConfig{Duration: 24 * time.Hour, Checkpoint: time.Second}, "Smoke.Checkpoint (1s) makes 86400 checkpoints"},
		{"the most checkpoints", SmokeConfig{Duration: smokeMaxCheckpoints * time.Second, Checkpoint: time.Second}, ""},
		{"one too many", SmokeConfig{Duration: smokeMaxCheckpoints*time.Second + 1, Checkpoint: time.Second}, "makes 4097 checkpoints"},
		{"longest run", SmokeConfig{Duration: smokeMaxDuration, Checkpoint: smokeMaxDuration}, ""},
		{"huge warmup", SmokeConfig{Duration: time.Minute, Checkpoint: time.Minute, Warmup: math.MaxInt64}, "Smoke.Warmup must be at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Smoke = tt.s
			c.Smoke.Enabled = true
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an ErrInvalidConfig mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCheckpointCountNoOverflow(t *testing.T) {
	for _, tt := range []struct {
		d, c time.Duration
		want int64
	}{
		{math.MaxInt64, 4611686018427387906, 2},
		{math.MaxInt64, math.MaxInt64, 1},
		{math.MaxInt64, 1, math.MaxInt64},
		{30 * time.Minute, 2 * time.Minute, 15},
		{31 * time.Minute, 2 * time.Minute, 16},
	} {
		if got := checkpointCount(SmokeConfig{Duration: tt.d, Checkpoint: tt.c}); got != tt.want {
			t.Errorf("checkpointCount(%v, %v) = %d, want %d", tt.d, tt.c, got, tt.want)
		}
	}
}

// TestStartSmokeRejectsOverflow: the values through StartSmoke (and so POST /smoke)
// are an error, and the watchdog keeps answering.
func TestStartSmokeRejectsOverflow(t *testing.T) {
	w, err := Start(t.Context(), fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Stop() }()
	err = w.StartSmoke(SmokeConfig{Duration: math.MaxInt64, Checkpoint: 4611686018427387906})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "Smoke.Duration") {
		t.Fatalf("StartSmoke = %v, want an ErrInvalidConfig naming Smoke.Duration", err)
	}
	if r := w.SmokeReport(); r.Status != SmokeNone {
		t.Fatalf("status %v, want none", r.Status)
	}
	_ = w.Snapshot()
}
