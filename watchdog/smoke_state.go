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
	"strings"
	"time"
)

// The state file is JSON with a kind and a version, so that a file of another program or of
// a later format is recognised as foreign instead of being half understood.
const (
	smokeStateKind    = "leakwatch.smoke-state"
	smokeStateVersion = 3                   // 1: the fields of a run flat, before the report was the stored form; 2: durations in nanoseconds
	smokeStateMax     = 4 << 20             // bytes read at most; a bigger file is not ours
	smokeMaxPoints    = smokeMaxCheckpoints // checkpoints a run may have
)

// smokeStateFile is the state file: the run's report, its one stored form, with the series'
// values at the baseline. The alerts and the growth evidence are not kept (they are filled in
// when the run finishes).
type smokeStateFile struct {
	Kind     string             `json:"kind"`
	Version  int                `json:"version"`
	Run      SmokeReport        `json:"run"`
	BaseVals map[string]float64 `json:"baseline_values"`
}

func encodeSmokeState(r *smokeRun) ([]byte, error) {
	st := stateHead(r)
	st.Run.Checkpoints, st.Run.Lines = r.rep.Checkpoints, r.rep.Lines
	return json.Marshal(st)
}

// stateHead is the run's state without its checkpoints and lines, the parts that grow with
// the run: a copy that shares nothing the run changes later (the baseline and its values are
// set once).
func stateHead(r *smokeRun) smokeStateFile {
	st := smokeStateFile{Kind: smokeStateKind, Version: smokeStateVersion, Run: r.rep, BaseVals: r.baseVals}
	st.Run.Alerts, st.Run.Growth, st.Run.ResultFiles = nil, nil, nil
	st.Run.Checkpoints, st.Run.Lines = nil, nil
	st.Run.Verdict, st.Run.Stalled, st.Run.ExpectedEnd = r.verdict(), false, r.expectedEnd()
	st.Run.Criteria = append([]SmokeCriterion(nil), r.rep.Criteria...)
	st.Run.Reasons = append([]string(nil), r.rep.Reasons...)
	st.Run.Notes = append([]string(nil), r.rep.Notes...)
	st.Run.HTTPPools = append([]string(nil), r.rep.HTTPPools...)
	return st
}

// smokeStateDelta is what a run's state gained since the last one handed to the writer: the
// head whole (bounded: it does not grow with the run), the checkpoints and lines from
// cpFrom and lineFrom on. The writer keeps the whole state and writes it, so that a
// checkpoint tick costs the same at the first checkpoint and at the 4096th.
type smokeStateDelta struct {
	path     string
	head     smokeStateFile
	cpFrom   int
	cps      []SmokeCheckpoint
	lineFrom int
	lines    []string
}

// stateDelta is r's delta since the last one, which it records as handed over.
func stateDelta(r *smokeRun) smokeStateDelta {
	d := smokeStateDelta{path: r.cfg.StateFile, head: stateHead(r)}
	d.cpFrom = min(r.sentCPs, len(r.rep.Checkpoints))
	d.cps = cloneCheckpoints(r.rep.Checkpoints[d.cpFrom:])
	d.lineFrom = min(r.sentLines, len(r.rep.Lines))
	d.lines = append([]string(nil), r.rep.Lines[d.lineFrom:]...)
	r.sentCPs, r.sentLines = len(r.rep.Checkpoints), len(r.rep.Lines)
	return d
}

// apply brings the writer's copy of the state (st) up to d.
func (d *smokeStateDelta) apply(st *smokeStateFile) {
	cps, lines := st.Run.Checkpoints, st.Run.Lines
	*st = d.head
	st.Run.Checkpoints = append(cps[:min(d.cpFrom, len(cps))], d.cps...)
	st.Run.Lines = append(lines[:min(d.lineFrom, len(lines))], d.lines...)
}

