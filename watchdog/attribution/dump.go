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
)

// Dump limits used when a [Dumper]'s fields are zero.
const (
	DefaultDumpFiles = 30       // files kept in the directory
	DefaultDumpBytes = 64 << 20 // bytes kept in the directory
)

// dumpPrefix starts every file a Dumper writes; pruning only touches
// files with this prefix.
const dumpPrefix = "leakwatch-"

// ErrNoDumpDir is returned by [Dumper.Dump] when Dir is empty.
var ErrNoDumpDir = errors.New("attribution: dump directory not set")

// ErrDumpTooLarge is returned by [Dumper.Dump] when one dump alone exceeds
// MaxBytes; its files are removed again.
var ErrDumpTooLarge = errors.New("attribution: dump larger than MaxBytes")

// Dumper writes snapshots to files in one directory, bounded in count and
// bytes, removing the oldest first. File names are generated from the
// snapshot time, the process id and a sequence number: nothing from a
// request reaches the filesystem. Files are created with mode 0600 and the
// directory (if created) with 0700. The zero value needs Dir set; a
// Dumper is safe for concurrent use and must not be copied after first
// use.
type Dumper struct {
	// Dir is the directory to write to, created if missing. Required.
	Dir string `json:"dir"`
	// MaxFiles bounds the number of dump files kept in Dir; 0 means
	// [DefaultDumpFiles].
	MaxFiles int `json:"max_files"`
	// MaxBytes bounds their total size in bytes; 0 means
	// [DefaultDumpBytes].
	MaxBytes int64 `json:"max_bytes"`

	mu  sync.Mutex
	seq uint64
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
	d.seq++
	stem := fmt.Sprintf("%s%s-%d-%04d", dumpPrefix, s.Time.UTC().Format("20060102T150405.000000Z"), os.Getpid(), d.seq)
	var written []string
	write := func(suffix string, fn func(io.Writer) error) error {
		name := filepath.Join(d.Dir, stem+suffix)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("attribution: dump: %w", err)
		}
		written = append(written, name)
		err = fn(f)
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

// prune removes the oldest dump files (by name: the names sort by time)
// until the limits hold. If the newest dump alone is over MaxBytes it is
// removed too and ErrDumpTooLarge returned.
func (d *Dumper) prune(newest string) error {
	maxFiles, maxBytes := d.MaxFiles, d.MaxBytes
	if maxFiles <= 0 {
		maxFiles = DefaultDumpFiles
	}
	if maxBytes <= 0 {
		maxBytes = DefaultDumpBytes
	}
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return fmt.Errorf("attribution: dump prune: %w", err)
	}
	type file struct {
		name string
		size int64
	}
	var files []file
	var total int64
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), dumpPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, file{e.Name(), info.Size()})
		total += info.Size()
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	var errs []error
	tooLarge := false
	for len(files) > 0 && (len(files) > maxFiles || total > maxBytes) {
		f := files[0]
		if strings.HasPrefix(f.name, newest) {
			tooLarge = total > maxBytes
			if !tooLarge {
				break // over the file count only because of this dump
			}
		}
		if err := os.Remove(filepath.Join(d.Dir, f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		files = files[1:]
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
