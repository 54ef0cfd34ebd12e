// Package watchdog lets a Go service watch itself for leaks: goroutines, file descriptors, HTTP
// connections, threads and memory. One call in main starts one sampling goroutine that reads
// the process's figures every second, judges their growth against the thresholds of a
// connection-pool smoke test, and reports through zap or log/slog logs, alert handlers,
// Prometheus (package [github.com/leakwatch/leakwatch/exporter]) and a self-reporting HTTP
// endpoint, with no outside scraper, script or sidecar.
//
// # Quick start
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		logger, _ := zap.NewProduction()
//		w, err := watchdog.Start(ctx, watchdog.DefaultConfig(), watchdog.WithLogger(logger))
//		if err != nil {
//			log.Fatal(err) // a bad Config: the error names every bad field
//		}
//		defer w.Stop()
//		// ... the service ...
//	}
//
// From then on a goroutine leak of 20/min is logged as a warning, a descriptor leak heading for
// RLIMIT_NOFILE within the hour as an error, and [Watchdog.Snapshot] tells every series' value,
// growth rate per minute and level at any time.
//
// # Series
//
// Every tick reads these series into a fixed-size sample (no allocation in the steady state):
//
//	goroutines          runtime.NumGoroutine
//	goroutines_created  /sched/goroutines-created:goroutines (Go 1.26+): churn beside the live count
//	threads             /sched/threads/total:threads (Go 1.26+); limit: debug.SetMaxThreads (10000)
//	heap_bytes          /memory/classes/heap/objects:bytes; limit: GOMEMLIMIT, else the cgroup limit
//	rss_bytes           /proc/self/statm (Linux); limit: the cgroup memory limit
//	fds                 open descriptors (Linux); limit: fd_limit
//	fd_limit            the soft RLIMIT_NOFILE (Linux)
//	heap_live_bytes     /gc/heap/live:bytes: the heap the last collection marked live (see Memory)
//	http_<pool>_*       per HTTP pool given with [WithHTTPPool]: requests, errors, responses_5xx,
//	                    open, active, idle, reuse_ratio, waiting (see [HTTPSeries])
//	<gauge>             any func() float64 given with [WithGauge]
//
// goroutines and fds are read at every tick; the runtime/metrics figures (threads,
// goroutines_created, heap_bytes), rss_bytes and fd_limit, which move slowly and cost more, every
// 5 s, holding their value in between. Runtime figures come from runtime/metrics, never
// runtime.ReadMemStats (which stops the world). On Go 1.25, whose runtime lacks the two
// Go 1.26+ metrics, goroutines_created and threads stay unread (not valid) and never alert.
// The FD count is an fstat of a /proc/self/fd directory opened once at Start: since Linux 6.2
// its size is the number of open descriptors, so the count is O(1), needs no new descriptor and
// stays exact when the process has run out of them. Older kernels fall back to re-reading that
// same open directory. On systems other than Linux the process series report Unsupported and
// everything else works.
//
// # Configuration
//
// [Config] is plain data; start from [DefaultConfig], which holds the smoke test's thresholds
// (a zero field means its default, so Config{} is the same; "none" has a name of its own,
// [NoJitter], [NoWarmup]):
//
//	series       notice     warning    critical   also
//	goroutines   >= 10/min  >= 20/min  >= 50/min
//	fds          >= 5/min   >= 15/min  >= 30/min  limit reached within 6 h: warning, 1 h: critical
//	threads, heap_bytes, rss_bytes                limit reached within 6 h / 1 h
//	heap_live_bytes  notice >= 1 MiB/min or 5 %/h, warning >= 2 MiB/min or 10 %/h (of max(live,
//	                 288 MiB), whichever is lower), no critical; limit as heap_bytes (see Memory)
//	http_<pool>_errors     any increase: warning
//	http_<pool>_idle       0 while requests flow: warning
//	http_<pool>_reuse_ratio  < 0.8 while requests flow: notice
//	http_<pool>_open       like fds
//
// Every rule can be replaced per series in Config.Rules, and gauges take rules the same way.
//
// # Memory
//
// What is judged for growth is the live heap, heap_live_bytes: what the last completed garbage
// collection marked reachable (runtime/metrics /gc/heap/live:bytes). It moves with what the
// program keeps, not with how fast it allocates: heap_bytes also counts the garbage not yet
// collected, and so swings by up to GOGC percent between two collections; rss_bytes also
// counts goroutine stacks, the runtime's own memory and pages the runtime has not returned to
// the OS yet (which it returns minutes later, or never below GOMEMLIMIT), so neither is judged
// for growth, only against a limit. The live heap is read with the slow series, every 5 s, and
// a reading is new only when a collection has completed since the last one: between
// collections, seconds to minutes apart in a program that allocates little, the series is
// unread, and an unread tick neither estimates nor resets anything but lets a raise the last
// reading supported confirm on time. Before the first collection nothing is read. Goroutine
// stacks are not in it: a goroutine leak shows in goroutines (and in the heap evidence's stack
// line, below).
//
// Its rule ([HeapLiveRule]) has absolute and relative thresholds: notice at 1 MiB/min or
// 5 %/h, warning at 2 MiB/min or 10 %/h, the percentages of max(live heap, 288 MiB),
// whichever threshold is lower; no critical for growth; exhaustion against GOMEMLIMIT or the
// cgroup limit as for heap_bytes. A live heap that is flat or bounded (a GC sawtooth, a
// cache that fills and then evicts, a batch buffer flushed every few minutes) must never
// alarm, and one that keeps a few MiB per minute for tens of minutes must: 2 MiB/min is 2.8 GiB
// a day. The percentages catch a slow leak of a small heap (10 %/h of 288 MiB is
// 0.48 MiB/min) and grade only after 40 minutes of uptime, since a cache filled at start-up
// still grows by a fraction of a MiB per minute for half an hour; above 1.2 GiB the absolute
// rates are the lower. The live heap is judged over a longer window than the other series,
// because its readings are few and caches flush on longer periods: four Windows (20 min),
// after a quiet warm-up of 1.2 Warmups (6 min: start-up fills of tens of MiB/min raise
// nothing; a limit reached still does), confirmed and resolved in twice Confirm and Resolve
// (2.5 and 5 min). A leak fast enough to show before that window has filled is raised by the
// detector's fast rule once the heap rose a window's worth of the warning threshold (40 MiB)
// growing steadily over every segment length down from 4 minutes: `examples/logcapturer
// -leak-heap 4096`, which keeps 4 MiB of log lines a minute (about 6 MiB/min of live heap), is
// warned within 10 minutes of its start (the warning waits for the collection that brings the
// 40 MiB, then for Confirm shortened by the rate; bench/README.md has the runs). The
// detection corpus of live-heap traces
// (internal/trend/testdata/heap) is scored in go test: no false alarm, no miss.
//
// A heap_live_bytes alert at warning or above carries heap evidence ([EvidenceHeap]): the
// runtime's heap profile (inuse_space, at the program's own runtime.MemProfileRate, which the
// watchdog never changes) read on the attribution goroutine and diffed against the one taken
// with the attribution baseline, by allocation site: "live heap +52 MiB (now 60 MiB) since the
// baseline 9m0s ago; the most, +49 MiB in main.(*heapLeaker).rememberLine (leaks.go:120)".
// When goroutines grew too, the goroutine stacks' growth is joined to it. The diff costs
// O(sites); bench/README.md, "What does the heap diff cost?", has its figures.
// Collaborators are [Option]s: [WithLogger] (zap) or [WithSlog] (log/slog), [WithClock],
// [OnAlert], [WithGauge], [WithHTTPPool], [WithProcRoot], [WithSmokeOutput], [OnSmokeDone].
// [Start] validates everything first and returns one error naming every bad field (wrapping
// [ErrInvalidConfig]); then nothing is started.
//
// # Sampling
//
// One goroutine samples every series once per Interval (1 s by default). The first sample is
// taken at Start; each later one at a random instant of its Interval ([Config.Jitter], 1 by
// default), so that the watchdog does not alias with the host's own periodic work: a service
// that polls every second, sampled on a one-second grid, would be seen at the same phase of its
// poll every time, its connection always busy or its burst of goroutines always there or never.
// The delays come from a fixed-seed generator, so runs in a synctest bubble stay reproducible.
//
// # Detection
//
// A leak is sustained growth of a series' floor, the level it returns to between bursts. The
// detector keeps, for each of 10 time slots per Window (5 min by default), only the slot's
// lowest sample; it drops single odd slots with a running median, takes the floor over whole
// cycles (a series that has already risen and come back down, like a recycled pool, must
// outlast its longest such cycle before a rise counts), forms the lower envelope (the lowest the
// series goes from each point on) and takes its Theil–Sen slope, per minute. Bursts that return
// to their floor, sawtooth recycling and a warm-up that levelled off leave that envelope flat; a
// leak raises it. The slope raises a level only when the growth is consistent (most slot
// minima, floored over the cycles, above the earlier ones: Kendall's tau at least 0.4) and the
// floor rose over the window by at least three times the noise of its slot-to-slot changes: a
// pool recycled every few seconds, which slots of a few seconds alias into minima that jump by
// most of its amplitude, does not raise it at any Window. A single large rise that then holds flat is a one-time step and is forgiven;
// repeated comparable steps are a staircase leak. Every rule (growth, exhaustion, the floor rules
// of HTTP pools, increases of error counters, a limit reached) shares one hysteresis: a level
// is raised once its rule has held for Confirm (Window/4) and lowered after Resolve (Window/2)
// without support (growth below 0.6 × the threshold, a floor no longer broken), so a leak that
// stops resolves once, and a starved pool that shows one idle connection now and then stays one
// warning, without flapping. A value at its limit and an error counter's increase are facts,
// not estimates: they are raised on the sample that shows them. Exhaustion forecasts use the
// same floor over three windows; growth that decelerates (its newer half slower than its
// older) is projected to the level it tends to, and a fill levelling off below the limit is
// not forecast to reach it. The estimate is refreshed when a slot closes (every 30 s by
// default); between, a step costs well under a microsecond. Memory per series is fixed, whatever the
// uptime or the sampling interval.
//
// # Warm-up and fast leaks
//
// Leaks are often born with the process, so the warm-up does not blind the detector. During
// Warmup (5 min by default) and until the window estimate has a full Window of data, the window
// estimate grades nothing (a pool filling at start-up is not growth), but a second, fast rule
// grades every slot from the first sample: it looks at the newest slot minima in segments (one
// slot to a third of the Window) and supports a level when
//
//   - the newest segment grows at the level's threshold or faster, at least 0.8 × as fast as the
//     segment before (a start-up fill decelerates and ends; this does not), and that one at
//     least half as fast (a step or a burst's edge sits in one segment; this is growth in both);
//   - the rise over the last three segments is at least 2 × the threshold × Window (what a leak
//     at the threshold adds in two windows) and twice the largest fall the series has shown (a
//     recycled pool may rise again by what it fell). In warm-up the bar is that of the highest
//     threshold for every level, before the window estimate is ready that of the warning one:
//     what no start-up fill can be.
//
// Speed scales the verdict: a faster leak clears the bar sooner, and Confirm shrinks in
// proportion to its rate over the threshold, so with the defaults a leak at 10 × the critical
// rate is critical about a minute after it starts, from the first sample or later (the
// figures against the rate are in bench/README.md). A value at its limit (FDs at
// RLIMIT_NOFILE, threads at the maximum, memory at its limit) is critical on the sample that
// shows it, whatever the warm-up or Confirm, and so is steady growth that reaches the limit
// within a Window (not growth that decelerates towards a level below it: a start-up fill). An
// alert's reason and [Alert].Window give the span its rate was judged over: "growing 5000/min
// over 1m30s" for a fast leak caught before a full Window. The warm-up also sets when the
// attribution baseline is taken.
//
// The trade-off is latency against false alarms: a longer Window resists longer bursts and
// slower sawtooth periods, a shorter one detects sooner. Every time constant derives from
// Window, so a test or demo with a 200 ms Interval and a 6 s Window behaves like production with
// 5 minutes. On the labelled detection traces (leaks after start, and leaks from the first
// seconds beside start-up fills and bursts) the defaults raise no false alarm and miss no leak,
// within latency goals that TestCorpusTraces and TestCorpusEarly enforce; the latencies, beside
// a careful Prometheus rule's, are in bench/README.md ("How does the detector score?"). A leak
// under a sawtooth is graded from the cycle bottoms, about one period later than a plain leak.
// A pool that adds a worker every 250 ms up to 40 and then recycles them all raises nothing at
// any Window from 30 s to 5 min, sampled every second, every 250 ms or at random instants.
//
// The engine is a pure function of the samples and their times: [Replay] runs a recording made
// with Config.Record (or any trace in the same CSV format) through exactly the code the live
// watchdog runs, so a production recording reproduces its verdicts and can be used to tune
// rules. bench/replay is that, as a command.
//
// # Alerts
//
// Every change of a series' level is one [Alert]: series, level and previous level, cause, rate
// per minute, window, value, baseline, limit, time to exhaustion and the reason in words. It is
// logged at once (warning at Warn, critical at Error, notices and resolutions at Info, as
// structured fields), kept in the snapshot's recent alerts, and handed to [OnAlert] handlers on
// a goroutine of their own: a handler that is slow, blocks or panics never delays sampling;
// panics are recovered and counted, and alerts that do not fit the bounded queue are dropped for
// the handlers and counted. Goroutine alerts carry the creation rate beside the retained growth
// ("created 3000/min, retained 25/min"). Alerts are numbered ([Alert].ID) in the order raised.
//
// An alert at warning or critical carries [Evidence] for its own series, attached by its ID:
// goroutine groups for goroutines, descriptors for fds (with what is open now by kind and target
// pattern, "/var/log/app/leaked-*.log: 940 regular files", where growth does not explain the
// alert, as at the limit), and the pool's figures and connections by peer and state for an HTTP
// pool's series. It is diffed against a baseline of counts taken at Start (refreshed once, a
// Window after the warm-up, if nothing left ok and the counts stopped growing), so that a leak
// present from start shows its full growth. Each series has its own cooldown, which holds back
// alerts of the level already explained, not an escalation: a critical alert seconds after a
// warning gets a snapshot of its own. An alert held back, or with attribution disabled, carries
// evidence that says why it has no snapshot. At
// EMFILE the evidence still arrives: the descriptors and sockets are read through handles opened
// at Start, and a dump through a spare descriptor held for it (or its error says why not). When
// the goroutines or fds series resolves, its evidence says what remains above the baseline; and
// goroutines left behind after growth stops (proven leaked by the goroutineleak profile, or
// blocked sending on a channel with none returned over half a Window) raise a notice with cause
// "residue" that names them and stands until they are gone. Looking for them costs a goroutine
// snapshot every half Window while the goroutine count is at least 10 above the baseline.
//
// A log record's fields have the names of the alert's JSON keys (series, alert_level,
// previous_level, cause, value, baseline, rate_per_min, window_s, reason, ...; durations in
// seconds, in logs and JSON alike). Once attributed, the alert is logged again as
// "attribution", with an evidence object (a nested group in slog). [WithSlog] gives a
// log/slog logger the same records as [WithLogger] gives a zap one: one logging path, two
// sinks. [Alert] and [Evidence] are slog.LogValuers for handlers that log them themselves.
//
// # Smoke runs
//
// A smoke run is the seed's connection-pool smoke test done in-process. Start it with
// Config.Smoke.Enabled, with [Watchdog.StartSmoke], or by POST /smoke when
// [HandlerOptions].AllowSmokePOST is set. After Smoke.Warmup the baseline is taken, then a
// checkpoint every Smoke.Checkpoint (default 2m) for Smoke.Duration (default 30m), each line
// written to the [WithSmokeOutput] writer and logged with structured fields:
//
//	=== Connection Pool Smoke Test (30min) ===
//	Start: Fri Nov  7 12:11:19 -03 2025
//	Getting baseline...
//	Baseline: GOR=95 FD=22
//
//	[1/15] 2min: GOR=98 (+3, 1.50/min) FD=22 (+0, 0.00/min)
//	...
//	Complete: Fri Nov  7 12:41:19 -03 2025
//
// Growth is counted from the baseline, and rates are per minute since the baseline. The run
// passes when every must-have holds: it ran the full duration, goroutines grew below the
// goroutines rule's lowest growth threshold (NoticePerMin, 10/min by default), FDs below the
// fds rule's (5/min), no restart, and HTTP metrics were read at every checkpoint (when a pool
// is configured): tightening Config.Rules tightens the verdict ([SmokeTargets]).
// Nice-to-haves are reported beside them: idle connections > 0, reuse > 80%, goroutines and
// FDs under half and two fifths of their must-have (5 and 2/min by default). While the run is
// going, a criterion that cannot be judged yet (the full duration, a figure not measured yet)
// is pending, never failed. A finished run lists the series that grew and the alerts raised
// during it, with their evidence. [Watchdog.SmokeReport] returns the current or last run at
// any time; [OnSmokeDone] hands each finished run's report to a callback, so that nothing
// polls. A run more than 1.5 checkpoint intervals without a checkpoint is reported as
// stalled. With Smoke.ResultsDir, a finished run writes smoke_test_<ts>.log,
// metrics_final_<ts>.json and smoke_report_<ts>.md and .json there (mode 0600; <ts>_2, _3, ...
// when those names are taken). With Smoke.StateFile, a run survives a restart: Start resumes
// it against its baseline and counts the restart. A corrupt or foreign state file is set aside
// as .corrupt-<time> and noted, never trusted and never fatal; a state file owned by another
// live process, or one that cannot be used, is left alone and the run kept in memory, saying
// so (see Reliability).
//
// # HTTP
//
// [Watchdog.Handler] returns an http.Handler; nothing registers itself. It serves paths ending
// in /smoke and /watchdog, so mount it under any prefix:
//
//	mux.Handle("/debug/", http.StripPrefix("/debug", w.Handler(watchdog.HandlerOptions{})))
//
// GET /debug/smoke returns the run as JSON; ?format=text gives the lines, ?format=md the
// filled-in report template, and ?format=html a self-contained page: the run's phase (running
// with its progress, passed, failed; a criterion not judged yet is pending), charts of the
// whole run (kept at 600 columns per series whatever HistorySize) on clock-time axes with the
// baseline, the threshold, the checkpoints and the alerts marked and sampling noise as a band,
// what grew in its units, and the alerts' evidence laid out. GET /debug/watchdog returns every
// series' value, rate, level and time to exhaustion, the recent alerts with their evidence,
// and the heartbeat; ?format=html is the same as a live status page for a person, with
// sparklines and the watchdog's own health, refreshed every 5 s. Every format escapes what it
// prints. Unknown or repeated parameters are 400, other methods 405. GET never changes
// anything.
//
// # Metrics
//
// Package [github.com/leakwatch/leakwatch/exporter] turns a running watchdog into a
// prometheus.Collector for the user's own registry (with namespace log_capturer, the seed's
// queries such as log_capturer_goroutines and log_capturer_docker_http_idle_connections work
// unchanged), and generates Prometheus alerting rules with the same thresholds for fleets.
//
// # Cost and footprint
//
// A tick allocates nothing and costs about a microsecond in a hot loop (BenchmarkTick), some
// microseconds at a real interval, where it finds the caches cold; bench/README.md ("What does
// a tick cost?") has the figures. Attribution, which is O(goroutines + descriptors), runs only
// on alerts, off the sampling goroutine, and reports its cost.
//
// The watchdog holds five descriptors on Linux (/proc/self/fd and /proc/self/statm for the
// probes; for attribution a /proc/self/fd of its own, a sock_diag socket and
// /proc/self/net/sockstat, so that descriptors and sockets are still classified when the
// process has none left), a sixth with Attribution.DumpDir (the dump's spare), and one more
// while a smoke state file is in use (its lock, StateFile.lock). Goroutines: one samples, one
// takes the attributions and logs their evidence, one runs each [OnAlert] handler and one each
// gauge, and from the first smoke run that writes output, files or [OnSmokeDone] callbacks, one
// does that I/O, one feeds the [WithSmokeOutput] writer and one runs the callbacks. The
// history is a ring of Config.HistorySize samples per series. [Watchdog.Stop] waits for its
// goroutines and releases the descriptors. A wedged watchdog is visible: [Snapshot] carries the
// last tick's time and a Stalled flag.
//
// # Reliability
//
// The watchdog runs the user's code (alert handlers, gauges, the logger, the smoke output
// writer and completion callbacks, an injected [Clock]) and must survive it:
//
//   - Each [OnAlert] handler and each [WithGauge] gauge runs on a goroutine of its own. One that
//     blocks forever holds up only itself: sampling, the log, the snapshot, the evidence and the
//     other handlers go on. One that panics is recovered and counted.
//   - The [WithSmokeOutput] writer and the [OnSmokeDone] callbacks run on goroutines of their
//     own, apart from the one that writes the state file and the results: a writer or callback
//     that blocks loses only its own lines or reports (the writer's queue holds at most 1 MiB
//     of lines, the callbacks' 64 runs; the excess is dropped, counted and logged), never a
//     state or results write. One that panics is recovered and logged.
//   - [Watchdog.Stop] returns within 5 s of its first call. Handlers, gauges, the smoke writer
//     and the callbacks share that one grace; those that have not returned by then are left
//     behind and named in Stop's error (for the smoke writer, with the count of lines lost), and
//     hold no descriptor (every descriptor is the watchdog's own and closed by Stop). Stop may
//     be called from a handler, a gauge or the logger; it does not wait for the caller.
//   - A panic in the sampling tick (a Clock whose Now panics, or a bug of the watchdog's) loses
//     that tick's sample only: it is recovered, counted ([Snapshot].TickPanics) and logged with
//     its stack, every lock the tick holds is released by defer, and the next tick runs. A
//     logger core or slog handler that panics loses its record, counted
//     ([Snapshot].LogPanics), wherever the watchdog logged it from.
//   - A reading that is NaN or ±Inf (a gauge's, or any probe's) is no reading: the series counts
//     an error, the engine skips the sample, the recording writes NaN, and every figure of a
//     [Snapshot], an [Alert], GET /watchdog and the smoke results is finite, so they always
//     encode.
//   - The logger runs on the sampling goroutine: a logger whose writes block stalls sampling
//     (visible as [Snapshot].Stalled), and Stop then returns an error at its bound. It is the
//     one callback that can.
//   - Every size and duration of [Config] has an upper bound checked with overflow-safe
//     arithmetic and named in the error: Interval 1 h; Window, Warmup, Confirm, Resolve and
//     StallAfter 24 h; HistorySize 1<<20; RecentAlerts and AlertQueue 1<<16; Record.MaxFiles
//     1000; a smoke run's Duration and Warmup 366 days each, and 4096 checkpoints.
//
// Smoke and recording data survive restarts and other processes:
//
//   - A state file is owned through a lock file beside it (<StateFile>.lock; flock on Unix,
//     LockFileEx on Windows; released by Stop or when the process dies). A second process (or
//     watchdog) pointed at a state file whose owner is alive does not touch it: it runs its own
//     run in memory, and the report says so, naming the owner's PID when it can. The same holds
//     when the state file's directory does not exist, when the path is not a regular file (a
//     directory), or when the file cannot be read (permission denied): the file is left as it
//     is, and the run, kept in memory, says so in a note and an output line, in every format.
//     Only a file that was read and found corrupt or foreign is moved aside, as
//     .corrupt-<time>.
//   - The state file of the longest run the config allows (366 days, 4096 checkpoints) is about
//     2.3 MB, under the loader's 4 MiB cap, and a checkpoint costs the tick the same at the
//     4096th as at the first: the tick hands the writer only what the state gained, and the
//     writer writes the file (bench/README.md). A resumed run saves its restart at once; its
//     notes (32) and "Resumed:" lines (16) are capped, so a crash loop is counted in Restarts
//     without growing the file.
//   - Result files are reserved with O_EXCL: a run whose names are taken (another run started
//     in the same second, or another program's file) adds _2, _3, ... to its timestamp. No
//     file is overwritten.
//   - A recording found at Record.Path at Start is kept as Path.1, as a rotation does.
//   - The dump directory's pruning removes only the files this watchdog wrote.
//
// # Security
//
// Snapshots, alerts and the HTTP views reveal goroutine counts, descriptor counts and, with
// attribution, function names, file paths and peer addresses. Serve them on loopback (the
// example does) or behind authentication. Nothing registers itself on any mux, GET requests
// never change anything, and no request parameter reaches the filesystem: POST /smoke sets a
// run's durations (bounded as above), never its state file or results directory. Files the
// watchdog writes are mode 0600 in directories it creates 0700; it deletes or moves only files
// it made (rotated recordings, its own dumps, its temporary files) and a state file it read
// and found corrupt.
//
// The code the host hands in (handlers, gauges, the logger, the smoke writer and callbacks,
// a Clock) is trusted not to be malicious, but not to behave. What such code can do: a
// logger that blocks stalls sampling; a callback that blocks or panics loses its own work and,
// at Stop, leaves its goroutine behind (named in Stop's error). What it cannot do: crash the
// host through the watchdog (its panics are recovered), stop sampling (apart from a blocking
// logger), stop the state file, the results or the evidence, or make Stop wait more than 5 s.
// Handlers, gauges, the smoke writer and the callbacks never run under a lock of the
// watchdog's; the logger may (a smoke run logs under its own lock), so a logger that blocks
// also holds up [Watchdog.SmokeReport] and /smoke. Code that is malicious (that calls
// os.Exit, corrupts memory through unsafe, or spins forever on every core) is outside what a
// library in the same process can defend against. Gauge names that a recording reserves ("t",
// NAME_limit) are rejected at Start.
//
// # Testing
//
// Inject a clock with [WithClock], or run the watchdog inside a testing/synctest bubble, where
// its ticker follows the bubble's fake time: minutes of behaviour take milliseconds. A test that
// needs samples exactly on the Interval grid sets Config.Jitter to [NoJitter]; an injected
// Clock's ticks are taken as they come, without jitter.
package watchdog
