package trend

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrCSV is wrapped by every error ReadCSV returns for malformed input.
var ErrCSV = errors.New("trend: bad trace csv")

// maxCSVColumns bounds the header, so hostile input cannot make ReadCSV allocate without limit.
const maxCSVColumns = 256

// Trace is a recorded trace: sample times in seconds and one column per series.
// Columns[i] names Values[i]; Values[i][k] is that series at T[k] (NaN where the cell is empty
// or "NaN"). The "t" column is T, not part of Columns.
type Trace struct {
	T       []float64
	Columns []string
	Values  [][]float64
}

// ReadCSV parses a trace with encoding/csv: a header whose first column is "t" (seconds since
// the trace started), then any number of named numeric columns, then one row per sample. Blank
// lines are skipped and fields are trimmed; times must be finite and must not go backwards.
// Errors wrap ErrCSV and name the line (1-based) and the column. It reads r to the end and does
// not close it.
func ReadCSV(r io.Reader) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to name the line and the counts
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var tr *Trace
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCSV, err)
		}
		line, _ := cr.FieldPos(0)
		if tr == nil {
			if len(fields) > maxCSVColumns {
				return nil, fmt.Errorf("%w: line %d: %d columns, at most %d", ErrCSV, line, len(fields), maxCSVColumns)
			}
			if strings.TrimSpace(fields[0]) != "t" {
				return nil, fmt.Errorf("%w: line %d column 1: header must start with \"t\", got %q", ErrCSV, line, fields[0])
			}
			tr = &Trace{}
			seen := map[string]bool{"t": true}
			for i, f := range fields[1:] {
				name := strings.TrimSpace(f)
				if name == "" {
					return nil, fmt.Errorf("%w: line %d column %d: empty column name", ErrCSV, line, i+2)
				}
				if seen[name] {
					return nil, fmt.Errorf("%w: line %d column %d: duplicate column %q", ErrCSV, line, i+2, name)
				}
				seen[name] = true
				tr.Columns = append(tr.Columns, name)
			}
			tr.Values = make([][]float64, len(tr.Columns))
			continue
		}
		if len(fields) != len(tr.Columns)+1 {
			return nil, fmt.Errorf("%w: line %d: %d fields, header has %d", ErrCSV, line, len(fields), len(tr.Columns)+1)
		}
		t, err := strconv.ParseFloat(strings.TrimSpace(fields[0]), 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("%w: line %d column 1 (t): %q is not a finite number", ErrCSV, line, fields[0])
		}
		if n := len(tr.T); n > 0 && t < tr.T[n-1] {
			return nil, fmt.Errorf("%w: line %d column 1 (t): %v goes back from %v", ErrCSV, line, t, tr.T[n-1])
		}
		tr.T = append(tr.T, t)
		for i, f := range fields[1:] {
			f = strings.TrimSpace(f)
			v := math.NaN()
			if f != "" {
				v, err = strconv.ParseFloat(f, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: line %d column %d (%s): %q is not a number", ErrCSV, line, i+2, tr.Columns[i], f)
				}
			}
			tr.Values[i] = append(tr.Values[i], v)
		}
	}
	if tr == nil {
		return nil, fmt.Errorf("%w: no header", ErrCSV)
	}
	return tr, nil
}
