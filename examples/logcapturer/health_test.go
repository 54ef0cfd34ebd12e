package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/watchdog"
)

// TestHealthDurationsInSeconds: /health speaks the watchdog's wire vocabulary: the uptime is
// uptime_s, in seconds, and no key names another unit.
func TestHealthDurationsInSeconds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := checkHealth(watchdog.Snapshot{Time: t0.Add(25 * time.Second), Running: true},
		watchdog.SmokeReport{Status: watchdog.SmokeNone}, &capturer{}, t0)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j["uptime_s"] != 25.0 {
		t.Errorf("uptime_s = %v, want 25 in %s", j["uptime_s"], b)
	}
	for k := range j {
		if strings.HasSuffix(k, "_seconds") || strings.HasSuffix(k, "_ns") {
			t.Errorf("key %q: durations are *_s", k)
		}
	}
}
