package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutOfDescriptors runs the command as `ulimit -n 200` with a leak of 3000 files a minute:
// it runs out of descriptors within seconds. The process must stay alive for 15 s and the
// watchdog must log fds as critical, naming the limit.
func TestOutOfDescriptors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it for 15 s")
	}
	bin := buildCommand(t)
	wrapper := filepath.Join(t.TempDir(), "ulimit200")
	script := "#!/bin/sh\nulimit -n 200 || exit 97\nexec " + bin + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r := start(t, wrapper, "-smoke", "0", "-interval", "200ms", "-window", "6s", "-warmup", "2s", "-leak-fds", "3000")
	select {
	case <-r.exited:
		t.Fatalf("exited within 15 s at the descriptor limit: %v", r.err)
	case <-time.After(15 * time.Second):
	}
	var critical []string
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		var l struct {
			Msg, Series, Reason string
			AlertLevel          string `json:"alert_level"`
			Limit               float64
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "alert" && l.Series == "fds" && l.AlertLevel == "critical" {
			critical = append(critical, l.Reason)
			if l.Limit != 200 {
				t.Errorf("critical fds alert with limit %v, want 200: %s", l.Limit, line)
			}
		}
	}
	if len(critical) == 0 {
		t.Fatalf("no critical fds alert logged; stderr:\n%s", r.stderr.String())
	}
	if !strings.Contains(critical[0], "limit 200") {
		t.Errorf("reason %q does not name the limit", critical[0])
	}
	if strings.Contains(r.stderr.String(), "panic") {
		t.Error("a panic was logged")
	}
}
