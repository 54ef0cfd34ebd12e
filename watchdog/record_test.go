package watchdog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
