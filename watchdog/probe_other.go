//go:build !linux

package watchdog

import (
	"errors"
	"math"
	"runtime"
)

// errUnsupported is the error of the process probes (fds, fd_limit, rss_bytes) on systems
// other than Linux.
var errUnsupported = errors.New("watchdog: unsupported on " + runtime.GOOS)

type osProbe struct{ memLimit float64 }

func newOSProbe(string) *osProbe             { return &osProbe{} }
func (p *osProbe) close()                    {}
func (p *osProbe) supported() bool           { return false }
func (p *osProbe) fds() (float64, error)     { return math.NaN(), errUnsupported }
func (p *osProbe) fdLimit() (float64, error) { return math.NaN(), errUnsupported }
func (p *osProbe) rss() (float64, error)     { return math.NaN(), errUnsupported }

var errUnsupportedOS = errUnsupported
