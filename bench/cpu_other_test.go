//go:build !unix

package bench

import (
	"errors"
	"time"
)

// processCPU fails on systems without getrusage (a Unix call): the CPU measurements skip there.
func processCPU() (time.Duration, error) {
	return 0, errors.New("getrusage: not on this system")
}
