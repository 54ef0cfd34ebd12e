//go:build unix

package attribution

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the user and system CPU time the process has used
// (getrusage RUSAGE_SELF), and whether the platform tells it.
func processCPU() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
