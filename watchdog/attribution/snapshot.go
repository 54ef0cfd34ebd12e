package attribution

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"
)

// DefaultMaxGoroutines is the goroutine ceiling used when
// [Options.MaxGoroutines] is 0.
const DefaultMaxGoroutines = 100_000

// DefaultTop is the number of entries per list in a [Report] when
// [Options.Top] is 0.
const DefaultTop = 10

// Options says what [Take] collects. The zero value collects goroutines
// only, up to [DefaultMaxGoroutines], without the leak profile, from /proc.
type Options struct {
	// ProcRoot is the procfs mount point; "" means "/proc". Tests point it
	// at fixture trees. The descriptor table is read from
	// ProcRoot/self/fd and ProcRoot/self/net/*.
	ProcRoot string `json:"proc_root"`
	// MaxGoroutines is the ceiling above which goroutines are not grouped
	// (the profile costs O(goroutines) time and 256 bytes per goroutine);
	// the snapshot then says so in its notes. 0 means
	// [DefaultMaxGoroutines]; negative means no goroutine profile at all.
	MaxGoroutines int `json:"max_goroutines"`
	// LeakProfile collects the goroutineleak profile where the runtime
	// offers it (see [LeakProfileAvailable]), marking the groups it proves
	// leaked. It runs a full garbage collection: the caller should ask
	// for it once per alert episode, not on every snapshot.
	LeakProfile bool `json:"leak_profile"`
	// FDs reads and classifies the open file descriptors (Linux; on other
	// systems, only where ProcRoot names a procfs-like tree).
	FDs bool `json:"fds"`
	// Top is the number of entries per list in reports diffed from this
	// snapshot; 0 means [DefaultTop].
	Top int `json:"top"`
	// FDDir, when set, is an open ProcRoot/self/fd directory that Take
	// lists (from its start) instead of opening one: with it, descriptors
	// are still classified when the process has none left to open. Nothing
	// else may use it while Take runs. Take does not close it.
	FDDir *os.File `json:"-"`
	// Net, when set, holds the sock_diag socket and the sockstat file the
	// socket tables are read with (see [NetHandles]): with it and FDDir,
	// sockets are still identified and TIME_WAIT counted when the process
	// has no descriptor left to open. Take does not close it.
	Net *NetHandles `json:"-"`
	// Overlap reads the descriptors on a second goroutine while this one
	// takes the goroutine profile (when both are asked for and GOMAXPROCS
	// is above 1). The wall time falls to about the longer of the two
	// parts, for about the same CPU time, but the profile's and the
	// collector's stop-the-world pauses then have a running goroutine to
	// stop, so pauses over 1 ms are more frequent. Off by default; see the
	// package's Cost section, and bench/README.md for the figures.
	Overlap bool `json:"overlap"`
}

// DefaultOptions returns the options the watchdog uses on an alert:
// goroutines, descriptors, no leak profile (the caller turns it on for the
// first alert of an episode).
func DefaultOptions() Options {
	return Options{FDs: true}
}

func (o Options) withDefaults() Options {
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.MaxGoroutines == 0 {
		o.MaxGoroutines = DefaultMaxGoroutines
	}
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	return o
}

// Snapshot is the process's goroutines and descriptors at one moment. A
// Snapshot is immutable once returned and safe for concurrent reads.
type Snapshot struct {
	// Time is when the snapshot started.
	Time time.Time `json:"time"`
	// Goroutines is runtime.NumGoroutine() at the start.
	Goroutines int `json:"goroutines"`
	// Grouped reports whether the goroutines were grouped (false when
	// over the ceiling or disabled).
	Grouped bool `json:"grouped"`
	// Groups are the goroutines grouped by stack, largest first.
	Groups []Group `json:"groups"`
	// LeakProfile reports whether the goroutineleak profile was collected.
	LeakProfile bool `json:"leak_profile"`
	// Leaked is the total of goroutines the leak profile proves leaked.
	Leaked int `json:"leaked"`
	// FDs is the descriptor table; nil when not collected.
	FDs *FDTable `json:"fds,omitempty"`
	// Notes say what was skipped or failed, in plain words.
	Notes []string `json:"notes,omitempty"`
	// Cost is what the snapshot cost.
	Cost Cost `json:"cost"`
	// Top is [Options.Top] as applied.
	Top int `json:"top"`
}

// ErrNothing is returned by [Take] when the options disable every part.
var ErrNothing = errors.New("attribution: nothing to collect")

