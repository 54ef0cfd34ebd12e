// Command logcapturer is the seed's service in miniature: a Docker log capturer that embeds the
// leakwatch watchdog the way a user would, so that every command of the connection-pool smoke
// test guide works against it unchanged, and so that its leaks can be switched on to watch the
// watchdog catch them.
//
// Every second it lists the containers of a Docker daemon and copies each one's recent log
// lines to a sink, through one pooled http.Transport dialing the daemon's unix socket,
// instrumented as the pool "docker". By default it serves a small Docker-API-like daemon
// in-process over a unix socket in a temporary directory, so it runs anywhere;
// -docker-host unix:///var/run/docker.sock points it at a real daemon instead.
//
// It serves, on loopback by default (the seed's ports):
//
//	127.0.0.1:8001  /metrics   the watchdog's exporter (namespace log_capturer), process and Go collectors
//	127.0.0.1:8401  /health    {"status":"healthy", ...}; "unhealthy" (503) on a critical level or a stalled watchdog
//	                /smoke     the smoke run (JSON, text, Markdown report, HTML charts)
//	                /watchdog  the watchdog's state
//	127.0.0.1:6060  /debug/pprof/...
//
// A one-minute demo that passes, and one that fails on a goroutine leak:
//
//	go run ./examples/logcapturer -smoke 1m -checkpoint 10s -exit-after-smoke
//	go run ./examples/logcapturer -smoke 1m -checkpoint 10s -exit-after-smoke -leak-goroutines 300
//
// Checkpoint lines go to stdout as they happen, logs to stderr. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leakwatch/leakwatch/exporter"
	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// Exit statuses.
const (
	exitOK    = 0 // normal shutdown, or a smoke run that passed
	exitFail  = 1 // a smoke run that failed, or a runtime error
	exitUsage = 2 // bad flags
)

// metricsNamespace is the exporter's namespace: log_capturer_goroutines,
// log_capturer_docker_http_idle_connections, as the seed's queries expect.
const metricsNamespace = "log_capturer"

// shortSmoke is the run length under which the detector's time constants are derived from the
// run (see options.derive).
const shortSmoke = 5 * time.Minute

// options are the command's flags.
type options struct {
	metricsAddr, healthAddr, pprofAddr string

	dockerHost string
	containers int
	tail       int
	every      time.Duration
	sink       string

	smoke, checkpoint          time.Duration
	interval, window, warmup   time.Duration
	results, record            string
	exitAfterSmoke, alertRules bool
	allowSmokePOST             bool
	logJSON                    bool
	alertSelector              string

	leakGoroutines, leakFDs, leakConns, leakHeap int

	set map[string]bool // flags given on the command line
}

func newFlagSet(o *options) *flag.FlagSet {
	def := watchdog.DefaultConfig()
	fs := flag.NewFlagSet("logcapturer", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:8001", "`address` of the /metrics server")
	fs.StringVar(&o.healthAddr, "health-addr", "127.0.0.1:8401", "`address` of the /health, /smoke and /watchdog server")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "127.0.0.1:6060", "`address` of the /debug/pprof server")

	fs.StringVar(&o.dockerHost, "docker-host", "", "Docker daemon `address` (unix:///var/run/docker.sock); empty: serve a fake daemon in-process")
	fs.IntVar(&o.containers, "containers", 4, "containers of the in-process fake daemon")
	fs.IntVar(&o.tail, "tail", 20, "log lines fetched per container and cycle from the fake daemon (a real one: 10)")
	fs.DurationVar(&o.every, "every", time.Second, "time between two capture cycles")
	fs.StringVar(&o.sink, "sink", "", "`file` the captured lines are appended to; empty: discard them")

	fs.DurationVar(&o.smoke, "smoke", watchdog.DefaultSmokeConfig().Duration,
		"`duration` of the smoke run started with the watchdog; 0: continuous watching only.\n"+
			"Under 5m, the flags -checkpoint, -interval, -window and -warmup that are not given are derived\n"+
			"from it so that a short run judges something: checkpoint = smoke/6 (when 2m does not fit),\n"+
			"interval = min(1s, checkpoint/10), window = max(smoke/4, 5 intervals), warmup = window/2")
	fs.DurationVar(&o.checkpoint, "checkpoint", watchdog.DefaultSmokeConfig().Checkpoint, "time between two smoke checkpoints")
	fs.DurationVar(&o.interval, "interval", def.Interval, "sampling interval of the watchdog")
	fs.DurationVar(&o.window, "window", def.Window, "the detector's window: the span growth is estimated over")
	fs.DurationVar(&o.warmup, "warmup", def.Warmup, "the detector's warm-up: samples in it are not judged")
	fs.StringVar(&o.results, "results", "", "`directory` for the smoke run's output log, metrics and report")
	fs.StringVar(&o.record, "record", "", "record every sample as CSV to `file`, for watchdog.Replay and bench/replay")
	fs.BoolVar(&o.exitAfterSmoke, "exit-after-smoke", false, "exit when the smoke run finishes: status 0 on PASS, 1 on FAIL")
	fs.BoolVar(&o.allowSmokePOST, "allow-smoke-post", false, "let POST /smoke (on -health-addr) start a smoke run")
	fs.BoolVar(&o.alertRules, "alert-rules", false, "print the generated Prometheus alerting rules and exit")
	fs.StringVar(&o.alertSelector, "alert-selector", `{job="log_capturer"}`,
		"PromQL label `matchers` -alert-rules adds to every expression, so that the rules judge only this job; empty: none")
	fs.BoolVar(&o.logJSON, "log-json", false, "log JSON lines (default: console lines for humans); logs go to stderr")

	fs.IntVar(&o.leakGoroutines, "leak-goroutines", 0, "leak `N` goroutines per minute (blocked forever on a channel send)")
	fs.IntVar(&o.leakFDs, "leak-fds", 0, "leak `N` file descriptors per minute (files opened and never closed)")
	fs.IntVar(&o.leakConns, "leak-conns", 0, "leak `N` docker connections per minute (response bodies never closed)")
	fs.IntVar(&o.leakHeap, "leak-heap", 0, "retain `N` KiB of log lines per minute (in a map never pruned)")
	return fs
}

