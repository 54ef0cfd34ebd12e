package watchdog

import (
	"fmt"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// Level grades a series: [LevelOK] < [LevelNotice] < [LevelWarning] < [LevelCritical].
// The zero value is LevelOK. Levels order by severity, so they can be compared with < and >.
// String returns "ok", "notice", "warning" or "critical" (other values print as "level(N)");
// MarshalText and UnmarshalText encode a level as that name, so JSON carries "warning"
// rather than 2, and reject values that are not levels. It is the detector core's level type,
// so the rules and the verdicts share one vocabulary.
type Level = trend.Level

const (
	// LevelOK: no rule is broken.
	LevelOK = trend.OK
	// LevelNotice: over the smoke test's target (goroutines >= 10/min, FDs >= 5/min by default),
	// not yet a warning sign.
	LevelNotice = trend.Notice
	// LevelWarning: one of the seed's warning signs (goroutines >= 20/min, FDs >= 15/min, HTTP
	// errors, no idle connection under traffic, exhaustion forecast within 6 h).
	LevelWarning = trend.Warning
	// LevelCritical: one of the seed's red flags (goroutines >= 50/min, FDs >= 30/min,
	// exhaustion within 1 h or reached).
	LevelCritical = trend.Critical
)

// ParseLevel returns the level named s ("ok", "notice", "warning" or "critical").
func ParseLevel(s string) (Level, error) {
	l, err := trend.ParseLevel(s)
	if err != nil {
		return LevelOK, fmt.Errorf("watchdog: %w", err)
	}
	return l, nil
}