// Take collects a snapshot of the calling process. Parts that fail (an
// unreadable /proc, a goroutine count over the ceiling) are skipped and
// named in [Snapshot.Notes]. Take returns an error only when nothing could
// be collected: [ErrNothing] when the options ask for nothing, else the
// first cause; the (empty) snapshot with its notes comes back with it.
// Safe for concurrent use, though concurrent snapshots add up their cost.
func Take(opts Options) (*Snapshot, error) {
	opts = opts.withDefaults()
	if opts.MaxGoroutines < 0 && !opts.FDs && !opts.LeakProfile {
		return nil, ErrNothing
	}
	pm := startPauses()
	start := time.Now()
	s := &Snapshot{Time: start, Goroutines: runtime.NumGoroutine(), Top: opts.Top}
	var firstErr error
	collected := false

	var (
		fds     *fdResult
		fdsDone chan struct{}
	)
	if opts.Overlap && opts.FDs && opts.MaxGoroutines >= 0 && s.Goroutines <= opts.MaxGoroutines && runtime.GOMAXPROCS(0) > 1 {
		fds, fdsDone = new(fdResult), make(chan struct{})
		started := make(chan struct{})
		go takeFDsAside(opts, fds, started, fdsDone)
		// A goroutine not yet started has no stack in the profile but
		// runtime.goexit, which would not tell it from the host's.
		<-started
	}

	switch {
	case opts.MaxGoroutines < 0:
		s.note("goroutine profile disabled")
	case s.Goroutines > opts.MaxGoroutines:
		s.note(fmt.Sprintf("goroutines not grouped: %d over the ceiling of %d (Options.MaxGoroutines)",
			s.Goroutines, opts.MaxGoroutines))
	default:
		t0 := time.Now()
		recs := goroutineRecords()
		s.Cost.ProfileCall = time.Since(t0)
		s.Groups = groupRecords(recs)
		s.Grouped = true
		collected = true
		s.Cost.Goroutines = time.Since(t0)
	}

	if opts.LeakProfile {
		t0 := time.Now()
		leaks, ok, err := collectLeakProfile()
		s.Cost.LeakProfile = time.Since(t0)
		switch {
		case !ok:
			s.note("goroutineleak profile unavailable: needs Go 1.27, or Go 1.26 built with GOEXPERIMENT=goroutineleakprofile")
		case err != nil:
			s.note(err.Error())
			firstErr = cmpErr(firstErr, err)
		default:
			s.LeakProfile = true
			s.Groups, s.Leaked = markLeaked(s.Groups, leaks)
			sortGroups(s.Groups)
			collected = true
		}
	}

	if opts.FDs {
		if fds == nil {
			fds = new(fdResult)
			fds.take(opts, false)
		} else {
			<-fdsDone
		}
		for _, n := range fds.notes {
			s.note(n)
		}
		if fds.err != nil {
			firstErr = cmpErr(firstErr, fds.err)
		} else if fds.table != nil {
			s.FDs = fds.table
			collected = true
		}
		s.Cost.FDs = fds.cost
	}

	s.Cost.Total = time.Since(start)
	s.Cost.Pauses, s.Cost.MaxPause = pm.stop()
	if !collected {
		if firstErr == nil {
			firstErr = ErrNothing
		}
		return s, firstErr
	}
	return s, nil
}

func (s *Snapshot) note(n string) { s.Notes = append(s.Notes, n) }

// fdResult is the descriptor part of a snapshot.
type fdResult struct {
	table *FDTable
	notes []string // the error's first, if any
	err   error
	cost  time.Duration
}

// take reads the descriptor table as opts say; aside tells it runs on its
// own goroutine (Options.Overlap). A panic in it becomes the part's error:
// on its own goroutine it would end the host process.
func (r *fdResult) take(opts Options, aside bool) {
	t0 := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.table, r.err = nil, fmt.Errorf("attribution: reading the descriptors panicked: %v", p)
			r.notes = append([]string{r.err.Error()}, r.notes...)
		}
		r.cost = time.Since(t0)
	}()
	if testHookFDs != nil {
		testHookFDs(aside)
	}
	if !fdsSupported && opts.ProcRoot == "/proc" {
		r.notes = []string{"file descriptors not read: no /proc on " + runtime.GOOS}
		return
	}
	var notes []string
	r.table, notes, r.err = readFDTable(opts.ProcRoot, fdsSupported && opts.ProcRoot == "/proc", opts.FDDir, opts.Net)
	if r.err != nil {
		r.notes = append(r.notes, r.err.Error())
	}
	r.notes = append(r.notes, notes...)
}

// takeFDsAside reads the descriptors while Take profiles the goroutines
// (Options.Overlap). The groups leave its goroutine out (asideFunc), as
// its stack differs from one snapshot to the next.
func takeFDsAside(opts Options, r *fdResult, started, done chan<- struct{}) {
	defer close(done)
	close(started)
	r.take(opts, true)
}

// testHookFDs, when a test sets it, runs first in fdResult.take.
var testHookFDs func(aside bool)

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// Counts returns the snapshot reduced to what [Diff] reads of a baseline:
// the totals, each goroutine group's key, count, leaked count, wait kind and
// top frame (no other frames), and the descriptor classes and TCP states
// without the per-descriptor entries. It is what a long-lived baseline
// should keep: its size grows with the number of distinct stacks and
// classes, not with the number of goroutines or descriptors.
func (s *Snapshot) Counts() *Snapshot {
	c := *s
	c.Groups = make([]Group, len(s.Groups))
	for i, g := range s.Groups {
		g.Frames = nil
		c.Groups[i] = g
	}
	if s.FDs != nil {
		t := *s.FDs
		t.Entries = nil
		c.FDs = &t
	}
	c.Notes = slices.Clone(s.Notes)
	return &c
}
