package attribution

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Dump limits used when a [Dumper]'s fields are zero.
const (
	DefaultDumpFiles = 20       // files of a Dumper's own kept in the directory
	DefaultDumpBytes = 64 << 20 // bytes of a Dumper's own kept in the directory
)

// dumpPrefix starts every file a Dumper writes.
const dumpPrefix = "leakwatch-"

// ErrNoDumpDir is returned by [Dumper.Dump] when Dir is empty.
var ErrNoDumpDir = errors.New("attribution: dump directory not set")

// ErrDumpTooLarge is returned by [Dumper.Dump] when one dump alone exceeds
// MaxBytes; its files are removed again.
var ErrDumpTooLarge = errors.New("attribution: dump larger than MaxBytes")

// Dumper writes snapshots to files in one directory, bounded in count and
// bytes, removing the oldest first. It removes only files it wrote itself:
// another process's dumps in a shared directory, an earlier run's, and any
// other file are never touched (so the bounds hold for this Dumper's files,
// not for the directory). File names are generated from the snapshot time,
// the process id and a sequence number of the process: nothing from a request reaches the
// filesystem. Files are created with mode 0600 and the directory (if
// created) with 0700. The zero value needs Dir set; a Dumper is safe for
// concurrent use and must not be copied after first use.
//
// A Dumper that holds a reserve descriptor ([Dumper.Reserve]) still writes
// its dump when the process has run out of descriptors (EMFILE): it gives
// the reserve up for the dump's files, one open at a time, and takes it
// back afterwards.
type Dumper struct {
	// Dir is the directory to write to, created if missing. Required.
	Dir string `json:"dir"`
	// MaxFiles bounds the number of dump files kept in Dir; 0 means
	// [DefaultDumpFiles].
	MaxFiles int `json:"max_files"`
	// MaxBytes bounds their total size in bytes; 0 means
	// [DefaultDumpBytes].
	MaxBytes int64 `json:"max_bytes"`

	mu      sync.Mutex
	own     []dumpFile // the files this Dumper wrote and has not removed, oldest first
	reserve *os.File   // see Reserve
}

// dumpSeq numbers the dumps of the process, so that two Dumpers of one
// process sharing a directory never pick the same name.
var dumpSeq atomic.Uint64

type dumpFile struct {
	name string // base name in Dir
	size int64
}

// Reserve opens a spare descriptor (on the null device) that [Dumper.Dump]
// closes when a file cannot be created for want of descriptors (EMFILE or
// ENFILE), and opens again once the dump is written. Another goroutine of
// the process may take the freed slot first; the dump then fails as
// without a reserve, and says so. Call [Dumper.Close] to release it.
// Calling Reserve again while a reserve is held does nothing.
func (d *Dumper) Reserve() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reserve != nil {
		return nil
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("attribution: dump reserve: %w", err)
	}
	d.reserve = f
	return nil
}

// Close releases the reserve descriptor, if any. The Dumper can still be
// used afterwards, without a reserve.
func (d *Dumper) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reserve == nil {
		return nil
	}
	err := d.reserve.Close()
	d.reserve = nil
	return err
}

// ErrNoDescriptors is wrapped by the error of a [Dumper.Dump] that could
// not create its files because the process (EMFILE) or the system (ENFILE)
// has no descriptor left.
var ErrNoDescriptors = errors.New("no file descriptor left to write the dump")

// isNoFDs uses syscall's errno values: this file builds on every system, x/sys/unix does not.
func isNoFDs(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// Dump writes, for one alert:
//
//   - <stem>-goroutine.pb.gz: a goroutine profile taken now, in pprof's
//     protocol buffer format (read it with `go tool pprof`); a second
//     profile, since a [Snapshot] keeps stacks, not a pprof file;
//   - <stem>-fds.txt: the snapshot's descriptor table, when it has one;
//   - <stem>-report.md: the report, when r is not nil.
//
// It then removes the oldest dump files until MaxFiles and MaxBytes hold,
// and returns the paths written. On error, files already written stay and
// are returned with it.
func (d *Dumper) Dump(s *Snapshot, r *Report) ([]string, error) {
	if d.Dir == "" {
		return nil, ErrNoDumpDir
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("attribution: dump: %w", err)
	}
	stem := fmt.Sprintf("%s%s-%d-%04d", dumpPrefix, s.Time.UTC().Format("20060102T150405.000000Z"), os.Getpid(), dumpSeq.Add(1))
	var written []string
	usedReserve := false
	defer func() {
		if usedReserve && d.reserve == nil {
			d.reserve, _ = os.Open(os.DevNull) // nil if the slot was taken meanwhile
		}
	}()
	write := func(suffix string, fn func(io.Writer) error) error {
		name := filepath.Join(d.Dir, stem+suffix)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && isNoFDs(err) && d.reserve != nil {
			d.reserve.Close()
			d.reserve, usedReserve = nil, true
			f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
		if err != nil {
			if isNoFDs(err) {
				return fmt.Errorf("attribution: dump: %w: %w", ErrNoDescriptors, err)
			}
			return fmt.Errorf("attribution: dump: %w", err)
		}
		written = append(written, name)
		err = fn(f)
		var size int64
		if info, serr := f.Stat(); serr == nil {
			size = info.Size()
		}
		d.own = append(d.own, dumpFile{filepath.Base(name), size})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("attribution: dump %s: %w", filepath.Base(name), err)
		}
		return nil
	}
	err := write("-goroutine.pb.gz", func(w io.Writer) error {
		return pprof.Lookup("goroutine").WriteTo(w, 0)
	})
	if err == nil && s.FDs != nil {
		err = write("-fds.txt", s.FDs.WriteText)
	}
	if err == nil && r != nil {
		err = write("-report.md", r.WriteText)
	}
	if err != nil {
		return written, err
	}
	return written, d.prune(stem)
}

// prune removes the oldest of this Dumper's own files (by name: the names
// sort by time) until the limits hold. If the newest dump alone is over
// MaxBytes it is removed too and ErrDumpTooLarge returned. Files removed by
// someone else are forgotten.
func (d *Dumper) prune(newest string) error {
	maxFiles, maxBytes := d.MaxFiles, d.MaxBytes
	if maxFiles <= 0 {
		maxFiles = DefaultDumpFiles
	}
	if maxBytes <= 0 {
		maxBytes = DefaultDumpBytes
	}
	slices.SortFunc(d.own, func(a, b dumpFile) int { return strings.Compare(a.name, b.name) })
	var total int64
	for _, f := range d.own {
		total += f.size
	}
	var errs []error
	tooLarge := false
	for len(d.own) > 0 && (len(d.own) > maxFiles || total > maxBytes) {
		f := d.own[0]
		if strings.HasPrefix(f.name, newest) {
			tooLarge = total > maxBytes
			if !tooLarge {
				break // over the file count only because of this dump
			}
		}
		if err := os.Remove(filepath.Join(d.Dir, f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		d.own = d.own[1:]
		total -= f.size
	}
	if tooLarge {
		errs = append(errs, ErrDumpTooLarge)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("attribution: dump prune: %w", err)
	}
	return nil
}
