package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCatchesItsLeakInSlog runs the program with its goroutine leak (20 a second) for 12 s: the
// slog records must carry a critical goroutines alert with its rate and reason, and the
// evidence of the first alert that took one (warning or critical) with a diagnosis, and the
// program must return without error.
func TestCatchesItsLeakInSlog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12 s")
	}
	var out, logs strings.Builder
	if err := realMain(&out, &logs, true, 12*time.Second); err != nil {
		t.Fatal(err)
	}
	var alert, evidence bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Level, Msg, Series, Reason string
			AlertLevel                 string   `json:"alert_level"`
			RatePerMin                 *float64 `json:"rate_per_min"`
			Evidence                   struct{ Diagnosis string }
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if r.Series != "goroutines" || r.RatePerMin == nil || r.Reason == "" {
			continue
		}
		alert = alert || (r.Msg == "alert" && r.AlertLevel == "critical" && r.Level == "ERROR")
		// The evidence is taken for the first warning or critical alert (then a cooldown).
		evidence = evidence || (r.Msg == "attribution" && r.Evidence.Diagnosis != "" &&
			(r.AlertLevel == "critical" && r.Level == "ERROR" || r.AlertLevel == "warning" && r.Level == "WARN"))
	}
	if !alert || !evidence {
		t.Errorf("critical goroutines alert logged %v, with its evidence %v; want both in:\n%s", alert, evidence, logs.String())
	}
	if !strings.Contains(out.String(), "level=critical") {
		t.Errorf("summary %q, want goroutines at critical", out.String())
	}
}
