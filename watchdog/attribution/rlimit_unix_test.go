//go:build unix

package attribution

import (
	"fmt"
	"syscall"
	"time"
)

// raiseNoFile raises RLIMIT_NOFILE's soft limit to the hard one if it is
// below need; restore puts the old limit back.
func raiseNoFile(need uint64) (restore func(), err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil, err
	}
	saved := lim
	restore = func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved) }
	if lim.Cur >= need {
		return restore, nil
	}
	if lim.Max < need {
		return nil, fmt.Errorf("RLIMIT_NOFILE hard limit %d < %d", lim.Max, need)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil, err
	}
	return restore, nil
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
