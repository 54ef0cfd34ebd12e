//go:build !unix

package bench

import (
	"errors"
	"time"
)

// processCPU is not implemented here: getrusage is a Unix call.
func processCPU() (time.Duration, error) {
	return 0, errors.New("getrusage: not on this system")
}
