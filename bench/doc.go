// Package bench measures what the watchdog costs the process that links it in, beside the
// libraries a service would otherwise use to watch itself. It holds benchmarks and measuring
// tests only, plus [TickCost], the one public way to time the watchdog's own ticks from outside
// the watchdog package.
//
// # What is measured
//
//   - Cost per sample: [TickCost] for a running watchdog, beside one Collect of client_golang's
//     process and Go collectors, procfs Self().Stat() with FileDescriptorsLen,
//     runtime.ReadMemStats (which stops the world) and runtime/metrics reads
//     (BenchmarkPerSample).
//   - CPU overhead on a busy HTTP service: a loopback server under load, with and without a
//     watchdog at its defaults, interleaved, compared by process CPU time per request
//     (TestCPUOverhead); and the watchdog's own CPU per second from its Snapshot cost.
//   - Memory over a simulated week of one-second samples in a testing/synctest bubble: the heap
//     must stay flat (TestWeekOfSamples).
//
// The peers that are only used for comparison (mosn.io/holmes and the gopsutil calls it makes)
// live in bench/peers, a module of its own, so that the library's users never download them.
// bench/replay is the detection scorer's replay program, bench/heaptraces the generator of the
// live-heap detection traces. bench/README.md holds the figures, one section per question (what
// does a tick cost, what does attribution cost, how does the detector score, ...), each with
// the current figure first, the exact command that reproduces it and the machine it came from.
//
// # Running
//
//	go test ./bench                                    # the tests at their default sizes
//	go test -run XXX -bench . -benchmem -count 6 ./bench
//	go test -run CPUOverhead -v ./bench -overhead.rounds 6 -overhead.requests 40000
//	go test -run WeekOfSamples -v ./bench -week.days 30   # a month
//	cd bench/peers && go test -bench . -benchmem -count 6
//
// Under the race detector CPU figures are meaningless, so TestCPUOverhead skips itself there.
package bench
