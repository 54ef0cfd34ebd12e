package attribution

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"
)

// DefaultMaxHeapSites is the number of allocation sites a [HeapProfile]
// keeps when [HeapOptions.MaxSites] is 0: 64 bytes each (the names point
// into the binary, but for generic functions'), so at most 0.64 MB per
// profile.
const DefaultMaxHeapSites = 10_000

// DefaultMaxHeapRecords is the ceiling on the runtime's heap profile
// records used when [HeapOptions.MaxRecords] is 0. Reading the profile
// needs 288 bytes per record for the duration of [TakeHeap]: 14 MB at
// the ceiling.
const DefaultMaxHeapRecords = 50_000

// HeapOptions says how [TakeHeap] reads the heap profile. The zero value
// keeps [DefaultMaxHeapSites] sites and reads up to
// [DefaultMaxHeapRecords] records.
type HeapOptions struct {
	// MaxSites is the number of allocation sites kept, largest in-use
	// bytes first; the rest are summed in [HeapProfile.Omitted]. 0 means
	// [DefaultMaxHeapSites].
	MaxSites int `json:"max_sites"`
	// MaxRecords is the ceiling on the runtime's profile records (one per
	// distinct stack and allocation size with bytes in use) above which
	// the profile is not read at all: the runtime hands out all records
	// or none. The profile then has no sites and says so in its notes. 0
	// means [DefaultMaxHeapRecords].
	MaxRecords int `json:"max_records"`
}

func (o HeapOptions) withDefaults() HeapOptions {
	if o.MaxSites <= 0 {
		o.MaxSites = DefaultMaxHeapSites
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxHeapRecords
	}
	return o
}

// HeapSite is the memory in use that was allocated at one place in the
// code.
type HeapSite struct {
	// Site is the allocating frame: the innermost frame outside the
	// runtime and the standard library, so that memory allocated by
	// fmt.Sprintf or a bytes.Buffer counts for the code that called them;
	// where the whole stack is runtime and standard library, the innermost
	// frame outside the runtime.
	Site Frame `json:"site"`
	// Bytes is the estimated number of bytes in use (allocated, not yet
	// freed by a completed collection) allocated there.
	Bytes int64 `json:"bytes"`
	// Objects is the estimated number of objects in use allocated there.
	Objects int64 `json:"objects"`
	// Records is the number of the runtime's profile records (one per
	// stack and allocation size) summed into the site.
	Records int `json:"records"`
}

// HeapOmitted sums the sites a [HeapProfile] did not keep.
type HeapOmitted struct {
	// Sites is the number of sites left out.
	Sites int `json:"sites"`
	// Bytes and Objects are their estimated bytes and objects in use.
	Bytes   int64 `json:"bytes"`
	Objects int64 `json:"objects"`
	// MaxBytes is the in-use bytes of the largest site left out: no site
	// missing from the profile holds more.
	MaxBytes int64 `json:"max_bytes"`
}

// Stacks is the memory the runtime holds for goroutine stacks, from
// runtime/metrics. Stacks are not heap objects: the live heap
// (/gc/heap/live:bytes) and the heap profile do not include them.
type Stacks struct {
	// InHeap is /memory/classes/heap/stacks:bytes: heap memory reserved
	// for stacks, in use or not. It holds every goroutine stack.
	InHeap uint64 `json:"in_heap_bytes"`
	// OS is /memory/classes/os-stacks:bytes: stack memory allocated
	// directly from the OS (threads' system stacks on some platforms).
	OS uint64 `json:"os_bytes"`
	// Scanned is /gc/scan/stack:bytes: the bytes of stack the last
	// collection scanned, which is about what the goroutines use of it.
	Scanned uint64 `json:"scanned_bytes"`
}

// Total is InHeap + OS: all the memory stacks hold.
func (s Stacks) Total() uint64 { return s.InHeap + s.OS }

var stackMetrics = []string{
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
	"/gc/scan/stack:bytes",
	"/gc/heap/live:bytes",
}

