package watchdog

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// TestRecorderRotatesWithinBounds writes many samples with a small MaxBytes: no file grows past
// it, at most MaxFiles exist, and every file is a readable trace with the header.
func TestRecorderRotatesWithinBounds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.csv")
	cfg := RecordConfig{Path: path, MaxBytes: 4096, MaxFiles: 3}
	names := builtinSeries()
	r, err := newRecorder(cfg, names)
	if err != nil {
		t.Fatal(err)
	}
	v, lim := nanSlice(len(names)), nanSlice(len(names))
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 2000 {
		for j := range v {
			v[j] = float64(i * (j + 1))
		}
		if err := r.write(t0.Add(time.Duration(i)*time.Second), v, lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) != cfg.MaxFiles {
		t.Errorf("files = %v, want %d", files, cfg.MaxFiles)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) > cfg.MaxBytes {
			t.Errorf("%s is %d bytes, over MaxBytes %d", f, len(b), cfg.MaxBytes)
		}
		if !strings.HasPrefix(string(b), "t,goroutines,") {
			t.Errorf("%s lacks the header", f)
		}
		if err := Replay(strings.NewReader(string(b)), DefaultConfig(), func(Alert) {}); err != nil {
			t.Errorf("%s does not replay: %v", f, err)
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	// The newest file holds the last sample.
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "\n1999,") {
		t.Errorf("current file lacks the last sample (t=1999)")
	}
}

// TestRecordHoldsNoSlowSample: the slow series (runtime/metrics figures, RSS, FD limit) are read
// every slowPeriod and hold their value in between for the snapshot, but a recording holds
// only what was read: their cells are empty on the ticks in between, and full on the ticks
// that read them, while the goroutine count is in every row.
func TestRecordHoldsNoSlowSample(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rec.csv")
		c := fastConfig()
		c.Jitter = NoJitter // rows on the grid, so that the read rows are every slowEvery
		c.Attribution.Disabled = true
		c.Record = RecordConfig{Path: path, MaxBytes: 1 << 20, MaxFiles: 1}
		w, err := Start(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(12 * time.Second)
		synctest.Wait()
		held, _ := w.Snapshot().Lookup(SeriesHeapBytes)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(held.Value) || held.Value <= 0 {
			t.Errorf("snapshot heap_bytes = %v, want the held reading", held.Value)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tr, err := trend.ReadCSV(f)
		if err != nil {
			t.Fatal(err)
		}
		every := int(slowPeriod / c.Interval)
		gor, _ := traceColumn(tr, SeriesGoroutines)
		for _, name := range []string{SeriesHeapBytes, SeriesThreads, SeriesGoroutinesCreated} {
			col, ok := traceColumn(tr, name)
			if !ok {
				t.Fatalf("recording lacks %s", name)
			}
			read := 0
			for k, x := range col {
				if math.IsNaN(gor[k]) {
					t.Fatalf("row %d: goroutines unread", k)
				}
				if got, want := !math.IsNaN(x), k%every == 0 && runtimeReads(name); got != want {
					t.Errorf("%s row %d (t=%vs): read = %v, want %v (read every %d rows)", name, k, tr.T[k], got, want, every)
				} else if got {
					read++
				}
			}
			if !runtimeReads(name) {
				continue // checked above: unread on every row
			}
			if rows := len(col); read != (rows+every-1)/every || read < 2 {
				t.Errorf("%s read on %d of %d rows, want every %d", name, read, rows, every)
			}
		}
	})
}

// TestGaugeNameReservedForRecording: a gauge named like a recording's time or limit column
// would make the recording unreplayable (threads_limit twice) or replay it as a limit
// (conn_limit as the limit of conn). Start rejects the name.
func TestGaugeNameReservedForRecording(t *testing.T) {
	for _, name := range []string{"threads_limit", "heap_bytes_limit", "conn_limit", "t"} {
		c := DefaultConfig()
		c.Record.Path = filepath.Join(t.TempDir(), "rec.csv")
		w, err := Start(t.Context(), c, WithGauge(name, func() float64 { return 1 }))
		if err == nil {
			w.Stop()
			t.Errorf("Start with gauge %q = nil error, want it rejected", name)
			continue
		}
		if !strings.Contains(err.Error(), `gauge "`+name+`"`) || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("Start with gauge %q: %v, want the name and why", name, err)
		}
	}
	// Names that only contain "limit" or "t" are fine.
	for _, name := range []string{"limit", "limits", "tt", "limit_total"} {
		w, err := Start(t.Context(), DefaultConfig(), WithGauge(name, func() float64 { return 1 }))
		if err != nil {
			t.Errorf("Start with gauge %q: %v", name, err)
			continue
		}
		w.Stop()
	}
}

// TestRecordKeptAcrossRestart: a second watchdog recording to the same Path (a restart) keeps
// the first one's recording, shifted to Path.1 as a rotation does, instead of truncating it.
func TestRecordKeptAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.csv")
	cfg := RecordConfig{Path: path, MaxBytes: 1 << 20, MaxFiles: 3}
	names := builtinSeries()
	v, lim := nanSlice(len(names)), nanSlice(len(names))
	t0 := time.Unix(1_700_000_000, 0)
	for run := range 4 {
		r, err := newRecorder(cfg, names)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			v[0] = float64(100*run + i)
			if err := r.write(t0.Add(time.Duration(i)*time.Second), v, lim); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.close(); err != nil {
			t.Fatal(err)
		}
	}
	// Runs 3, 2 and 1 are kept (MaxFiles 3), the newest in Path.
	for k, want := range map[string]string{path: "\n2,302,", path + ".1": "\n2,202,", path + ".2": "\n2,102,"} {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "t,goroutines,") || !strings.Contains(string(b), want) {
			t.Errorf("%s = %q, want the header and %q", k, b, want)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("%s.3 exists: more than MaxFiles kept", path)
	}
}

// TestRecordMaxFilesBounded: a huge Record.MaxFiles (here up to math.MaxInt) would make each rotation (and the shift
// of an earlier recording at Start) loop over that many names on the sampling goroutine; it
// is rejected by Validate, with the field named.
func TestRecordMaxFilesBounded(t *testing.T) {
	for _, n := range []int{maxRecordFiles + 1, math.MaxInt} {
		c := DefaultConfig()
		c.Record = RecordConfig{Path: filepath.Join(t.TempDir(), "rec.csv"), MaxFiles: n}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Record.MaxFiles") {
			t.Errorf("Validate with Record.MaxFiles %d = %v, want it named", n, err)
		}
	}
	c := DefaultConfig()
	c.Record = RecordConfig{Path: filepath.Join(t.TempDir(), "rec.csv"), MaxFiles: maxRecordFiles}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate with Record.MaxFiles %d: %v", maxRecordFiles, err)
	}
}
