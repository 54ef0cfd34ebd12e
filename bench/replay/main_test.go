package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestReplayPrintsLevelChanges runs a public trace (a copy under internal/trend/testdata) and
// checks the scorer's contract: one JSON object a line with t, series, level and rate_per_min,
// every series starting at ok, levels among ok/notice/warning/critical, times in order.
func TestReplayPrintsLevelChanges(t *testing.T) {
	f, err := os.Open("../../watchdog/testdata/detection/traces/leak-gor-25.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if err := run(f, &out); err != nil {
		t.Fatal(err)
	}
	levels := map[string]bool{"ok": true, "notice": true, "warning": true, "critical": true}
	prevT := -1.0
	reached := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"t", "series", "level", "rate_per_min"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("line %q lacks %q", sc.Text(), k)
			}
		}
		tm, _ := ev["t"].(float64)
		lv, _ := ev["level"].(string)
		series, _ := ev["series"].(string)
		if !levels[lv] || tm < prevT {
			t.Errorf("line %q: bad level or time out of order", sc.Text())
		}
		prevT = tm
		reached[series] = lv
	}
	if reached["goroutines"] != "warning" {
		t.Errorf("goroutines ended at %q, want warning (a 25/min leak)", reached["goroutines"])
	}
	if _, ok := reached["fds"]; ok {
		t.Errorf("fds changed level on a trace where they do not leak")
	}
}

func TestReplayBadTrace(t *testing.T) {
	var out bytes.Buffer
	err := run(strings.NewReader("t,goroutines\n0,1\n10,x\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("run(bad) = %v, want an error naming line 3", err)
	}
}