// ReadStacks reads the stack memory figures. A figure the runtime does not
// offer reads 0. Safe for concurrent use; it allocates one small slice.
func ReadStacks() Stacks {
	s, _ := readStackMetrics()
	return s
}

// readStackMetrics reads the stack figures and the live heap.
func readStackMetrics() (Stacks, uint64) {
	samples := make([]metrics.Sample, len(stackMetrics))
	for i, n := range stackMetrics {
		samples[i].Name = n
	}
	metrics.Read(samples)
	v := make([]uint64, len(samples))
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	return Stacks{InHeap: v[0], OS: v[1], Scanned: v[2]}, v[3]
}

// HeapCost is what taking a [HeapProfile] cost. Durations are wall time;
// JSON carries them in seconds (total_s, profile_call_s, max_pause_s).
type HeapCost struct {
	// Total is the wall time of [TakeHeap].
	Total time.Duration `json:"-"` // JSON: total_s
	// ProfileCall is the wall time of the runtime.MemProfile calls alone
	// (they take the profile's lock, not the world).
	ProfileCall time.Duration `json:"-"` // JSON: profile_call_s
	// Pauses is the number of stop-the-world pauses of the process while
	// the profile was taken, whatever caused them.
	Pauses uint64 `json:"pauses"`
	// MaxPause is the upper bound of the histogram bucket holding the
	// longest of those pauses; 0 when there was none.
	MaxPause time.Duration `json:"-"` // JSON: max_pause_s
}

type heapCostJSON struct {
	Total       float64 `json:"total_s"`
	ProfileCall float64 `json:"profile_call_s"`
	Pauses      uint64  `json:"pauses"`
	MaxPause    float64 `json:"max_pause_s"`
}

