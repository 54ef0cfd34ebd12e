package watchdog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("hostile writer") }

// TestSmokeOutputPanicRecovered: a WithSmokeOutput writer that panics loses its lines (logged);
// the process lives on and the state file is still written.
func TestSmokeOutputPanicRecovered(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	s := startSmokeIO(panicWriter{}, zap.New(core))
	path := filepath.Join(t.TempDir(), "state.json")
	s.output("line one")
	s.state(path, []byte("{}\n"))
	s.output("line two")
	if !s.stop(time.Minute) {
		t.Fatal("smoke writer goroutine did not end")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}\n" {
		t.Fatalf("state file = %q, %v; want it written", b, err)
	}
	if n := logs.FilterMessage("smoke output writer panicked; its lines are lost").Len(); n == 0 {
		t.Fatal("the writer's panic was not logged")
	}
}
