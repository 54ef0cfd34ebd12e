package watchdog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errLockHeld is returned by tryLock when another process holds the lock.
var errLockHeld = errors.New("locked by another process")

// smokeLock is the lock file beside a state file (<StateFile>.lock): the process that holds it
// owns the state file, so two processes pointed at one state file never take over each
// other's run. It holds the holder's PID, for the other's note. The lock is the operating
// system's (flock on Unix, LockFileEx on Windows): it ends with its descriptor, also when the
// process dies.
type smokeLock struct {
	path string
	f    *os.File
}

// lockStateFile takes the lock of the state file path. It fails with a note: the directory
// does not exist or cannot be written, or another process holds the lock (named by its PID
// when known).
func lockStateFile(path string) (*smokeLock, string) {
	lp := path + ".lock"
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		why := "does not exist"
		if err == nil {
			why = "is not a directory"
		} else if !errors.Is(err, fs.ErrNotExist) {
			why = "cannot be read: " + err.Error()
		}
		return nil, fmt.Sprintf("smoke state file %s not used: its directory %s %s", path, dir, why)
	}
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Sprintf("smoke state file %s not used: its lock file cannot be opened (%v)", path, err)
	}
	if err := tryLock(f); err != nil {
		owner := ""
		if b, rerr := os.ReadFile(lp); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				owner = fmt.Sprintf(" (PID %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errLockHeld) {
			return nil, fmt.Sprintf("smoke state file %s not used: another process%s owns it and its run; that run is left alone", path, owner)
		}
		return nil, fmt.Sprintf("smoke state file %s not used: its lock file cannot be locked (%v)", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &smokeLock{path: path, f: f}, ""
}

// release unlocks and closes the lock file (which stays, empty: removing it would race with a
// process taking it).
func (l *smokeLock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	l.f.Close() // closing the descriptor releases the lock
	l.f = nil
}
