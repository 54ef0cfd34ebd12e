package attribution

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDumper(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dumps")
	s := take(t, DefaultOptions())
	r := Diff(nil, s)
	d := &Dumper{Dir: dir, MaxFiles: 7}
	var all [][]string
	for i := range 4 {
		s2 := *s
		s2.Time = time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
		paths, err := d.Dump(&s2, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := 2 + btoi(fdsSupported); len(paths) != want {
			t.Fatalf("dump %d wrote %d files, want %d: %q", i, len(paths), want, paths)
		}
		all = append(all, paths)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v; want 0700", info.Mode().Perm(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) > 7 {
		t.Errorf("%d files kept, want <= 7", len(ents))
	}
	// The newest dump is complete; the oldest is gone.
	for _, p := range all[3] {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("newest dump file: %v", err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, info.Mode().Perm())
		}
	}
	if _, err := os.Stat(all[0][0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("oldest dump still there: %v", err)
	}
	// The goroutine profile is a gzipped pprof protocol buffer.
	b, err := os.ReadFile(all[3][0])
	if err != nil || !strings.HasSuffix(all[3][0], "-goroutine.pb.gz") {
		t.Fatalf("%s: %v", all[3][0], err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("profile not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(raw, []byte("goroutine")) {
		t.Errorf("profile body: %d bytes, %v", len(raw), err)
	}
	// Files are named by time, pid and sequence only.
	if base := filepath.Base(all[3][0]); !strings.HasPrefix(base, "leakwatch-20260101T000003.000000Z-") {
		t.Errorf("name %q", base)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDumperBytes(t *testing.T) {
	dir := t.TempDir()
	// A stranger's file is never touched.
	other := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{Time: time.Unix(0, 0)}
	d := &Dumper{Dir: dir, MaxBytes: 10}
	paths, err := d.Dump(s, nil)
	if !errors.Is(err, ErrDumpTooLarge) {
		t.Errorf("Dump over MaxBytes: err = %v, want ErrDumpTooLarge", err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s kept after ErrDumpTooLarge", p)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("foreign file removed: %v", err)
	}
	if _, err := (&Dumper{}).Dump(s, nil); !errors.Is(err, ErrNoDumpDir) {
		t.Errorf("no dir: err = %v", err)
	}
}

// TestDumperPrunesOnlyItsOwn: two Dumpers sharing a directory (two processes with one DumpDir)
// and an earlier run's dump: each Dumper removes only the files it wrote itself.
func TestDumperPrunesOnlyItsOwn(t *testing.T) {
	dir := t.TempDir()
	earlier := filepath.Join(dir, "leakwatch-20250101T000000.000000Z-1-0001-goroutine.pb.gz")
	if err := os.WriteFile(earlier, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := &Dumper{Dir: dir, MaxFiles: 2}, &Dumper{Dir: dir, MaxFiles: 2}
	var aFiles, bFiles []string
	for i := range 3 {
		s.Time = s.Time.Add(time.Second)
		pa, err := a.Dump(s, Diff(nil, s))
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.Dump(s, Diff(nil, s))
		if err != nil {
			t.Fatal(err)
		}
		if len(pa) != 2 || len(pb) != 2 {
			t.Fatalf("dump %d wrote %q and %q, want 2 files each", i, pa, pb)
		}
		aFiles, bFiles = append(aFiles, pa...), append(bFiles, pb...)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if !exists(earlier) {
		t.Error("an earlier run's dump was removed")
	}
	for name, files := range map[string][]string{"a": aFiles, "b": bFiles} {
		for i, p := range files {
			if want := i >= len(files)-2; exists(p) != want {
				t.Errorf("dumper %s file %d (%s): exists %v, want %v", name, i, filepath.Base(p), !want, want)
			}
		}
	}
}
