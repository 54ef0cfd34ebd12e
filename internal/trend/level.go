package trend

import (
	"errors"
	"fmt"
)

// Level is the severity of a series' growth, ordered OK < Notice < Warning < Critical.
// The zero value is OK.
type Level uint8

// Levels, from least to most severe.
const (
	OK       Level = iota // no sustained growth over the notice threshold
	Notice                // growth over the target (the smoke test's pass line)
	Warning               // growth at the warning rate, or the limit is reached within Rule.ExhaustWarning
	Critical              // growth at the critical rate, the limit is reached within Rule.ExhaustCritical, or reached
)

// String returns "ok", "notice", "warning" or "critical"; other values print as "level(N)".
func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Notice:
		return "notice"
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "level(" + itoa(int(l)) + ")"
}

var levelNames = [...]string{"ok", "notice", "warning", "critical"}

// ErrLevel is wrapped by the errors of ParseLevel, Level.MarshalText and Level.UnmarshalText.
var ErrLevel = errors.New("not a level")

// MarshalText encodes the level as its name, so JSON carries "warning" rather than 2.
func (l Level) MarshalText() ([]byte, error) {
	if int(l) >= len(levelNames) {
		return nil, fmt.Errorf("%w: %d", ErrLevel, uint8(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes a level name as written by MarshalText.
func (l *Level) UnmarshalText(b []byte) error {
	lv, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = lv
	return nil
}

// ParseLevel returns the level named s ("ok", "notice", "warning" or "critical"); any other
// string is an error wrapping ErrLevel that quotes it.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return OK, fmt.Errorf("%w: %q (want ok, notice, warning or critical)", ErrLevel, s)
}

// Cause says why a Verdict has its level. The zero value is CauseNone.
type Cause uint8

// Causes.
const (
	CauseNone       Cause = iota // level ok, nothing to report
	CauseWarmup                  // still in warm-up or without enough data: level held at ok
	CauseGrowth                  // the floor grows at or above a rate threshold
	CauseStaircase               // repeated level shifts add up to a growth rate over a threshold
	CauseExhaustion              // at the current trend the limit is reached within an exhaustion horizon
	CauseLimit                   // the value has reached the limit
	CauseRecovered               // the level went down: the rules support only a lower level
	CauseIncrease                // the value (a counter) increased within the last Window (Rule.OnIncrease)
	CauseBelow                   // the value is under Rule.Below while the rule's condition holds (Rule.BelowLevel)
)

// String returns a short lowercase name such as "growth" or "exhaustion".
func (c Cause) String() string {
	switch c {
	case CauseNone:
		return "none"
	case CauseWarmup:
		return "warmup"
	case CauseGrowth:
		return "growth"
	case CauseStaircase:
		return "staircase"
	case CauseExhaustion:
		return "exhaustion"
	case CauseLimit:
		return "limit_reached"
	case CauseRecovered:
		return "recovered"
	case CauseIncrease:
		return "increase"
	case CauseBelow:
		return "below"
	}
	return "cause(" + itoa(int(c)) + ")"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