// parseSmokeState decodes and checks a state file. Anything it does not fully understand is an
// error: the file is then set aside, never trusted.
func parseSmokeState(b []byte) (*smokeStateFile, error) {
	if len(b) > smokeStateMax {
		return nil, fmt.Errorf("larger than %d bytes", smokeStateMax)
	}
	// The kind and version first, so that a file of another format is named as such.
	var head struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if json.Unmarshal(b, &head) == nil {
		if head.Kind != smokeStateKind {
			return nil, fmt.Errorf("foreign file: kind %q, want %q", head.Kind, smokeStateKind)
		}
		if head.Version != smokeStateVersion {
			return nil, fmt.Errorf("unsupported version %d (this build reads %d)", head.Version, smokeStateVersion)
		}
	}
	// The run is decoded in its wire form (durations in seconds) so that an unknown field in it
	// is an error too.
	var w struct {
		Kind     string             `json:"kind"`
		Version  int                `json:"version"`
		Run      smokeReportJSON    `json:"run"`
		BaseVals map[string]float64 `json:"baseline_values"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("not a smoke state file: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the state")
	}
	if w.Kind != smokeStateKind {
		return nil, fmt.Errorf("foreign file: kind %q, want %q", w.Kind, smokeStateKind)
	}
	if w.Version != smokeStateVersion {
		return nil, fmt.Errorf("unsupported version %d (this build reads %d)", w.Version, smokeStateVersion)
	}
	st := smokeStateFile{Kind: w.Kind, Version: w.Version, Run: w.Run.report(), BaseVals: w.BaseVals}
	if st.Run.Duration <= 0 || st.Run.Checkpoint <= 0 || st.Run.Checkpoint > st.Run.Duration || st.Run.Warmup < 0 ||
		st.Run.Duration > smokeMaxDuration || st.Run.Warmup > smokeMaxDuration {
		return nil, fmt.Errorf("bad durations: duration %v, checkpoint %v, warmup %v", st.Run.Duration, st.Run.Checkpoint, st.Run.Warmup)
	}
	n64 := checkpointCount(SmokeConfig{Duration: st.Run.Duration, Checkpoint: st.Run.Checkpoint})
	if n64 > smokeMaxPoints {
		return nil, fmt.Errorf("%d checkpoints, more than %d", n64, smokeMaxPoints)
	}
	n := int(n64)
	switch st.Run.Status {
	case SmokeRunning, SmokePassed, SmokeFailed:
	default:
		return nil, fmt.Errorf("bad status %q", st.Run.Status)
	}
	if st.Run.Started.IsZero() || st.Run.BaselineAt.IsZero() || st.Run.BaselineAt.Before(st.Run.Started) {
		return nil, errors.New("missing or inconsistent start and baseline times")
	}
	if st.Run.Status != SmokeRunning && st.Run.Completed.Before(st.Run.BaselineAt) {
		return nil, errors.New("finished run without a completion time")
	}
	if len(st.Run.Checkpoints) > n {
		return nil, fmt.Errorf("%d checkpoints for a run of %d", len(st.Run.Checkpoints), n)
	}
	if st.Run.Status == SmokeRunning && len(st.Run.Checkpoints) == n {
		return nil, errors.New("a running run with every checkpoint taken")
	}
	if st.Run.Restarts < 0 || st.Run.Restarts > 1<<20 {
		return nil, fmt.Errorf("bad restart count %d", st.Run.Restarts)
	}
	if st.Run.Baseline == nil || !validSample(*st.Run.Baseline) {
		return nil, errors.New("bad baseline")
	}
	for i, c := range st.Run.Checkpoints {
		if c.Index != i+1 || c.Of != n {
			return nil, fmt.Errorf("checkpoint %d is numbered %d/%d", i+1, c.Index, c.Of)
		}
		if !c.Missed && !validSample(c.SmokeSample) {
			return nil, fmt.Errorf("checkpoint %d: bad sample", i+1)
		}
	}
	if len(st.Run.Lines) > 4*n+64 || len(st.Run.Criteria) > 64 || len(st.Run.Reasons) > 64 || len(st.Run.Notes) > 64 || len(st.BaseVals) > 10000 ||
		len(st.Run.Alerts) > 0 || len(st.Run.Growth) > 0 || len(st.Run.HTTPPools) > 1000 {
		return nil, errors.New("too many lines, criteria, reasons, notes, pools or values, or alerts kept")
	}
	return &st, nil
}

func validSample(s SmokeSample) bool {
	return s.Goroutines >= 0 && s.FDs >= 0 && (s.HTTP == nil || s.HTTP.Requests >= 0)
}

// loadSmokeState reads path. A missing file is (nil, "", true). Only a file that was read and
// found corrupt or foreign is renamed to path.corrupt-<time> (and described in the note); then
// path is free and usable is true. A path that is not a regular file (a directory), or a file
// that cannot be opened or read (permission denied), is left alone: usable is false and the
// note says why, and the caller keeps its run in memory.
func loadSmokeState(path string, now time.Time) (st *smokeStateFile, note string, usable bool) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", true
	}
	if err != nil {
		return nil, fmt.Sprintf("smoke state file %s cannot be read (%v); it is left alone", path, err), false
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Sprintf("smoke state file %s is not a regular file (%v); it is left alone", path, fi.Mode().Type()), false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Sprintf("smoke state file %s cannot be read (%v); it is left alone", path, err), false
	}
	b, err := io.ReadAll(io.LimitReader(f, smokeStateMax+1))
	f.Close()
	if err != nil {
		return nil, fmt.Sprintf("smoke state file %s cannot be read (%v); it is left alone", path, err), false
	}
	if st, err = parseSmokeState(b); err == nil {
		return st, "", true
	}
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	note = fmt.Sprintf("smoke state file %s was not trusted (%v)", path, err)
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, note + fmt.Sprintf("; setting it aside failed: %v", rerr), false
	}
	return nil, note + "; moved to " + aside, true
}

// run rebuilds the run from the file, with the pools and targets of this process. A run in
// progress counts one more restart.
func (st *smokeStateFile) run(c SmokeConfig, pools []string, tg SmokeTargets, now time.Time) *smokeRun {
	c.Duration, c.Checkpoint, c.Warmup = st.Run.Duration, st.Run.Checkpoint, st.Run.Warmup
	r := newSmokeRun(c, st.Run.Started, pools, tg)
	r.loc = now.Location()
	rep := st.Run
	rep.HTTPPools, rep.Targets = r.rep.HTTPPools, tg
	rep.Verdict, rep.Stalled, rep.ExpectedEnd = "", false, time.Time{}
	r.rep = rep
	r.baseVals = st.BaseVals
	r.next = len(rep.Checkpoints)
	if rep.Status == SmokeRunning {
		r.rep.Restarts++
		r.resumedAt = now
		r.rep.Notes = appendNote(r.rep.Notes, fmt.Sprintf("resumed after a restart at %s (restart %d)", r.stamp(now), r.rep.Restarts))
	}
	return r
}

// removeStaleTemps removes the temporary files [writeFileAtomic] left beside path when a
// process died between creating and renaming one (a crash loop would pile them up). Called
// with path's lock held: no other writer of path is running.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+".tmp-"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
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
