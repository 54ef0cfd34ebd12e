//go:build unix

package attribution

import (
	"fmt"
	"syscall"
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