// MarshalJSON encodes the cost with its durations in seconds.
func (c HeapCost) MarshalJSON() ([]byte, error) {
	return json.Marshal(heapCostJSON{c.Total.Seconds(), c.ProfileCall.Seconds(), c.Pauses, c.MaxPause.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (c *HeapCost) UnmarshalJSON(b []byte) error {
	var x heapCostJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*c = HeapCost{seconds(x.Total), seconds(x.ProfileCall), x.Pauses, seconds(x.MaxPause)}
	return nil
}

// HeapProfile is the heap in use by allocation site at one moment, as of
// the last completed garbage collection. It is immutable once returned and
// safe for concurrent reads.
type HeapProfile struct {
	// Time is when the profile was taken.
	Time time.Time `json:"time"`
	// Sites are the allocation sites with bytes in use, largest first, at
	// most [HeapOptions.MaxSites].
	Sites []HeapSite `json:"sites"`
	// Omitted sums the sites beyond MaxSites.
	Omitted HeapOmitted `json:"omitted"`
	// Bytes and Objects are the estimated in-use totals over all sites,
	// kept and omitted.
	Bytes   int64 `json:"bytes"`
	Objects int64 `json:"objects"`
	// Records is the number of runtime profile records read.
	Records int `json:"records"`
	// Rate is runtime.MemProfileRate when the profile was read: on
	// average one sample per Rate bytes allocated. Figures are scaled up
	// from the samples, so a site's figure is uncertain by about Rate
	// bytes times the square root of its samples.
	Rate int `json:"rate"`
	// LiveBytes is /gc/heap/live:bytes when the profile was taken: the
	// heap marked live by the last collection, whatever allocated it.
	LiveBytes uint64 `json:"live_bytes"`
	// Stacks is the goroutine stack memory when the profile was taken.
	Stacks Stacks `json:"stacks"`
	// Notes say what was cut or skipped, in plain words.
	Notes []string `json:"notes,omitempty"`
	// Cost is what the profile cost.
	Cost HeapCost `json:"cost"`
}

// TakeHeap reads the runtime's heap profile (the "heap" profile's
// inuse_space and inuse_objects, at the runtime's sampling rate, which it
// never changes) and groups it by allocation site. It reads the records
// with runtime.MemProfile, which stops nothing: no protobuf is encoded or
// parsed. The profile is as of the last completed collection; it does not
// force one (call runtime.GC first for an up-to-date view, at the price of
// a full collection).
//
// Cost: O(records) time, about 1 KiB of garbage per record (288 bytes for
// the record itself), and 64 bytes per site kept. With runtime.MemProfileRate 0 (profiling off), or
// over [HeapOptions.MaxRecords] records, the profile has no sites and a
// note says why. Safe for concurrent use.
func TakeHeap(opts HeapOptions) *HeapProfile {
	opts = opts.withDefaults()
	pm := startPauses()
	start := time.Now()
	p := &HeapProfile{Time: start, Rate: runtime.MemProfileRate}
	p.Stacks, p.LiveBytes = readStackMetrics()
	defer func() {
		p.Cost.Total = time.Since(start)
		p.Cost.Pauses, p.Cost.MaxPause = pm.stop()
	}()
	if p.Rate <= 0 {
		p.Notes = append(p.Notes, "heap profiling is off (runtime.MemProfileRate is 0): no allocation sites")
		return p
	}
	recs, n := heapRecords(opts.MaxRecords)
	p.Cost.ProfileCall = time.Since(start)
	p.Records = n
	if recs == nil && n > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("heap profile not read: %d records, over the ceiling of %d", n, opts.MaxRecords))
		return p
	}
	sites := groupHeapRecords(recs, p.Rate)
	for _, s := range sites {
		p.Bytes += s.Bytes
		p.Objects += s.Objects
	}
	if len(sites) > opts.MaxSites {
		for _, s := range sites[opts.MaxSites:] {
			p.Omitted.Sites++
			p.Omitted.Bytes += s.Bytes
			p.Omitted.Objects += s.Objects
			p.Omitted.MaxBytes = max(p.Omitted.MaxBytes, s.Bytes)
		}
		sites = sites[:opts.MaxSites]
		p.Notes = append(p.Notes, fmt.Sprintf("kept the %d largest of %d allocation sites; %d sites left out hold %s (at most %s each)",
			opts.MaxSites, opts.MaxSites+p.Omitted.Sites, p.Omitted.Sites, formatSize(p.Omitted.Bytes), formatSize(p.Omitted.MaxBytes)))
	}
	p.Sites = slices.Clone(sites) // exactly as large as kept: a baseline lives on
	return p
}

// heapRecords returns the runtime's in-use heap profile records, or nil
// and their number when there are more than maxRecords.
func heapRecords(maxRecords int) ([]runtime.MemProfileRecord, int) {
	n, _ := runtime.MemProfile(nil, false)
	for {
		if n > maxRecords {
			return nil, n
		}
		recs := make([]runtime.MemProfileRecord, n+n/8+16)
		got, ok := runtime.MemProfile(recs, false)
		if ok {
			return recs[:got], got
		}
		n = got
	}
}

// groupHeapRecords groups profile records by allocation site, scaling
// each record's samples to an estimate at the given sampling rate. Each
// distinct program counter is symbolised once, and each stack only as far
// as its site. The result is sorted by bytes, largest first, then by site;
// its capacity may exceed its length.
func groupHeapRecords(recs []runtime.MemProfileRecord, rate int) []HeapSite {
	// Sized for the worst case (a site per record, each with about one PC
	// of its own: the runtime's frames are shared), so that no map or
	// slice grows: growth would leave garbage of the same order.
	res := siteResolver{pcs: make(map[uintptr]pcFrames, len(recs)+64)}
	bySite := make(map[Frame]int, len(recs))
	sites := make([]HeapSite, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		objs, bytes := scaleHeapSample(r.InUseObjects(), r.InUseBytes(), rate)
		if bytes == 0 {
			continue
		}
		f := res.site(trimPCs(r.Stack0[:]))
		j, ok := bySite[f]
		if !ok {
			j = len(sites)
			bySite[f] = j
			sites = append(sites, HeapSite{Site: f})
		}
		sites[j].Bytes += bytes
		sites[j].Objects += objs
		sites[j].Records++
	}
	slices.SortFunc(sites, func(a, b HeapSite) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return compareFrames(a.Site, b.Site)
	})
	return sites
}

