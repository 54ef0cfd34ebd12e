// Package attribution says what leaks and where. A count says that
// goroutines or file descriptors grow; attribution groups goroutines by
// stack, classifies descriptors, diffs the result against a baseline and
// names the likely cause in one sentence with the evidence behind it.
//
// The watchdog calls it on a warning or critical alert. It is public so
// that a service, a test or a debug endpoint can use it on its own.
//
// # Quick start
//
//	opts := attribution.DefaultOptions()
//	base, err := attribution.Take(opts) // at start; base.Counts() is what to keep
//	...
//	opts.LeakProfile = true // first alert of an episode
//	cur, err := attribution.Take(opts)
//	report := attribution.Diff(base, cur)
//	d := attribution.Diagnose(report, attribution.Context{
//		Series: []attribution.SeriesRate{{Name: "goroutines", Level: watchdog.LevelWarning, PerMinute: 24}},
//		Pools:  []attribution.PoolStats{{Name: "docker", Open: 40, OpenDelta: 38, Waiting: 0}},
//	})
//	log.Print(d)      // "response bodies not closed on transport \"docker\" to 10.0.0.9:2376: ..."
//	log.Print(report) // Markdown tables of what grew
//
// [Report] and [Diagnosis] encode to JSON with snake_case names.
//
// # Goroutines
//
// [Take] reads runtime.GoroutineProfile: one raw stack per goroutine,
// grouped by program counters, each distinct stack symbolised once. It
// never uses pprof's debug=2 text or runtime.Stack(all), which stop the
// world for the whole dump. Each [Group] has its count, its top frame (the
// innermost frame outside the runtime and the standard library, with file
// and line) and a [WaitKind] derived from the frames: chan send, chan
// receive, select, sync (mutexes, wait groups, conds), IO wait (the network
// poller), sleep, syscall. The profile carries no wait reason, so a
// goroutine parked by a mechanism not listed reads "unknown".
//
// Above [Options.MaxGoroutines] (default [DefaultMaxGoroutines]) goroutines
// are not grouped at all and the snapshot says so in its notes: the
// runtime's profile is all or nothing, so there is no sampling.
//
// # The goroutineleak profile
//
// Go 1.27, and Go 1.26 built with GOEXPERIMENT=goroutineleakprofile, offer a
// "goroutineleak" profile: goroutines blocked on a channel, mutex or other
// primitive that no live goroutine can reach. Those are proven leaks, not
// inferences from growth. With [Options.LeakProfile] set, [Take] collects it
// where [LeakProfileAvailable] and sets [Group.Leaked]. Collecting it runs a
// full garbage collection, so ask for it once per alert episode. A goroutine
// blocked on a channel that something still references is not proven
// leaked, however long it waits.
//
// # File descriptors
//
// With [Options.FDs], [Take] reads the link of every entry of
// /proc/self/fd and classifies it ([FDKind]): TCP and UDP sockets joined by
// inode with /proc/self/net/tcp, tcp6, udp and udp6 (local and peer address,
// TCP state), unix sockets with /proc/self/net/unix (bound path; the peer of
// a connected unix socket is not shown), pipes, anonymous inodes by kind
// (eventpoll, eventfd, timerfd...), regular files by directory, devices.
// Outbound TCP connections are grouped by peer ("ESTABLISHED to
// 10.0.0.9:443"), inbound ones by the listening address. The report calls
// out CLOSE_WAIT pile-ups (the peer closed, this process did not: the classic
// unclosed response body) and TIME_WAIT pile-ups (no connection reuse).
// TIME_WAIT sockets hold no descriptor: they are counted for the whole
// network namespace.
//
// [Options.ProcRoot] points the reader at another procfs tree; the tests
// use fixture trees under testdata/. On systems without /proc descriptors
// are skipped with a note.
//
// # Heap
//
// [TakeHeap] reads the runtime's heap profile (what the "heap" profile
// calls inuse_space and inuse_objects) straight from runtime.MemProfile
// records: no protobuf is encoded or parsed, nothing is written, and the
// sampling rate (runtime.MemProfileRate, one sample per 512 KiB allocated
// by default) is never changed. Each record's samples are scaled up to an
// estimate as runtime/pprof does. Records are grouped by allocation site:
// the innermost frame outside the runtime and the standard library, so
// that memory a fmt.Sprintf or a map assignment allocates counts for the
// line that called it. [DiffHeap] compares a profile with a baseline and
// names the sites that grew, largest first:
//
//	base := attribution.TakeHeap(attribution.HeapOptions{}) // after warm-up
//	...
//	r := attribution.DiffHeap(base, attribution.TakeHeap(attribution.HeapOptions{}), 5)
//	log.Print(r.Grew[0]) // "+38 MiB in main.(*cache).put (cache.go:41)"
//
// The profile is as of the last completed collection (TakeHeap does not
// force one), and a site's figure is an estimate: it is uncertain by
// about the sampling rate times the square root of its samples, so growth
// of a few MiB is told from noise, growth of a few hundred KiB is not.
// The report also carries the live heap (/gc/heap/live:bytes) and the
// memory of goroutine stacks ([Stacks], [ReadStacks]), which neither the
// live heap nor the profile includes: where goroutines leak, the stacks'
// growth is the memory they hold beyond the heap objects they reference.
//
// Bounds: reading needs 288 bytes per profile record for the duration of
// the call, and TakeHeap refuses (with a note) over
// [HeapOptions.MaxRecords], by default [DefaultMaxHeapRecords]; a profile
// keeps at most [HeapOptions.MaxSites] sites, by default
// [DefaultMaxHeapSites], the largest, and says how many it left out and
// how much they held. runtime.MemProfile takes the profile's lock, not the
// world: the only stop-the-world pauses are those of collections that the
// call's own allocations start. BenchmarkHeapDiff measures the whole
// (profile, grouping, diff) at 1 000 and 10 000 sites; bench/README.md has
// the figures.
//
// # Diagnosis
//
// [Diagnose] joins the report with what the caller knows ([Context]: the
// alerting series and the HTTP pools' connection counts) and returns a
// [Cause]:
//
//   - [CauseUnclosedResponseBody]: net/http's persistConn readLoop and
//     writeLoop goroutines grow with sockets to one peer, and the pool's idle
//     connections do not;
//   - [CausePoolStarved]: requests wait in net/http.(*Transport).getConn
//     while a pool has waiters: MaxConnsPerHost is reached;
//   - for goroutines blocked, the primitive and the operation, read from
//     the runtime's and package sync's frames of their stack (the
//     program's own function names play no part): [CauseBlockedChannelSend]
//     and [CauseBlockedChannelReceive] (a channel nobody receives from, or
//     sends on and closes), [CauseNilChannel], [CauseEmptySelect] (select {}),
//     [CauseBlockedSelect] (no case ready), [CauseBlockedMutex] (also the
//     mutex inside a sync.Once), [CauseBlockedRWMutex] (for reading behind a
//     writer, for writing while readers hold it, or behind another writer),
//     [CauseBlockedWaitGroup] and [CauseBlockedCond]. The group that grew
//     most names the function and file:line where they wait. Only parked
//     goroutines (runtime.gopark innermost) count as blocked, and goroutines
//     not yet run (a backlog of the scheduler) are never named as the leak;
//   - [CauseFileNotClosed]: descriptors of regular files under one
//     directory grow;
//   - [CauseProvenGoroutineLeak]: the leak profile proves goroutines
//     leaked on something else;
//   - [CauseUnknown] otherwise: the summary then states the largest growth
//     as a fact rather than guess.
//
// Where the groups show the other side of a block, the summary says it,
// and only what the stacks support; the other side is looked for among
// the report's groups (those that grew, at most [Options.Top]). For a lock: a group parked past the
// lock call, in the same function at a later line, likely holds it (named
// with what it waits on); when none is, the lock was likely left locked
// (an Unlock missed on a return path). When the holders are themselves
// blocked locking, the cause becomes [CauseLockCycle]: two groups each past
// one lock call and blocked in another ("n hold the lock taken in f and
// wait for another at line L, while m hold the lock taken in g and wait
// for another at line M"), or a reader past an RLock and read-locking
// again behind a writer that waits for the readers. For a channel or a
// WaitGroup: the goroutines related by the compiler's closure names (the
// function that started a closure, its other closures) parked elsewhere;
// for a channel with none, that no goroutine that grew is parked on the
// other end (the sender returned without closing, the receiver returned
// early). A nil channel is recognised by the line at which the runtime
// parks: the first diagnosis of a channel group learns the runtime's
// line for a non-nil channel from one goroutine profile of two goroutines
// it parks and releases.
//
// With the leak profile, the proof stays the proof: the summary says the
// primitive and that the runtime proved what the goroutines wait on
// unreachable ("6 proven leaked by the goroutineleak profile"); without
// it, the evidence says the leak is inferred from growth.
//
// # Dumps
//
// A [Dumper] writes a goroutine profile in pprof format (go tool pprof
// reads it), the descriptor table and the report to a directory the caller
// names, with generated file names, mode 0600, bounded in count and bytes,
// oldest removed first. It removes only the files it wrote itself, so
// processes may share a directory. With [Dumper.Reserve] it holds a spare
// descriptor that it gives up to write a dump at EMFILE.
//
// # What is open now
//
// Where growth since a baseline does not explain what is seen (a process
// at its descriptor limit since start), [FDTable.Patterns] groups the open
// descriptors by kind and target pattern (digits in file names folded:
// "/var/log/app/leaked-*.log: 940 regular files") and
// [FDTable.Connections] the connections by peer and state.
//
// # Cost
//
// A snapshot is O(goroutines + descriptors) and reports its own cost
// ([Cost]): wall time per part, the duration of the GoroutineProfile call
// (an upper bound of its two stop-the-world pauses: the stacks themselves
// are collected while the world runs), and the number and longest of the
// stop-the-world pauses the runtime recorded meanwhile, whatever their
// cause (runtime/metrics /sched/pauses/total/*).
//
// Where the time goes:
//
//   - goroutines: runtime.GoroutineProfile (about 1 to 2 µs of CPU per
//     goroutine, 256 bytes each), then grouping and symbolising each
//     distinct stack once. Its own pauses are usually 10 to 80 µs;
//   - descriptors of the process itself (the live /proc): a walk by
//     number with fstat (about 1 µs each), which stops once it has found
//     as many as /proc/self/fd's size says are open (Linux 6.2+; an older
//     kernel or a sparse table falls back to listing the directory). A
//     socket needs nothing more: its target is "socket:[inode]". Other
//     descriptors are read with readlinkat once per (device, inode) when
//     the target names the inode (a path, a pipe), so a thousand copies
//     of one leaked file cost one readlink; anonymous inodes, which share
//     an inode across kinds, are each read. Another process's table, or a
//     fixture root, is listed and every link read;
//   - sockets of the process itself: each is asked what it is, with
//     getsockname, then for an internet socket TCP_INFO (its state) and
//     getpeername (2.1-2.5 µs a socket here), so no table of the network
//     namespace is read. A socket still connecting (SYN_SENT: getpeername
//     does not tell its peer yet) is looked up in a NETLINK_SOCK_DIAG dump
//     instead. The namespace's TIME_WAIT sockets hold no descriptor: their
//     count comes from /proc/self/net/sockstat, and from 100 of them on (a
//     pile-up worth explaining) a sock_diag dump of that state alone lists
//     them by peer. A dump walks the kernel's whole established hash table,
//     1.5-3 ms per address family here whatever the number of sockets,
//     plus about 2 µs per socket listed;
//   - sockets of another process's table, or of a fixture root: the
//     /proc/<pid>/net tables (tcp, tcp6, udp, udp6, unix), joined by inode;
//   - the leak profile, when asked for, is a full garbage collection.
//
// The two parts run one after the other unless Options.Overlap asks for
// the descriptors to be read on a second goroutine while the profile is
// taken: on two cores that cuts the wall time to about 0.65x
// (BenchmarkAttributionOverlap against BenchmarkAttribution), for about
// the same CPU time. It is off by default because a pause is what the host
// feels, and with Overlap pauses over 1 ms were about 1.6 times as
// frequent here (about 2 300 snapshots of each kind, in interleaved
// batches: as frequent in some batches, 3.5 times as frequent in others).
//
// On the VM these figures come from (a guest under nested
// virtualisation), any stop-the-world may last over 1 ms when a second
// goroutine is running: BenchmarkPauseFloor times a trivial one
// (runtime.ReadMemStats) while another goroutine spins, and 0.1 to 1% of
// them exceed 1 ms (up to 5 ms), against 1 in 6 000 with nothing else
// running. A snapshot brings two or three
// stop-the-world pauses (the profile's two, and the collector's when its
// allocations start a cycle), and 1 to 5% of snapshots here had one over
// 1 ms. Run with GOGC=off, 600 sequential snapshots paused at most 0.2 ms,
// so their long pauses are the collector's; with Overlap 1 to 2% still
// paused over 1 ms, as the profile's own stop-the-worlds then have the
// descriptor goroutine to stop.
//
// Figures, from
//
//	go test -run '^$' -bench 'Attribution|ReadlinkFloor|TakeFDs/10000|TakeGoroutines/10000$' -benchtime 20x -count 5 ./watchdog/attribution/
//
// on a shared 2-core amd64 VM with a load average about 1 and no TIME_WAIT
// socket in the namespace (medians of five runs; bench/README.md has more):
//
//	benchmark                          wall/op   cpu/op   worst pause
//	TakeGoroutines/10000               16.3 ms   21.0 ms  0.33 ms
//	TakeFDs/10000                      14.3 ms   15.9 ms  0.20 ms
//	ReadlinkFloor (10000 readlinks)    66.5 ms   69.1 ms  -
//	Attribution (10k + 10k, diffed)    42.6 ms   48.6 ms  1.57 ms
//	AttributionOverlap (the same)      25.5 ms   46.6 ms  5.24 ms
//
// The design's goal (30 ms and no pause over 1 ms at 10 000 goroutines and
// 10 000 descriptors) was set on a machine where a readlink of every
// descriptor took 14 ms: this one takes 66 ms, 4.7 times as long. Here the
// sequential snapshot misses the 30 ms except in quiet hours (29-30 ms);
// Overlap meets it; and neither keeps every pause under 1 ms (see above).
//
// # Security
//
// A report reveals the process's internals: function names, source paths,
// peer addresses and ports, file paths and unix socket paths. Serve it only
// to operators (behind the same protection as net/http/pprof), and keep the
// dump directory private: the Dumper creates it 0700 and files 0600, and
// no request parameter ever reaches a file name.
package attribution
