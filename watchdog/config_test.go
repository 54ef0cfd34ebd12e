package watchdog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings the error must contain; none means valid
	}{
		{"default", func(*Config) {}, nil},
		{"zero interval is the default", func(c *Config) { c.Interval = 0 }, nil},
		{"negative interval", func(c *Config) { c.Interval = -time.Second }, []string{"Interval must be in (0, 1h0m0s] (got -1s)"}},
		// upper bounds: each of these passed validation (and could overflow a derived duration
		// or allocate without limit) before the bounds
		{"huge interval", func(c *Config) { c.Interval, c.Window = 1<<62, 1<<62 }, []string{"Interval must be in (0, 1h0m0s]", "Window must be in (0, 24h0m0s]"}},
		{"interval over the window's third, overflow-safe", func(c *Config) { c.Interval, c.Window = time.Hour, 2*time.Hour }, []string{"Window must be at least three Intervals"}},
		{"huge window", func(c *Config) { c.Window = 1 << 62 }, []string{"Window must be in (0, 24h0m0s] (got"}},
		{"huge warmup", func(c *Config) { c.Warmup = 25 * time.Hour }, []string{"Warmup must be in [0, 24h0m0s]"}},
		{"huge confirm", func(c *Config) { c.Confirm = 1 << 62 }, []string{"Confirm must be in [0, 24h0m0s]"}},
		{"huge resolve", func(c *Config) { c.Resolve = 1 << 62 }, []string{"Resolve must be in [0, 24h0m0s]"}},
		{"huge stall", func(c *Config) { c.StallAfter = 1 << 62 }, []string{"StallAfter must be in [0, 24h0m0s]"}},
		{"huge history", func(c *Config) { c.HistorySize = 1 << 30 }, []string{"HistorySize must be in [2, 1048576] (got 1073741824)"}},
		{"huge recent alerts", func(c *Config) { c.RecentAlerts = 1 << 30 }, []string{"RecentAlerts must be in [1, 65536]"}},
		{"huge alert queue", func(c *Config) { c.AlertQueue = 1 << 30 }, []string{"AlertQueue must be in [1, 65536]"}},
		{"negative sizes", func(c *Config) { c.HistorySize, c.RecentAlerts, c.AlertQueue = -1, -1, -1 }, []string{"HistorySize", "RecentAlerts", "AlertQueue"}},
		{"no jitter", func(c *Config) { c.Jitter = 0 }, nil},
		{"negative jitter", func(c *Config) { c.Jitter = -0.1 }, []string{"Jitter must be in [0, 1] (got -0.1)"}},
		{"jitter over one", func(c *Config) { c.Jitter = 1.5 }, []string{"Jitter must be in [0, 1] (got 1.5)"}},
		{"nan jitter", func(c *Config) { c.Jitter = nan() }, []string{"Jitter must be in [0, 1] (got NaN)"}},
		{"short window", func(c *Config) { c.Interval, c.Window = time.Second, 2*time.Second }, []string{"Window must be at least three Intervals"}},
		{"warning >= critical", func(c *Config) {
			c.Rules[SeriesGoroutines] = Rule{WarningPerMin: 50, CriticalPerMin: 50}
		}, []string{`Rules["goroutines"]: WarningPerMin (50) must be below CriticalPerMin (50)`}},
		{"exhaust order", func(c *Config) {
			c.Rules[SeriesFDs] = Rule{ExhaustWarning: time.Hour, ExhaustCritical: 2 * time.Hour}
		}, []string{"ExhaustCritical (2h0m0s) must be shorter than ExhaustWarning (1h0m0s)"}},
		{"every bad field at once", func(c *Config) {
			c.Interval, c.HistorySize, c.Warmup = -1, 1, -time.Second
			c.Smoke.Enabled, c.Smoke.Checkpoint = true, 0
		}, []string{"Interval", "HistorySize", "Warmup", "Smoke.Checkpoint"}},
		{"nan threshold", func(c *Config) { c.Rules["fds"] = Rule{NoticePerMin: nan()} }, []string{"finite"}},
		{"below while without level", func(c *Config) { c.Rules["fds"] = Rule{BelowWhile: "goroutines"} }, []string{"BelowWhile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestStartRejectsUnknownSeriesAndBadGauges(t *testing.T) {
	c := DefaultConfig()
	c.Rules["no_such_series"] = Rule{WarningPerMin: 1}
	c.Interval = -time.Second
	_, err := Start(context.Background(), c,
		WithGauge("Bad-Name", func() float64 { return 1 }),
		WithGauge("goroutines", func() float64 { return 1 }),
		WithGauge("nilfn", nil))
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Start() error = %v, want ErrInvalidConfig", err)
	}
	for _, w := range []string{"Interval", `gauge "Bad-Name"`, `gauge "goroutines": a series of that name exists`, `gauge "nilfn": nil function`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Start() error = %q, want it to mention %q", err, w)
		}
	}
	c = DefaultConfig()
	c.Rules["no_such_series"] = Rule{WarningPerMin: 1}
	if _, err := Start(context.Background(), c); err == nil || !strings.Contains(err.Error(), `Rules["no_such_series"]: unknown series`) {
		t.Fatalf("Start() error = %v, want unknown series", err)
	}
}

func TestLevelText(t *testing.T) {
	for l := LevelOK; l <= LevelCritical; l++ {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got Level
		if err := got.UnmarshalText(b); err != nil || got != l {
			t.Errorf("round trip of %v = %v, %v", l, got, err)
		}
	}
	if _, err := ParseLevel("bad"); err == nil {
		t.Error("ParseLevel(bad) = nil error")
	}
	if got := Level(9).String(); got != "level(9)" {
		t.Errorf("Level(9).String() = %q", got)
	}
	for c := CauseNone; c <= CauseStaircase; c++ {
		b, _ := c.MarshalText()
		var got Cause
		if err := got.UnmarshalText(b); err != nil || got != c {
			t.Errorf("round trip of cause %v = %v, %v", c, got, err)
		}
	}
	var c Cause
	if err := c.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("UnmarshalText(bogus) = nil error")
	}
}

// TestConfigZeroValue: a zero field means its default, so the zero Config is DefaultConfig
// apart from Jitter (zero samples on the grid) and the Smoke and Attribution sections, and it
// starts.
func TestConfigZeroValue(t *testing.T) {
	got, want := Config{}.withDefaults(), DefaultConfig()
	if got.Interval != want.Interval || got.Window != want.Window || got.Warmup != want.Warmup ||
		got.HistorySize != want.HistorySize || got.RecentAlerts != want.RecentAlerts || got.AlertQueue != want.AlertQueue ||
		got.StallAfter != want.StallAfter || len(got.Rules) != len(want.Rules) {
		t.Errorf("zero Config with defaults = %+v\nwant the fields of DefaultConfig %+v", got, want)
	}
	for n, r := range want.Rules {
		if got.Rules[n] != r {
			t.Errorf("Rules[%q] = %+v, want %+v", n, got.Rules[n], r)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Config{}.Validate() = %v", err)
	}
	if c := (Config{Rules: map[string]Rule{}}).withDefaults(); len(c.Rules) != 0 {
		t.Errorf("an empty Rules map became %v, want it kept empty", c.Rules)
	}
}
