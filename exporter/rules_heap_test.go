package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// TestHeapRuleMirrorsWatchdog: the fleet rules judge the live heap as the watchdog's
// heap_live_bytes rule does: at the per-minute rate, or at the relative rate of max(live,
// PctOf) capped at it once the process is older than PctAfter; a rule without percentages
// gives the per-minute term alone, and no rule no heap alert.
func TestHeapRuleMirrorsWatchdog(t *testing.T) {
	b, err := AlertRules(RulesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`alert: "LeakwatchHeapGrowth"`,
		`deriv(leakwatch_heap_live_bytes[20m]) * 60 >= 2097152 or (deriv(leakwatch_heap_live_bytes[20m]) * 60 >= clamp_max(clamp_min(leakwatch_heap_live_bytes, 301989888) * 0.0016666666666666668, 2097152) and (time() - process_start_time_seconds) > 2400)`,
		`series: "heap_live_bytes"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("default rules lack %s:\n%s", want, b)
		}
	}
	rules := watchdog.DefaultConfig().Rules
	rules[watchdog.SeriesHeapLive] = watchdog.Rule{WarningPerMin: 4 << 20, ExhaustWarning: time.Hour}
	b, err = AlertRules(RulesOptions{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `expr: "deriv(leakwatch_heap_live_bytes[20m]) * 60 >= 4194304"`) || strings.Contains(s, "clamp_min") {
		t.Errorf("per-minute rule only: %s", s)
	}
	delete(rules, watchdog.SeriesHeapLive)
	b, err = AlertRules(RulesOptions{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "LeakwatchHeapGrowth") {
		t.Errorf("no heap rule, yet a heap alert")
	}
}
