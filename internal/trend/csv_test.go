package trend

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "t,goroutines,fds,fd_limit,threads\n0.000,94,23,1024,7\n\n10.5,99,,1024,8\n30,100,22,1024,NaN\n"
	tr, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if got, want := strings.Join(tr.Columns, ","), "goroutines,fds,fd_limit,threads"; got != want {
		t.Errorf("columns = %q, want %q", got, want)
	}
	if len(tr.T) != 3 || tr.T[1] != 10.5 || tr.T[2] != 30 {
		t.Errorf("T = %v, want [0 10.5 30]", tr.T)
	}
	fds := tr.Values[1]
	if fds[0] != 23 || !math.IsNaN(fds[1]) || fds[2] != 22 {
		t.Errorf("fds = %v, want [23 NaN 22]", fds)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "no header"},
		{"header without t", "time,goroutines\n0,1\n", "line 1 column 1"},
		{"empty column name", "t,,fds\n", "line 1 column 2: empty column name"},
		{"duplicate column", "t,fds,fds\n", `line 1 column 3: duplicate column "fds"`},
		{"short row", "t,goroutines,fds\n0,1,2\n10,1\n", "line 3: 2 fields, header has 3"},
		{"bad time", "t,goroutines\nx,1\n", "line 2 column 1 (t)"},
		{"infinite time", "t,goroutines\n+Inf,1\n", "line 2 column 1 (t)"},
		{"bad value", "t,goroutines,fds\n0,1,2\n10,1,two\n", `line 3 column 3 (fds): "two" is not a number`},
		{"time goes back", "t,goroutines\n10,1\n5,1\n", "line 3 column 1 (t): 5 goes back from 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.in))
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("ReadCSV() error = %v, want one wrapping ErrCSV", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadCSV() error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadCSVPublicTraces(t *testing.T) {
	files, _ := filepath.Glob("../../watchdog/testdata/detection/traces/*.csv")
	if len(files) == 0 {
		t.Fatal("no traces under watchdog/testdata/detection/traces")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ReadCSV(fh)
		fh.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !slices.Contains(tr.Columns, "goroutines") || len(tr.T) < 100 {
			t.Errorf("%s: %d rows, columns %v; want goroutines and >= 100 rows", f, len(tr.T), tr.Columns)
		}
	}
}

// FuzzReadCSV checks that ReadCSV never panics, that every error wraps ErrCSV, and that a
// parsed trace is consistent: one value per time per column, times never going back.
func FuzzReadCSV(f *testing.F) {
	f.Add("t,goroutines,fds\n0,1,2\n")
	f.Add("t,goroutines,fds,fd_limit\n0.000,94,23,1024\n10.000,99,22,1024\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("error %v does not wrap ErrCSV", err)
			}
			return
		}
		if len(tr.Values) != len(tr.Columns) {
			t.Fatalf("%d value columns for %d names", len(tr.Values), len(tr.Columns))
		}
		for i, col := range tr.Values {
			if len(col) != len(tr.T) {
				t.Fatalf("column %s has %d values for %d times", tr.Columns[i], len(col), len(tr.T))
			}
		}
		for k := 1; k < len(tr.T); k++ {
			if tr.T[k] < tr.T[k-1] || math.IsNaN(tr.T[k]) {
				t.Fatalf("time %v after %v", tr.T[k], tr.T[k-1])
			}
		}
	})
}
