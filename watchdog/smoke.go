package watchdog

import "time"

// Placeholder hooks, to be replaced by the smoke-run implementation (smoke runs are not
// implemented yet).

func (w *Watchdog) initSmoke() error    { return nil }
func (w *Watchdog) smokeTick(time.Time) {}
func (w *Watchdog) smokeStop()          {}
