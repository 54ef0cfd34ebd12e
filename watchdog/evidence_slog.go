package watchdog

import "log/slog"

// LogValue returns the evidence as a slog group with the fields of its zap form
// ([Evidence.MarshalLogObject]): cause, diagnosis, facts, the top goroutine group and
// descriptor class, the cost. A nil Evidence is an empty group, which handlers omit.
func (e *Evidence) LogValue() slog.Value {
	if e == nil {
		return slog.GroupValue()
	}
	return slogValue(e)
}
