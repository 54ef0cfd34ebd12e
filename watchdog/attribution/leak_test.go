package attribution

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves goroutines behind, except the ones
// TestLeakProfileProvesLeak, TestLeakProfileProtoMatchesText and
// BenchmarkLeakProfile leak on purpose (only under
// GOEXPERIMENT=goroutineleakprofile): a goroutine the runtime proves
// leaked can, by definition, never be released.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/leakwatch/leakwatch/watchdog/attribution.sendUnreachable.func1"),
		goleak.IgnoreTopFunction("github.com/leakwatch/leakwatch/watchdog/attribution.leakAtDepth"))
}
