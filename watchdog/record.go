package watchdog

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// recorder writes every sample as one CSV line ("t,series..."), t in seconds since the first
// sample, in the trace format that [Replay] reads. Files rotate at MaxBytes; MaxFiles are kept.
// A recording found at Path when the recorder starts (a restart) is kept as the newest older
// file, Path.1, as a rotation would (with MaxFiles 1 it is replaced).
// A write reuses one buffer: recording allocates nothing per tick.
type recorder struct {
	cfg    RecordConfig
	header []byte
	f      *os.File
	w      *bufio.Writer
	size   int64
	origin time.Time
	buf    []byte
}

// limitColumns are the series whose limit is recorded as a column NAME_limit after the series
// (the fds limit is the fd_limit series itself).
var limitColumns = []int{idxThreads, idxHeapBytes, idxRSSBytes, idxHeapLive}

func newRecorder(cfg RecordConfig, names []string) (*recorder, error) {
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 16 << 20
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = 4
	}
	r := &recorder{cfg: cfg, buf: make([]byte, 0, 64+24*len(names))}
	r.header = append(r.header, 't')
	for _, n := range names {
		r.header = append(r.header, ',')
		r.header = append(r.header, n...)
	}
	for _, i := range limitColumns {
		r.header = append(r.header, ',')
		r.header = append(r.header, names[i]+"_limit"...)
	}
	r.header = append(r.header, '\n')
	// A file already at Path is an earlier recording (of a process that restarted): it is
	// shifted to Path.1 as a rotation does, never truncated.
	if fi, err := os.Stat(cfg.Path); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && cfg.MaxFiles > 1 {
		if err := r.shift(); err != nil {
			return nil, err
		}
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *recorder) open() error {
	f, err := os.OpenFile(r.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("watchdog: record: %w", err)
	}
	r.f, r.w = f, bufio.NewWriterSize(f, 32<<10)
	n, err := r.w.Write(r.header)
	r.size = int64(n)
	return err
}

func (r *recorder) write(now time.Time, v, lim []float64) error {
	if r.origin.IsZero() {
		r.origin = now
	}
	b := strconv.AppendFloat(r.buf[:0], now.Sub(r.origin).Seconds(), 'f', -1, 64)
	for _, x := range v {
		b = appendCell(b, x)
	}
	for _, i := range limitColumns {
		b = appendCell(b, lim[i])
	}
	b = append(b, '\n')
	r.buf = b
	if r.size+int64(len(b)) > r.cfg.MaxBytes {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.w.Write(b)
	r.size += int64(n)
	if err != nil {
		return fmt.Errorf("watchdog: record: %w", err)
	}
	// Flush every line so that a crash loses nothing; the cost is one write(2) per tick.
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("watchdog: record: %w", err)
	}
	return nil
}

// rotate closes the current file, shifts Path.k to Path.k+1 (dropping the oldest beyond
// MaxFiles) and opens a new Path.
func (r *recorder) rotate() error {
	if err := r.close(); err != nil {
		return err
	}
	if r.cfg.MaxFiles > 1 {
		if err := r.shift(); err != nil {
			return err
		}
	}
	return r.open()
}

// shift moves Path.k to Path.k+1, dropping the oldest beyond MaxFiles, and Path to Path.1.
func (r *recorder) shift() error {
	os.Remove(fmt.Sprintf("%s.%d", r.cfg.Path, r.cfg.MaxFiles-1))
	for k := r.cfg.MaxFiles - 2; k >= 1; k-- {
		os.Rename(fmt.Sprintf("%s.%d", r.cfg.Path, k), fmt.Sprintf("%s.%d", r.cfg.Path, k+1))
	}
	if err := os.Rename(r.cfg.Path, r.cfg.Path+".1"); err != nil {
		return fmt.Errorf("watchdog: record: %w", err)
	}
	return nil
}

func (r *recorder) close() error {
	if r.f == nil {
		return nil
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f, r.w = nil, nil
	if err != nil {
		return fmt.Errorf("watchdog: record: %w", err)
	}
	return nil
}

func appendCell(b []byte, x float64) []byte {
	b = append(b, ',')
	if math.IsNaN(x) || math.IsInf(x, 0) { // no reading: Replay's unread sample
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, x, 'f', -1, 64)
}
