package trend

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	want := Params{
		Window: 5 * time.Minute, Warmup: 5 * time.Minute, Slots: 10, MinSpan: 5 * time.Minute,
		Confirm: 75 * time.Second, Resolve: 150 * time.Second, ResolveRatio: 0.6, StepFactor: 5,
		StepSettle: 100 * time.Second, StepMemory: 20 * time.Minute, ExhaustWindow: 15 * time.Minute,
		CycleMemory: 15 * time.Minute, FastEvidence: 2,
	}
	if p != want {
		t.Errorf("DefaultParams() = %+v, want %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("DefaultParams().Validate() = %v, want nil", err)
	}
}

func TestParamsDerivedFromWindow(t *testing.T) {
	d, err := New(Params{Window: 6 * time.Second, Warmup: -1}, Rule{NoticePerMin: 1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p := d.Params()
	if p.Confirm != 1500*time.Millisecond || p.MinSpan != 6*time.Second || p.ExhaustWindow != 18*time.Second {
		t.Errorf("derived params = %+v, want Confirm 1.5s, MinSpan 6s, ExhaustWindow 18s", p)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		want []string // every named field must appear
	}{
		{"ok zero", Params{}, nil},
		{"negative window", Params{Window: -time.Second}, []string{"Window"}},
		{"slots", Params{Slots: 2}, []string{"Slots"}},
		{"many", Params{Slots: 100, Confirm: -1, Resolve: -1, ResolveRatio: 2, StepFactor: 0.5, MinSpan: time.Hour},
			[]string{"Slots", "Confirm", "Resolve", "ResolveRatio", "StepFactor", "MinSpan"}},
		{"exhaust window", Params{Window: time.Hour, ExhaustWindow: time.Minute}, []string{"ExhaustWindow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "trend: ") {
				t.Errorf("error %q lacks the trend: prefix", err)
			}
			for _, f := range tc.want {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Validate() = %q, want it to name %s", err, f)
				}
			}
		})
	}
}

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Rule
		want []string
	}{
		{"every level", Rule{NoticePerMin: 1, WarningPerMin: 2, CriticalPerMin: 3, ExhaustWarning: 2 * time.Hour, ExhaustCritical: time.Hour}, nil},
		{"disabled levels", Rule{WarningPerMin: 3}, nil},
		{"warning >= critical", Rule{NoticePerMin: 1, WarningPerMin: 50, CriticalPerMin: 50}, []string{"WarningPerMin (50) must be below CriticalPerMin (50)"}},
		{"notice over critical, NaN", Rule{NoticePerMin: 60, WarningPerMin: math.NaN(), CriticalPerMin: 50}, []string{"NoticePerMin (60) must be below CriticalPerMin", "WarningPerMin must be a finite number (got NaN)"}},
		{"exhaust order", Rule{ExhaustWarning: time.Hour, ExhaustCritical: 2 * time.Hour}, []string{"ExhaustCritical"}},
		{"negative exhaust", Rule{ExhaustWarning: -1}, []string{"ExhaustWarning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalid", err)
			}
			for _, f := range tc.want {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Validate() = %q, want it to contain %q", err, f)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	_, err := New(Params{Slots: 1}, Rule{NoticePerMin: 5, WarningPerMin: 1})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Slots") || !strings.Contains(err.Error(), "NoticePerMin") {
		t.Errorf("New() error = %v, want one naming Slots and NoticePerMin", err)
	}
}