func compareFrames(a, b Frame) int {
	if c := strings.Compare(a.Function, b.Function); c != 0 {
		return c
	}
	if c := strings.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Line, b.Line)
}

// pcFrames is what one return PC of a stack expands to (several frames
// where calls were inlined), reduced to what finding a site needs: the
// innermost frame outside the runtime and the standard library, the
// innermost outside the runtime, and the innermost.
type pcFrames struct {
	user, other Frame
	// otherInRuntime reports that other is the innermost frame, in the
	// runtime, as no frame is outside it.
	otherInRuntime bool
}

// siteResolver finds allocation sites, symbolising each PC once.
type siteResolver struct {
	pcs map[uintptr]pcFrames
	buf [1]uintptr
}

// site returns the allocating frame of a stack of return PCs: the
// innermost frame outside the runtime and the standard library, else the
// innermost outside the runtime, else the innermost.
func (s *siteResolver) site(pcs []uintptr) Frame {
	var nonRuntime, first Frame
	for _, pc := range pcs {
		f := s.frames(pc)
		if f.user.Function != "" {
			return f.user
		}
		if nonRuntime.Function == "" && !f.otherInRuntime {
			nonRuntime = f.other
		}
		if first.Function == "" && first.File == "" {
			first = f.other
		}
	}
	if nonRuntime.Function != "" {
		return nonRuntime
	}
	return first
}

func (s *siteResolver) frames(pc uintptr) pcFrames {
	if f, ok := s.pcs[pc]; ok {
		return f
	}
	var pf pcFrames
	s.buf[0] = pc
	frames := runtime.CallersFrames(s.buf[:])
	for {
		fr, more := frames.Next()
		if fr.Function != "" || fr.File != "" {
			f := Frame{Function: fr.Function, File: fr.File, Line: fr.Line}
			switch {
			case isRuntime(f.Function):
				if pf.other.Function == "" && pf.other.File == "" {
					pf.other, pf.otherInRuntime = f, true
				}
			case pf.other.Function == "" || pf.otherInRuntime:
				pf.other, pf.otherInRuntime = f, false
			}
			if pf.user.Function == "" && !isRuntime(f.Function) && !isStdlib(f.Function) {
				pf.user = f
			}
		}
		if !more {
			break
		}
	}
	s.pcs[pc] = pf
	return pf
}

// allocSite is [siteResolver.site] for one stack.
func allocSite(pcs []uintptr) Frame {
	r := siteResolver{pcs: make(map[uintptr]pcFrames)}
	return r.site(pcs)
}

// scaleHeapSample estimates the objects and bytes that count sampled
// objects of size bytes in all stand for, at one sample per rate bytes on
// average (the runtime samples each allocation of s bytes with
// probability 1-exp(-s/rate)). It is runtime/pprof's scaleHeapSample.
func scaleHeapSample(count, size int64, rate int) (int64, int64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	if rate <= 1 {
		return count, size // every allocation is sampled
	}
	avg := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return int64(float64(count) * scale), int64(float64(size) * scale)
}

// HeapDelta is one allocation site's change between two profiles.
type HeapDelta struct {
	// Site is the allocating frame (see [HeapSite.Site]).
	Site Frame `json:"site"`
	// BaseBytes and Bytes are the in-use bytes in the baseline and now.
	BaseBytes int64 `json:"base_bytes"`
	Bytes     int64 `json:"bytes"`
	// DeltaBytes is Bytes - BaseBytes.
	DeltaBytes int64 `json:"delta_bytes"`
	// DeltaObjects is the change in objects in use.
	DeltaObjects int64 `json:"delta_objects"`
}

// String returns "+38 MiB in main.(*cache).put (cache.go:41)": the
// change, the function, and the base name of the file with the line.
func (d HeapDelta) String() string {
	return fmt.Sprintf("%s in %s (%s:%d)", formatBytes(d.DeltaBytes), d.Site.Function, filepath.Base(d.Site.File), d.Site.Line)
}

