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

// TestOutOfDescriptorsDefaults is TestOutOfDescriptors with the default detector settings (no
// -interval, -window or -warmup): the limit is critical as soon as a sample shows it, warm-up or
// not, and the logged evidence of the fds alert names the leaked files' directory and pattern.
func TestOutOfDescriptorsDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it for 15 s")
	}
	bin := buildCommand(t)
	wrapper := filepath.Join(t.TempDir(), "ulimit200")
	script := "#!/bin/sh\nulimit -n 200 || exit 97\nexec " + bin + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r := start(t, wrapper, "-smoke", "0", "-leak-fds", "3000")
	select {
	case <-r.exited:
		t.Fatalf("exited within 15 s at the descriptor limit: %v", r.err)
	case <-time.After(15 * time.Second):
	}
	var firstEMFILE, critical float64
	var evidence string
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		var l struct {
			Msg, Series, Cause, Error string
			AlertLevel                string  `json:"alert_level"`
			TS                        float64 `json:"ts"`
			Evidence                  json.RawMessage
		}
		if json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		switch {
		case firstEMFILE == 0 && strings.Contains(l.Error, "too many open files"):
			firstEMFILE = l.TS
		case l.Msg == "alert" && l.Series == "fds" && l.AlertLevel == "critical" && critical == 0:
			critical = l.TS
			if l.Cause != "limit" {
				t.Errorf("critical fds alert with cause %q, want limit: %s", l.Cause, line)
			}
		case l.Msg == "attribution" && l.Series == "fds" && evidence == "":
			evidence = string(l.Evidence)
		}
	}
	if firstEMFILE == 0 {
		t.Fatalf("the leak never reached the limit; stderr:\n%s", r.stderr.String())
	}
	if critical == 0 {
		t.Fatalf("no critical fds alert logged; stderr:\n%s", r.stderr.String())
	}
	// One sample a second: the sample that first shows the limit raises it. The bound leaves
	// room for a loaded machine's late ticks; the warm-up (5 min) or the window would be far
	// longer.
	if d := critical - firstEMFILE; d > 5 {
		t.Errorf("fds critical %.1f s after the limit was reached, want within a few samples", d)
	}
	if !strings.Contains(evidence, "logcapturer-leak-") || !strings.Contains(evidence, "leaked-*.log") {
		t.Errorf("the fds evidence does not name the leaked files' directory and pattern: %s", evidence)
	}
}