// parseOptions parses args and derives the short-demo settings.
func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := newFlagSet(o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.derive()
	var errs []error
	if o.smoke < 0 {
		errs = append(errs, fmt.Errorf("-smoke %v: must be >= 0", o.smoke))
	}
	if o.exitAfterSmoke && o.smoke == 0 {
		errs = append(errs, errors.New("-exit-after-smoke needs a smoke run (-smoke > 0)"))
	}
	if o.every <= 0 {
		errs = append(errs, fmt.Errorf("-every %v: must be > 0", o.every))
	}
	if o.tail < 0 {
		errs = append(errs, fmt.Errorf("-tail %d: must be >= 0", o.tail))
	}
	if o.leakGoroutines < 0 || o.leakFDs < 0 || o.leakConns < 0 || o.leakHeap < 0 {
		errs = append(errs, errors.New("leak rates must be >= 0"))
	}
	return o, errors.Join(errs...)
}

// derive fills in, for a smoke run shorter than shortSmoke, the settings not given on the
// command line, so that a one-minute demo has several checkpoints and a detector that can
// judge within it.
func (o *options) derive() {
	if o.smoke <= 0 || o.smoke >= shortSmoke {
		return
	}
	if !o.set["checkpoint"] && o.checkpoint > o.smoke/2 {
		o.checkpoint = o.smoke / 6
	}
	if !o.set["interval"] {
		o.interval = min(time.Second, o.checkpoint/10)
	}
	if !o.set["window"] {
		o.window = max(o.smoke/4, 5*o.interval)
	}
	if !o.set["warmup"] {
		o.warmup = o.window / 2
	}
}

// config is the watchdog configuration the options describe.
func (o *options) config() watchdog.Config {
	cfg := watchdog.DefaultConfig()
	cfg.Interval = o.interval
	cfg.Window = o.window
	cfg.Warmup = o.warmup
	cfg.Record.Path = o.record
	if o.smoke > 0 {
		cfg.Smoke.Enabled = true
		cfg.Smoke.Duration = o.smoke
		cfg.Smoke.Checkpoint = o.checkpoint
		cfg.Smoke.ResultsDir = o.results
	}
	return cfg
}

func newLogger(json bool) (*zap.Logger, error) {
	c := zap.NewProductionConfig()
	c.Sampling = nil           // never drop an alert
	c.DisableStacktrace = true // alerts are logged at error level; the sampler's stack says nothing
	if !json {
		c.Encoding = "console"
		c.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
		c.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		c.EncoderConfig.EncodeDuration = zapcore.StringDurationEncoder
	}
	return c.Build()
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(exitOK)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "logcapturer:", err)
		os.Exit(exitUsage)
	}
	os.Exit(run(o))
}

// run runs the capturer until a signal or, with -exit-after-smoke, the end of the smoke run,
// and returns the exit status.
func run(o *options) int {
	if o.alertRules {
		if err := printAlertRules(os.Stdout, o.alertSelector); err != nil {
			fmt.Fprintln(os.Stderr, "logcapturer:", err)
			return exitFail
		}
		return exitOK
	}
	logger, err := newLogger(o.logJSON)
	if err != nil {
		fmt.Fprintln(os.Stderr, "logcapturer: logger:", err)
		return exitFail
	}
	defer logger.Sync() //nolint:errcheck // stderr
	status, err := serve(o, logger)
	if err != nil {
		logger.Error("logcapturer failed", zap.Error(err))
		return exitFail
	}
	return status
}

