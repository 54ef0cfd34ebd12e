package trend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

func TestZZOut(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	d, _ := New(Params{}, gorRule)
	rng := rand.New(rand.NewPCG(1, 2))
	for at := time.Duration(0); at < 2*time.Hour; at += 10 * time.Second {
		_ = rng.Float64()
		v := 100.0
		switch x := rng.Float64(); {
		case x < 0.01:
			v += 400
		case x < 0.02:
			v -= 80
		}
		v += (rng.Float64()*2 - 1) * 6
		vd := d.Step(at, math.Round(v), 0)
		fmt.Printf("%6.0f v=%4.0f r=%5.1f %v %v base=%.0f floor=%.0f\n", at.Seconds(), math.Round(v), vd.RatePerMin, vd.Level, vd.Cause, vd.Baseline, vd.Floor)
	}
}
