//go:build !unix

package attribution

import "time"

// raiseNoFile has nothing to raise here.
func raiseNoFile(uint64) (func(), error) { return func() {}, nil }

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
