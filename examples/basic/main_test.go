package main

import (
	"strings"
	"testing"
	"time"
)

// TestCatchesItsLeak runs the program with its goroutine leak (20 a second) for 12 s: the
// watchdog must raise goroutines to critical and the program must return without error.
func TestCatchesItsLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12 s")
	}
	var out strings.Builder
	if err := realMain(&out, true, 12*time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ALERT goroutines ") || !strings.Contains(out.String(), "-> critical") {
		t.Errorf("no critical goroutines alert in the output:\n%s", out.String())
	}
}
