package watchdog

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestTimeToCriticalByRate measures, through Replay, how long a goroutine leak takes to be
// critical against its rate (1, 3, 10 and 100 × the critical 50/min), with the default
// settings and with Window 30 s / Warmup 10 s, for a leak present from the first sample and
// one that starts 30 minutes in; samples every second over a noisy floor of 200. It requires a
// faster leak never to be caught later than a slower one, and the 100× leak within 10 s at
// Window 30 s; it logs the table bench/README.md quotes ("How fast is a leak caught, by its
// speed?").
func TestTimeToCriticalByRate(t *testing.T) {
	crit := DefaultConfig().Rules[SeriesGoroutines].CriticalPerMin
	configs := []struct {
		name string
		cfg  Config
	}{{"default (Window 5m, Warmup 5m)", DefaultConfig()}, {"Window 30s, Warmup 10s", shortConfig(30 * time.Second)}}
	var sb strings.Builder
	for _, c := range configs {
		for _, start := range []time.Duration{0, 30 * time.Minute} {
			fmt.Fprintf(&sb, "\n%s, leak from %v:", c.name, start)
			prev := time.Duration(math.MaxInt64)
			for _, mult := range []float64{1, 3, 10, 100} {
				rate := mult * crit
				rng := rand.New(rand.NewPCG(uint64(mult), 5))
				got := replayGoroutines(t, c.cfg, start+time.Hour, rng, func() time.Duration { return time.Second }, func(at time.Duration) float64 {
					v := 200 + math.Round(rng.Float64()*10)
					if at >= start {
						v += math.Floor((at - start).Minutes() * rate)
					}
					return v
				})
				after := time.Duration(-1)
				for _, a := range got {
					if at := a.Time.Sub(time.Unix(0, 0)); a.Level == LevelCritical && at >= start {
						after = at - start
						break
					}
				}
				if after < 0 {
					fmt.Fprintf(&sb, "  %gx: not within 1h;", mult)
					continue
				}
				fmt.Fprintf(&sb, "  %gx: %v;", mult, after.Round(time.Second))
				if after > prev {
					t.Errorf("%s, leak from %v at %gx: critical after %v, later than the slower leak (%v)", c.name, start, mult, after, prev)
				}
				prev = after
				if mult == 100 && c.cfg.Window == 30*time.Second && after > 10*time.Second {
					t.Errorf("%s, leak from %v at 100x: critical after %v, want within 10 s", c.name, start, after)
				}
			}
		}
	}
	t.Log(sb.String())
}
