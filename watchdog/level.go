package watchdog

import "fmt"

// Level grades a series: [LevelOK] < [LevelNotice] < [LevelWarning] < [LevelCritical].
// The zero value is LevelOK. Levels order by severity, so they can be compared with < and >.
type Level uint8

const (
	// LevelOK: no rule is broken.
	LevelOK Level = iota
	// LevelNotice: over the smoke test's target (goroutines >= 10/min, FDs >= 5/min by default),
	// not yet a warning sign.
	LevelNotice
	// LevelWarning: one of the seed's warning signs (goroutines >= 20/min, FDs >= 15/min, HTTP
	// errors, no idle connection under traffic, exhaustion forecast within 6 h).
	LevelWarning
	// LevelCritical: one of the seed's red flags (goroutines >= 50/min, FDs >= 30/min,
	// exhaustion within 1 h or reached).
	LevelCritical
)

var levelNames = [...]string{"ok", "notice", "warning", "critical"}

// String returns "ok", "notice", "warning" or "critical".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// MarshalText encodes the level as its name, so JSON carries "warning" rather than 2.
func (l Level) MarshalText() ([]byte, error) {
	if int(l) >= len(levelNames) {
		return nil, fmt.Errorf("watchdog: invalid level %d", uint8(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes a level name as written by [Level.MarshalText].
func (l *Level) UnmarshalText(b []byte) error {
	lv, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = lv
	return nil
}

// ParseLevel returns the level named s ("ok", "notice", "warning" or "critical").
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return LevelOK, fmt.Errorf("watchdog: unknown level %q (want ok, notice, warning or critical)", s)
}