// serve wires the service and the watchdog, runs them and shuts everything down.
func serve(o *options, log *zap.Logger) (status int, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The Docker daemon: a real one, or the in-process fake.
	var socket string
	if o.dockerHost != "" {
		if socket, err = parseDockerHost(o.dockerHost); err != nil {
			return exitUsage, err
		}
	} else {
		d, err := startDockerAPI(o.containers)
		if err != nil {
			return exitFail, err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if cerr := d.close(sctx); cerr != nil {
				log.Warn("fake docker daemon shutdown", zap.Error(cerr))
			}
		}()
		socket = d.socket
		log.Info("fake docker daemon", zap.String("docker_host", d.Host()), zap.Int("containers", o.containers))
	}

	pool, err := httppool.New("docker")
	if err != nil {
		return exitFail, err
	}
	docker := newDockerClient(socket, pool, o.dockerHost != "", o.tail)

	var sink io.Writer = io.Discard
	if o.sink != "" {
		f, err := os.OpenFile(o.sink, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return exitFail, fmt.Errorf("sink: %w", err)
		}
		defer f.Close()
		sink = f
	}
	capt := &capturer{docker: docker, sink: sink, log: log.Named("capture"), period: o.every}
	// One cycle before anything else: the daemon is reachable, and the pool's connection is
	// open before the watchdog takes its first sample (the smoke run's baseline).
	if err := capt.cycle(ctx); err != nil {
		return exitFail, fmt.Errorf("first capture cycle: %w", err)
	}

	leaks, err := newLeaker(o.leakGoroutines, o.leakFDs, o.leakConns, docker, log.Named("leak"))
	if err != nil {
		return exitFail, err
	}
	defer leaks.cleanup()
	if leaks.active() || o.leakHeap > 0 {
		log.Warn("injecting leaks", zap.Int("goroutines_per_min", o.leakGoroutines),
			zap.Int("fds_per_min", o.leakFDs), zap.Int("conns_per_min", o.leakConns), zap.Int("heap_kib_per_min", o.leakHeap))
	}

	// The servers listen before the watchdog starts, so that the baseline already counts
	// their goroutines; their routes are mounted once the watchdog exists (ServeMux allows
	// that while serving).
	metricsMux, healthMux, pprofMux := http.NewServeMux(), http.NewServeMux(), http.NewServeMux()
	mountPprof(pprofMux)
	var servers []*http.Server
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			if serr := s.Shutdown(sctx); serr != nil {
				log.Warn("server shutdown", zap.String("addr", s.Addr), zap.Error(serr))
			}
		}
	}()
	for _, l := range []struct {
		name, addr string
		h          http.Handler
	}{
		{"metrics", o.metricsAddr, metricsMux},
		{"health", o.healthAddr, healthMux},
		{"pprof", o.pprofAddr, pprofMux},
	} {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return exitFail, fmt.Errorf("%s server: %w", l.name, err)
		}
		s := &http.Server{Addr: ln.Addr().String(), Handler: l.h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, s)
		go func() {
			if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Error("server failed", zap.String("server", l.name), zap.Error(err))
			}
		}()
		log.Info("listening", zap.String("server", l.name), zap.String("addr", s.Addr))
	}

	// The service's own goroutines, stopped before the watchdog.
	runCtx, cancelRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancelRun()
	wg.Go(func() { capt.run(runCtx) })
	wg.Go(func() { leaks.run(runCtx, 100*time.Millisecond) })
	wg.Go(func() { newHeapLeaker(o.leakHeap).run(runCtx, 100*time.Millisecond) })

	// The watchdog, as a user embeds it.
	cfg := o.config()
	smokeOpt, smokeOver := smokeDone(o, log)
	w, err := watchdog.Start(ctx, cfg,
		watchdog.WithLogger(log),
		watchdog.WithSmokeOutput(os.Stdout), // the checkpoint lines, as the seed's script printed them
		smokeOpt,
		watchdog.WithHTTPPool(pool),
		watchdog.WithGauge("containers", func() float64 { return float64(capt.containers.Load()) }),
	)
	if err != nil {
		return exitUsage, err
	}
	defer func() {
		if serr := w.Stop(); serr != nil {
			log.Warn("watchdog stop", zap.Error(serr))
		}
	}()
	log.Info("watchdog started", zap.Float64("interval_s", cfg.Interval.Seconds()), zap.Float64("window_s", cfg.Window.Seconds()),
		zap.Float64("warmup_s", cfg.Warmup.Seconds()), zap.Float64("smoke_s", o.smoke.Seconds()), zap.Float64("checkpoint_s", o.checkpoint.Seconds()))

	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		exporter.New(w, exporter.Options{Namespace: metricsNamespace}),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	} {
		if err := reg.Register(c); err != nil {
			return exitFail, fmt.Errorf("metrics: %w", err)
		}
	}
	metricsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: zap.NewStdLog(log.Named("metrics")), Registry: reg}))
	healthMux.Handle("GET /health", healthHandler(w, capt, time.Now()))
	mountWatchdog(healthMux, w, o.allowSmokePOST)

	select {
	case <-ctx.Done():
		log.Info("shutting down", zap.Error(context.Cause(ctx)))
		return exitOK, nil
	case <-w.Done():
		return exitFail, errors.New("watchdog stopped")
	case passed := <-smokeOver:
		if passed {
			return exitOK, nil
		}
		return exitFail, nil
	}
}

// mountPprof mounts net/http/pprof's handlers on mux explicitly (nothing is served from
// http.DefaultServeMux), so that curl :6060/debug/pprof/goroutine?debug=2 works.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index) // named profiles: goroutine, heap, allocs, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
