package watchdog

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
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
		{"huge warmup", func(c *Config) { c.Warmup = 25 * time.Hour }, []string{"Warmup must be NoWarmup (-1ns) or in [0, 24h0m0s] (got 25h0m0s)"}},
		{"no warmup", func(c *Config) { c.Warmup = NoWarmup }, nil},
		{"negative warmup", func(c *Config) { c.Warmup = -time.Second }, []string{"Warmup must be NoWarmup (-1ns) or in [0, 24h0m0s] (got -1s)"}},
		{"huge confirm", func(c *Config) { c.Confirm = 1 << 62 }, []string{"Confirm must be in [0, 24h0m0s]"}},
		{"huge resolve", func(c *Config) { c.Resolve = 1 << 62 }, []string{"Resolve must be in [0, 24h0m0s]"}},
		{"huge stall", func(c *Config) { c.StallAfter = 1 << 62 }, []string{"StallAfter must be in [0, 24h0m0s]"}},
		{"huge history", func(c *Config) { c.HistorySize = 1 << 30 }, []string{"HistorySize must be in [2, 1048576] (got 1073741824)"}},
		{"huge recent alerts", func(c *Config) { c.RecentAlerts = 1 << 30 }, []string{"RecentAlerts must be in [1, 65536]"}},
		{"huge alert queue", func(c *Config) { c.AlertQueue = 1 << 30 }, []string{"AlertQueue must be in [1, 65536]"}},
		{"negative sizes", func(c *Config) { c.HistorySize, c.RecentAlerts, c.AlertQueue = -1, -1, -1 }, []string{"HistorySize", "RecentAlerts", "AlertQueue"}},
		{"no jitter", func(c *Config) { c.Jitter = NoJitter }, nil},
		{"zero jitter is the default", func(c *Config) { c.Jitter = 0 }, nil},
		{"negative jitter", func(c *Config) { c.Jitter = -0.1 }, []string{"Jitter must be NoJitter (-1) or in (0, 1] (got -0.1)"}},
		{"jitter over one", func(c *Config) { c.Jitter = 1.5 }, []string{"Jitter must be NoJitter (-1) or in (0, 1] (got 1.5)"}},
		{"nan jitter", func(c *Config) { c.Jitter = nan() }, []string{"Jitter must be NoJitter (-1) or in (0, 1] (got NaN)"}},
		{"short window", func(c *Config) { c.Interval, c.Window = time.Second, 2*time.Second }, []string{"Window must be at least three Intervals"}},
		{"warning >= critical", func(c *Config) {
			c.Rules[SeriesGoroutines] = Rule{WarningPerMin: 50, CriticalPerMin: 50}
		}, []string{`Rules["goroutines"]: WarningPerMin (50) must be below CriticalPerMin (50)`}},
		{"exhaust order", func(c *Config) {
			c.Rules[SeriesFDs] = Rule{ExhaustWarning: time.Hour, ExhaustCritical: 2 * time.Hour}
		}, []string{"ExhaustCritical (2h0m0s) must be shorter than ExhaustWarning (1h0m0s)"}},
		{"every bad field at once", func(c *Config) {
			c.Interval, c.HistorySize, c.Warmup = -1, 1, -time.Second
			c.Smoke.Enabled, c.Smoke.Checkpoint = true, -1
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

// TestConfigZeroValue: a zero field means its default, here and in the Smoke and Attribution
// sections, so the zero Config is DefaultConfig, and it validates.
func TestConfigZeroValue(t *testing.T) {
	if got, want := (Config{}).withDefaults(), DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero Config with defaults = %+v\nwant DefaultConfig %+v", got, want)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Config{}.Validate() = %v", err)
	}
	if c := (Config{Rules: map[string]Rule{}}).withDefaults(); len(c.Rules) != 0 {
		t.Errorf("an empty Rules map became %v, want it kept empty", c.Rules)
	}
	for _, tc := range []struct {
		in, want SmokeConfig
	}{
		{SmokeConfig{}, DefaultSmokeConfig()},
		{SmokeConfig{Enabled: true, StateFile: "s"}, SmokeConfig{Enabled: true, StateFile: "s", Duration: 30 * time.Minute, Checkpoint: 2 * time.Minute}},
		{SmokeConfig{Duration: time.Hour}, SmokeConfig{Duration: time.Hour, Checkpoint: 2 * time.Minute}},
		{SmokeConfig{Duration: time.Minute}, SmokeConfig{Duration: time.Minute, Checkpoint: time.Minute}},
		{SmokeConfig{Checkpoint: time.Minute}, SmokeConfig{Duration: 30 * time.Minute, Checkpoint: time.Minute}},
	} {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("%+v with defaults = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if got := (AttributionConfig{DumpDir: "d"}).withDefaults(); got.Cooldown != 10*time.Minute || got.DumpMaxFiles != 20 || got.DumpDir != "d" {
		t.Errorf("AttributionConfig{DumpDir} with defaults = %+v, want the default cooldown and files", got)
	}
}

// TestZeroConfigRunsAsDefault: a watchdog started with the zero Config samples at the same
// jittered instants as one started with DefaultConfig (in a bubble, whose fake clock the
// jitter applies to), and a zero smoke section, enabled, runs the seed's 30-minute run with
// 2-minute checkpoints.
func TestZeroConfigRunsAsDefault(t *testing.T) {
	times := func(t *testing.T, c Config) []time.Time {
		var got []time.Time
		synctest.Test(t, func(t *testing.T) {
			w, err := Start(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second)
			synctest.Wait()
			w.Stop()
			for _, p := range w.History(SeriesGoroutines) {
				got = append(got, p.Time)
			}
		})
		return got
	}
	zero, def := times(t, Config{}), times(t, DefaultConfig())
	if len(zero) < 10 || !slices.EqualFunc(zero, def, time.Time.Equal) {
		t.Errorf("sample times of Config{}:\n%v\nof DefaultConfig():\n%v\nwant the same, at least 10", zero, def)
	}
	offGrid := 0
	for _, x := range zero[1:] {
		if x.Sub(zero[0])%time.Second != 0 {
			offGrid++
		}
	}
	if offGrid == 0 {
		t.Errorf("every sample of Config{} is on the one-second grid: no jitter")
	}
	synctest.Test(t, func(t *testing.T) {
		w, err := Start(t.Context(), Config{Smoke: SmokeConfig{Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		synctest.Wait()
		if r := w.SmokeReport(); r.Status != SmokeRunning || r.Duration != 30*time.Minute || r.Checkpoint != 2*time.Minute {
			t.Errorf("smoke run of a zero section: %s, %v, checkpoint %v; want running, 30m0s, 2m0s", r.Status, r.Duration, r.Checkpoint)
		}
	})
}
