package watchdog

import "time"

// Clock is the watchdog's source of time. The default is the system clock; tests and replays
// inject their own with [WithClock]. Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTicker returns a ticker that fires every d, as [time.NewTicker] does.
	NewTicker(d time.Duration) Ticker
}

// Ticker is the part of [time.Ticker] the watchdog uses.
type Ticker interface {
	// C returns the channel on which ticks are delivered.
	C() <-chan time.Time
	// Stop turns the ticker off; no more ticks are sent after it returns.
	Stop()
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTicker(d time.Duration) Ticker { return systemTicker{time.NewTicker(d)} }

type systemTicker struct{ t *time.Ticker }

func (t systemTicker) C() <-chan time.Time { return t.t.C }
func (t systemTicker) Stop()               { t.t.Stop() }