// ByteDelta is a figure in bytes in the baseline, now, and the change.
type ByteDelta struct {
	Base    int64 `json:"base"`
	Current int64 `json:"current"`
	Delta   int64 `json:"delta"`
}

func byteDelta(b, c int64) ByteDelta { return ByteDelta{Base: b, Current: c, Delta: c - b} }

// HeapReport is what grew on the heap between two [HeapProfile]s.
type HeapReport struct {
	// Interval is the time between the two profiles (JSON: interval_s, in
	// seconds).
	Interval time.Duration `json:"-"`
	// Bytes is the estimated in-use heap of the two profiles, over all
	// sites.
	Bytes ByteDelta `json:"bytes"`
	// LiveBytes is the live heap after the last collection
	// (/gc/heap/live:bytes), whatever allocated it.
	LiveBytes ByteDelta `json:"live_bytes"`
	// Stacks is the memory held by goroutine stacks ([Stacks.Total]),
	// which the heap figures do not include.
	Stacks ByteDelta `json:"stacks"`
	// Grew are the sites whose in-use bytes grew most, largest growth
	// first, at most the top asked for.
	Grew []HeapDelta `json:"grew"`
	// GrewSites is the number of sites that grew, shown or not, and
	// GrewBytes the sum of their growth.
	GrewSites int   `json:"grew_sites"`
	GrewBytes int64 `json:"grew_bytes"`
	// Rate is the current profile's sampling rate (see [HeapProfile.Rate]).
	Rate int `json:"rate"`
	// Notes say what limits the comparison, in plain words.
	Notes []string `json:"notes,omitempty"`
	// Cost is the wall time of the diff itself, not of the profiles (JSON:
	// cost_s, in seconds).
	Cost time.Duration `json:"-"`
}

type heapReportFields HeapReport // HeapReport without its methods

type heapReportJSON struct {
	heapReportFields
	Interval float64 `json:"interval_s"`
	Cost     float64 `json:"cost_s"`
}

// MarshalJSON encodes the report with its durations in seconds
// (interval_s, cost_s).
func (r HeapReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(heapReportJSON{heapReportFields(r), r.Interval.Seconds(), r.Cost.Seconds()})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (r *HeapReport) UnmarshalJSON(b []byte) error {
	var x heapReportJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*r = HeapReport(x.heapReportFields)
	r.Interval, r.Cost = seconds(x.Interval), seconds(x.Cost)
	return nil
}

// DiffHeap compares a profile with a baseline taken earlier and returns
// the sites that grew, at most top of them (0 means [DefaultTop]). A site
// missing from a profile counts as 0 bytes there; where the baseline left
// sites out (see [HeapOptions.MaxSites]) a note bounds the error this
// brings. Either profile may be nil, read as empty. O(sites) time and
// memory.
func DiffHeap(base, cur *HeapProfile, top int) *HeapReport {
	start := time.Now()
	if top <= 0 {
		top = DefaultTop
	}
	if base == nil {
		base = &HeapProfile{}
	}
	if cur == nil {
		cur = &HeapProfile{}
	}
	r := &HeapReport{
		Bytes:     byteDelta(base.Bytes, cur.Bytes),
		LiveBytes: byteDelta(int64(base.LiveBytes), int64(cur.LiveBytes)),
		Stacks:    byteDelta(int64(base.Stacks.Total()), int64(cur.Stacks.Total())),
		Rate:      cur.Rate,
	}
	if !base.Time.IsZero() && !cur.Time.IsZero() {
		r.Interval = cur.Time.Sub(base.Time)
	}
	baseBy := make(map[Frame]*HeapSite, len(base.Sites))
	for i := range base.Sites {
		baseBy[base.Sites[i].Site] = &base.Sites[i]
	}
	var grew []HeapDelta
	for i := range cur.Sites {
		c := &cur.Sites[i]
		var bb, bo int64
		if b := baseBy[c.Site]; b != nil {
			bb, bo = b.Bytes, b.Objects
		}
		if c.Bytes <= bb {
			continue
		}
		grew = append(grew, HeapDelta{Site: c.Site, BaseBytes: bb, Bytes: c.Bytes, DeltaBytes: c.Bytes - bb, DeltaObjects: c.Objects - bo})
	}
	slices.SortFunc(grew, func(a, b HeapDelta) int {
		if c := cmp.Compare(b.DeltaBytes, a.DeltaBytes); c != 0 {
			return c
		}
		return compareFrames(a.Site, b.Site)
	})
	r.GrewSites = len(grew)
	for _, g := range grew {
		r.GrewBytes += g.DeltaBytes
	}
	r.Grew = slices.Clip(grew[:min(top, len(grew))])
	if base.Omitted.Sites > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the baseline left out %d small sites: a site missing from it counts from 0, overstating its growth by at most %s",
			base.Omitted.Sites, formatSize(base.Omitted.MaxBytes)))
	}
	if cur.Omitted.Sites > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the current profile left out %d sites holding %s, none over %s",
			cur.Omitted.Sites, formatSize(cur.Omitted.Bytes), formatSize(cur.Omitted.MaxBytes)))
	}
	for _, n := range base.Notes {
		if !strings.HasPrefix(n, "kept the ") {
			r.Notes = append(r.Notes, "baseline: "+n)
		}
	}
	for _, n := range cur.Notes {
		if !strings.HasPrefix(n, "kept the ") {
			r.Notes = append(r.Notes, n)
		}
	}
	if cur.Rate > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("figures are estimates from samples, one per %s allocated on average", formatSize(int64(cur.Rate))))
	}
	r.Cost = time.Since(start)
	return r
}

