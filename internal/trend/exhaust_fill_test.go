package trend_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// TestFillLevellingOffNoExhaustion: descriptors that fill at start-up and level off at 620 of
// a 1024 limit (an exponential approach) are not forecast to reach the limit: never, with the
// default parameters (time constants 5 s to 8 min); not as critical with a 30 s Window and
// 10 s warm-up (time constants up to 2 min; its 90 s exhaustion trend cannot see a slower fill
// decelerate, a known limit). Steady leaks toward the limit still are, before they reach it:
// 20/min (the long-term trend, critical within the hour) and 150/min from the first sample
// (the fast rule's trend, in warm-up).
func TestFillLevellingOffNoExhaustion(t *testing.T) {
	rule := seedRule("fds")
	const limit = 1024
	params := map[string]trend.Params{"default": {}, "Window 30s": shortParams()}
	for pname, p := range params {
		for _, tau := range []time.Duration{5 * time.Second, 20 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
			short := p.Window != 0
			if short && tau > 2*time.Minute {
				continue
			}
			for seed := uint64(0); seed < 4; seed++ {
				d, err := trend.New(p, rule)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(seed, 3))
				for at := time.Duration(0); at < time.Hour; at += time.Second {
					v := 20 + math.Round(600*(1-math.Exp(-float64(at)/float64(tau)))+rng.Float64()*3)
					if vd := d.Step(at, v, limit, true); vd.Cause == trend.CauseExhaustion && (!short || vd.Level == trend.Critical) {
						t.Errorf("%s, fill with time constant %v, seed %d: %v at %v, value %v: %v to the limit at %.1f/min",
							pname, tau, seed, vd.Level, at, v, vd.Exhaustion, vd.RatePerMin)
						break
					}
				}
			}
		}
	}
	for _, rate := range []float64{20, 150} {
		for pname, p := range params {
			d, err := trend.New(p, rule)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(rate), 3))
			forecast := false
			for at := time.Duration(0); !forecast; at += time.Second {
				v := 100 + math.Round(at.Minutes()*rate+rng.Float64()*3)
				if v >= limit {
					t.Errorf("%s, leak at %.0f/min: at the limit at %v with no exhaustion forecast before", pname, rate, at)
					break
				}
				vd := d.Step(at, v, limit, true)
				forecast = vd.Cause == trend.CauseExhaustion && vd.Level == trend.Critical
			}
		}
	}
}
