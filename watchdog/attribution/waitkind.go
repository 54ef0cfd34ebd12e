package attribution

import "strings"

// WaitKind says what a goroutine group is blocked on, derived from the
// frames of its stack (the goroutine profile carries no wait reason).
// The zero value is [WaitUnknown].
type WaitKind int

// Wait kinds, from the innermost recognised frame of a stack.
const (
	// WaitUnknown: no recognised blocking frame (runnable, or parked by
	// a runtime mechanism this package does not name).
	WaitUnknown WaitKind = iota
	// WaitChanSend: blocked in runtime.chansend (a send on a channel).
	WaitChanSend
	// WaitChanReceive: blocked in runtime.chanrecv (a receive or range).
	WaitChanReceive
	// WaitSelect: blocked in runtime.selectgo, or select{} with no cases.
	WaitSelect
	// WaitSync: blocked on a sync.Mutex, RWMutex, WaitGroup, Cond or a
	// semaphore of the runtime.
	WaitSync
	// WaitIO: parked in the network poller (socket or pipe read/write,
	// accept, connect).
	WaitIO
	// WaitSleep: in time.Sleep.
	WaitSleep
	// WaitSyscall: in a system call or cgo call.
	WaitSyscall
	// WaitRunning: the goroutine taking the profile.
	WaitRunning
)

var waitNames = [...]string{
	WaitUnknown:     "unknown",
	WaitChanSend:    "chan send",
	WaitChanReceive: "chan receive",
	WaitSelect:      "select",
	WaitSync:        "sync",
	WaitIO:          "IO wait",
	WaitSleep:       "sleep",
	WaitSyscall:     "syscall",
	WaitRunning:     "running",
}

// String returns the kind as written in reports: "chan send",
// "chan receive", "select", "sync", "IO wait", "sleep", "syscall",
// "running" or "unknown".
func (k WaitKind) String() string {
	if k < 0 || int(k) >= len(waitNames) {
		return "unknown"
	}
	return waitNames[k]
}

// MarshalText encodes the kind as its [WaitKind.String] form, so JSON
// reports read "chan send" rather than a number.
func (k WaitKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes the [WaitKind.String] form; unknown text decodes
// to [WaitUnknown].
func (k *WaitKind) UnmarshalText(b []byte) error {
	*k = WaitUnknown
	for i, n := range waitNames {
		if n == string(b) {
			*k = WaitKind(i)
		}
	}
	return nil
}

// waitKindOf derives the wait kind from function names, innermost first.
// The first recognised frame wins.
func waitKindOf(funcs []string) WaitKind {
	for _, f := range funcs {
		if k, ok := waitKindOfFunc(f); ok {
			return k
		}
	}
	return WaitUnknown
}

func waitKindOfFunc(f string) (WaitKind, bool) {
	switch f {
	case "runtime.chansend", "runtime.chansend1":
		return WaitChanSend, true
	case "runtime.chanrecv", "runtime.chanrecv1", "runtime.chanrecv2":
		return WaitChanReceive, true
	case "runtime.selectgo", "runtime.block":
		return WaitSelect, true
	case "runtime.netpollblock", "internal/poll.runtime_pollWait":
		return WaitIO, true
	case "time.Sleep":
		return WaitSleep, true
	case "runtime.goroutineProfileWithLabels", "runtime.goroutineProfileWithLabelsConcurrent",
		"runtime.GoroutineProfile":
		return WaitRunning, true
	case "runtime.cgocall":
		return WaitSyscall, true
	}
	switch {
	case strings.HasPrefix(f, "runtime.semacquire"),
		strings.HasPrefix(f, "runtime.notifyListWait"),
		strings.HasPrefix(f, "sync.runtime_"),
		strings.HasPrefix(f, "internal/sync.runtime_"):
		return WaitSync, true
	case strings.HasPrefix(f, "syscall.Syscall"),
		strings.HasPrefix(f, "syscall.RawSyscall"),
		strings.HasPrefix(f, "syscall.syscall"),
		strings.HasPrefix(f, "internal/runtime/syscall."),
		strings.HasPrefix(f, "golang.org/x/sys/unix.Syscall"):
		return WaitSyscall, true
	}
	return WaitUnknown, false
}
