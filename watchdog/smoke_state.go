package watchdog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The state file is JSON with a kind and a version, so that a file of another program or of
// a later format is recognised as foreign instead of being half understood.
const (
	smokeStateKind    = "leakwatch.smoke-state"
	smokeStateVersion = 1
	smokeStateMax     = 4 << 20 // bytes read at most; a bigger file is not ours
	smokeMaxPoints    = 100000  // checkpoints a run may have
)

type smokeStateFile struct {
	Kind        string             `json:"kind"`
	Version     int                `json:"version"`
	Duration    time.Duration      `json:"duration_ns"`
	Checkpoint  time.Duration      `json:"checkpoint_ns"`
	Warmup      time.Duration      `json:"warmup_ns"`
	Status      SmokeStatus        `json:"status"`
	Started     time.Time          `json:"started"`
	BaselineAt  time.Time          `json:"baseline_at"`
	Completed   time.Time          `json:"completed,omitzero"`
	Baseline    SmokeSample        `json:"baseline"`
	BaseVals    map[string]float64 `json:"baseline_values"`
	Checkpoints []SmokeCheckpoint  `json:"checkpoints"`
	Lines       []string           `json:"lines"`
	Restarts    int                `json:"restarts"`
	Criteria    []SmokeCriterion   `json:"criteria,omitempty"`
	Reasons     []string           `json:"reasons,omitempty"`
	Notes       []string           `json:"notes,omitempty"`
}

func encodeSmokeState(r *smokeRun) ([]byte, error) {
	st := smokeStateFile{
		Kind: smokeStateKind, Version: smokeStateVersion,
		Duration: r.cfg.Duration, Checkpoint: r.cfg.Checkpoint, Warmup: r.cfg.Warmup,
		Status: r.status, Started: r.started, BaselineAt: r.baselineAt, Completed: r.completed,
		Baseline: r.baseline, BaseVals: r.baseVals, Checkpoints: r.cps, Lines: r.lines,
		Restarts: r.restarts, Criteria: r.criteria, Reasons: r.reasons, Notes: r.notes,
	}
	return json.Marshal(st)
}

// parseSmokeState decodes and checks a state file. Anything it does not fully understand is an
// error: the file is then set aside, never trusted.
func parseSmokeState(b []byte) (*smokeStateFile, error) {
	if len(b) > smokeStateMax {
		return nil, fmt.Errorf("larger than %d bytes", smokeStateMax)
	}
	var st smokeStateFile
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&st); err != nil {
		return nil, fmt.Errorf("not a smoke state file: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the state")
	}
	if st.Kind != smokeStateKind {
		return nil, fmt.Errorf("foreign file: kind %q, want %q", st.Kind, smokeStateKind)
	}
	if st.Version != smokeStateVersion {
		return nil, fmt.Errorf("unsupported version %d (this build reads %d)", st.Version, smokeStateVersion)
	}
	if st.Duration <= 0 || st.Checkpoint <= 0 || st.Checkpoint > st.Duration || st.Warmup < 0 {
		return nil, fmt.Errorf("bad durations: duration %v, checkpoint %v, warmup %v", st.Duration, st.Checkpoint, st.Warmup)
	}
	n := checkpointCount(SmokeConfig{Duration: st.Duration, Checkpoint: st.Checkpoint})
	if n > smokeMaxPoints {
		return nil, fmt.Errorf("%d checkpoints, more than %d", n, smokeMaxPoints)
	}
	switch st.Status {
	case SmokeRunning, SmokePassed, SmokeFailed:
	default:
		return nil, fmt.Errorf("bad status %q", st.Status)
	}
	if st.Started.IsZero() || st.BaselineAt.IsZero() || st.BaselineAt.Before(st.Started) {
		return nil, errors.New("missing or inconsistent start and baseline times")
	}
	if st.Status != SmokeRunning && st.Completed.Before(st.BaselineAt) {
		return nil, errors.New("finished run without a completion time")
	}
	if len(st.Checkpoints) > n {
		return nil, fmt.Errorf("%d checkpoints for a run of %d", len(st.Checkpoints), n)
	}
	if st.Status == SmokeRunning && len(st.Checkpoints) == n {
		return nil, errors.New("a running run with every checkpoint taken")
	}
	if st.Restarts < 0 || st.Restarts > 1<<20 {
		return nil, fmt.Errorf("bad restart count %d", st.Restarts)
	}
	if !validSample(st.Baseline) {
		return nil, errors.New("bad baseline")
	}
	for i, c := range st.Checkpoints {
		if c.Index != i+1 || c.Of != n {
			return nil, fmt.Errorf("checkpoint %d is numbered %d/%d", i+1, c.Index, c.Of)
		}
		if !c.Missed && !validSample(c.SmokeSample) {
			return nil, fmt.Errorf("checkpoint %d: bad sample", i+1)
		}
	}
	if len(st.Lines) > 4*n+64 || len(st.Criteria) > 64 || len(st.Reasons) > 64 || len(st.Notes) > 64 || len(st.BaseVals) > 10000 {
		return nil, errors.New("too many lines, criteria, reasons, notes or values")
	}
	return &st, nil
}

func validSample(s SmokeSample) bool {
	return s.Goroutines >= 0 && s.FDs >= 0 && (s.HTTP == nil || s.HTTP.Requests >= 0)
}

// loadSmokeState reads path. A missing file is (nil, ""). A file that cannot be trusted is
// renamed to path.corrupt-<time> and described in the note.
func loadSmokeState(path string, now time.Time) (*smokeStateFile, string) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	var st *smokeStateFile
	if err == nil {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(f, smokeStateMax+1))
		f.Close()
		if err == nil {
			st, err = parseSmokeState(b)
		}
	}
	if err == nil {
		return st, ""
	}
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	note := fmt.Sprintf("smoke state file %s was not trusted (%v)", path, err)
	if rerr := os.Rename(path, aside); rerr != nil {
		note += fmt.Sprintf("; setting it aside failed: %v", rerr)
	} else {
		note += "; moved to " + aside
	}
	return nil, note
}

// run rebuilds the run from the file. A run in progress counts one more restart.
func (st *smokeStateFile) run(c SmokeConfig, pools []string, now time.Time) *smokeRun {
	c.Duration, c.Checkpoint, c.Warmup = st.Duration, st.Checkpoint, st.Warmup
	r := newSmokeRun(c, st.Started, pools)
	r.loc = now.Location()
	r.baselineAt = st.BaselineAt
	r.baseline, r.baseVals = st.Baseline, st.BaseVals
	r.cps, r.next = st.Checkpoints, len(st.Checkpoints)
	r.lines, r.restarts, r.notes = st.Lines, st.Restarts, st.Notes
	r.status, r.completed, r.criteria, r.reasons = st.Status, st.Completed, st.Criteria, st.Reasons
	if r.status == SmokeRunning {
		r.restarts++
		r.resumedAt = now
		r.notes = append(r.notes, fmt.Sprintf("resumed after a restart at %s (restart %d)", r.stamp(now), r.restarts))
	}
	return r
}

// writeFileAtomic writes data to a temporary file beside path (mode 0600), syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