// String returns the report as [HeapReport.WriteText] writes it.
func (r *HeapReport) String() string {
	var b strings.Builder
	_ = r.WriteText(&b) // a strings.Builder does not fail
	return b.String()
}

// WriteText writes the report as Markdown that also reads well in a log:
// the totals, one line per site that grew ("+38 MiB in
// main.(*cache).put (cache.go:41)"), and the notes. It returns the first
// write error.
func (r *HeapReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("## Heap\n\n")
	ew.printf("in use (profile) %s (%s), live after GC %s (%s), goroutine stacks %s (%s)",
		formatSize(r.Bytes.Current), formatBytes(r.Bytes.Delta),
		formatSize(r.LiveBytes.Current), formatBytes(r.LiveBytes.Delta),
		formatSize(r.Stacks.Current), formatBytes(r.Stacks.Delta))
	if r.Interval >= time.Second {
		ew.printf(" in %v", r.Interval.Round(time.Second))
	}
	ew.printf("\n")
	if len(r.Grew) > 0 {
		ew.printf("\n### Allocation sites that grew (%d of %d shown, %s in all)\n\n", len(r.Grew), r.GrewSites, formatBytes(r.GrewBytes))
		for _, g := range r.Grew {
			ew.printf("- %s\n", g)
		}
	}
	if len(r.Notes) > 0 {
		ew.printf("\nNotes:\n")
		for _, n := range r.Notes {
			ew.printf("- %s\n", n)
		}
	}
	return ew.err
}

// formatSize is formatBytes without the sign.
func formatSize(n int64) string { return formatBytes(n)[1:] }

// formatBytes writes a signed size in binary units: "+38 MiB",
// "-512 KiB", "+1.5 GiB", "+0 B". Figures under 10 of a unit keep one
// decimal.
func formatBytes(n int64) string {
	sign := "+"
	if n < 0 {
		sign = "-"
	}
	v := math.Abs(float64(n))
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	switch {
	case u == 0:
		return fmt.Sprintf("%s%d B", sign, int64(v))
	case v < 10 && math.Round(v*10) < 100:
		return fmt.Sprintf("%s%.1f %s", sign, v, units[u])
	default:
		return fmt.Sprintf("%s%.0f %s", sign, v, units[u])
	}
}
