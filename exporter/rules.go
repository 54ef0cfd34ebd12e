package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	lwname "github.com/leakwatch/leakwatch/internal/name"
	"github.com/leakwatch/leakwatch/watchdog"
)

// ErrInvalidRulesOptions is wrapped by the error [AlertRules] returns for bad [RulesOptions];
// the message names every bad field.
var ErrInvalidRulesOptions = errors.New("exporter: invalid rules options")

// Defaults of [RulesOptions] windows, as in the seed's guide and the watchdog's defaults.
const (
	DefaultGrowthWindow     = 10 * time.Minute
	DefaultGrowthFor        = 5 * time.Minute
	DefaultExhaustionWindow = time.Hour
	DefaultExhaustionFor    = 10 * time.Minute
	DefaultHTTPWindow       = 5 * time.Minute
	DefaultHTTPFor          = 5 * time.Minute
)

// Names of the generated alerts. Rules of two severities share a name and differ in their
// severity label ("warning" or "critical"); raw-series alerts carry a series label naming the
// watchdog series they mirror, HTTP alerts a pool label.
const (
	AlertGoroutineGrowth       = "LeakwatchGoroutineGrowth"       // deriv(<ns>_goroutines[GrowthWindow]) * 60 >= rate
	AlertFDGrowth              = "LeakwatchFDGrowth"              // deriv(process_open_fds[GrowthWindow]) * 60 >= rate
	AlertFDExhaustion          = "LeakwatchFDExhaustion"          // predict_linear(process_open_fds[ExhaustionWindow], horizon) >= process_max_fds
	AlertHTTPConnectionGrowth  = "LeakwatchHTTPConnectionGrowth"  // deriv(<ns>_<pool>_http_open_connections[GrowthWindow]) * 60 >= rate
	AlertHeapGrowth            = "LeakwatchHeapGrowth"            // deriv(<ns>_heap_live_bytes[2 GrowthWindow]) * 60 >= rate, or the relative rate (heapRules)
	AlertHTTPErrors            = "LeakwatchHTTPErrors"            // increase(<ns>_<pool>_http_errors_total[HTTPWindow]) > 0
	AlertHTTPNoIdleConnections = "LeakwatchHTTPNoIdleConnections" // <ns>_<pool>_http_idle_connections < 1 and rate(..._requests_total[HTTPWindow]) > 0
	AlertWatchdogLevel         = "LeakwatchWatchdogLevel"         // <ns>_watchdog_level >= 2 (warning), >= 3 (critical)
	AlertWatchdogStalled       = "LeakwatchWatchdogStalled"       // <ns>_watchdog_stalled == 1
	AlertSmokeFailed           = "LeakwatchSmokeFailed"           // <ns>_watchdog_smoke_status{status="failed"} == 1
	AlertSmokeStalled          = "LeakwatchSmokeStalled"          // <ns>_watchdog_smoke_stalled == 1
)

// RulesOptions configures [AlertRules]. The zero value generates the seed's rules for
// namespace [DefaultNamespace] with no HTTP pool, the thresholds of [watchdog.DefaultConfig]
// and the Default* windows. Durations are whole milliseconds; a zero duration means its
// default (except VerdictFor), a negative one is an error.
type RulesOptions struct {
	// Namespace of the exported metrics, as [Options.Namespace]. Empty means [DefaultNamespace].
	Namespace string
	// Selector holds PromQL label matchers added to every metric of every expression, so that
	// in a Prometheus that scrapes many services the rules judge only this one's processes:
	// `{job="log_capturer"}`, or several, `{job="log_capturer", env=~"prod|staging"}` (the
	// braces may be left out). Values are double-quoted or backquoted PromQL strings; operators
	// are =, !=, =~ and !~ (a regular expression must compile, and matches in full as in
	// PromQL). Empty (or "{}") means no selector: the rules then fire for every process that
	// exports the metrics, including process_open_fds from any client_golang service.
	Selector string
	// Pools names the HTTP pools (as given to httppool.New) that get HTTP rules.
	Pools []string
	// Rules holds the thresholds, as [watchdog.Config.Rules]: the goroutines and fds rules give
	// the growth and FD exhaustion alerts, each pool's rules (default [watchdog.HTTPRules]) the
	// HTTP alerts. Nil means watchdog.DefaultConfig().Rules. Only warning and critical levels
	// become alerts; notices stay in the process (and in <ns>_watchdog_level).
	Rules map[string]watchdog.Rule
	// GrowthWindow is the range of deriv() for growth rules; GrowthFor their "for".
	GrowthWindow, GrowthFor time.Duration
	// ExhaustionWindow is the range of predict_linear() for FD exhaustion; ExhaustionFor its "for".
	ExhaustionWindow, ExhaustionFor time.Duration
	// HTTPWindow is the range of increase() and rate() in HTTP rules; HTTPFor the "for" of the
	// no-idle-connection rule (HTTP errors fire at once, as in the watchdog).
	HTTPWindow, HTTPFor time.Duration
	// VerdictFor is the "for" of the rules over the watchdog's verdicts. Zero means none: the
	// watchdog has already confirmed its level.
	VerdictFor time.Duration
}

// nsPattern is Prometheus's rule for a metric name prefix. Pool names follow leakwatch's one
// name rule instead (package internal/name).
var nsPattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (o RulesOptions) withDefaults() (RulesOptions, []string, error) {
	var bad []string
	matchers, err := parseSelector(o.Selector)
	if err != nil {
		bad = append(bad, fmt.Sprintf("Selector %q: %v", o.Selector, err))
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	} else if !nsPattern.MatchString(o.Namespace) {
		bad = append(bad, fmt.Sprintf("Namespace %q must match [a-zA-Z_][a-zA-Z0-9_]*", o.Namespace))
	}
	seen := map[string]bool{}
	for _, p := range o.Pools {
		switch {
		case !lwname.Valid(p):
			bad = append(bad, fmt.Sprintf("Pools: %q must match %s", p, lwname.Pattern))
		case seen[p]:
			bad = append(bad, fmt.Sprintf("Pools: %q given twice", p))
		}
		seen[p] = true
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"GrowthWindow", &o.GrowthWindow, DefaultGrowthWindow},
		{"GrowthFor", &o.GrowthFor, DefaultGrowthFor},
		{"ExhaustionWindow", &o.ExhaustionWindow, DefaultExhaustionWindow},
		{"ExhaustionFor", &o.ExhaustionFor, DefaultExhaustionFor},
		{"HTTPWindow", &o.HTTPWindow, DefaultHTTPWindow},
		{"HTTPFor", &o.HTTPFor, DefaultHTTPFor},
		{"VerdictFor", &o.VerdictFor, 0},
	} {
		switch {
		case *d.v < 0:
			bad = append(bad, fmt.Sprintf("%s %v must be >= 0", d.name, *d.v))
		case *d.v%time.Millisecond != 0:
			bad = append(bad, fmt.Sprintf("%s %v must be whole milliseconds", d.name, *d.v))
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if len(bad) > 0 {
		return o, nil, fmt.Errorf("%w: %s", ErrInvalidRulesOptions, strings.Join(bad, "; "))
	}
	if o.Rules == nil {
		o.Rules = watchdog.DefaultConfig().Rules
	}
	return o, matchers, nil
}

// ruleFile, ruleGroup and alertRule mirror Prometheus's rule file format; the YAML encoder
// writes them, so every string is escaped by the encoder.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  quoted      `yaml:"name"`
	Rules []alertRule `yaml:"rules"`
}

type alertRule struct {
	Alert       quoted `yaml:"alert"`
	Expr        quoted `yaml:"expr"`
	For         string `yaml:"for,omitempty"`
	Labels      pairs  `yaml:"labels"`
	Annotations pairs  `yaml:"annotations"`
}

// quoted is a string the encoder writes double-quoted, so that PromQL and Go templates read
// as they are, whatever characters they hold.
type quoted string

// MarshalYAML implements yaml.Marshaler.
func (q quoted) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: string(q)}, nil
}

// pairs is a YAML mapping of double-quoted strings in the order given (severity first).
type pairs [][2]string

// MarshalYAML implements yaml.Marshaler.
func (p pairs) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range p {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[0]},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: kv[1]})
	}
	return n, nil
}

// AlertRules returns a Prometheus rule file (YAML) with two groups:
//
//   - leakwatch_<ns>_raw: the watchdog's thresholds over the raw series, for a fleet whose
//     processes export <ns>_goroutines and the HTTP pool metrics with [New] and
//     process_open_fds / process_max_fds with client_golang's process collector:
//     [AlertGoroutineGrowth], [AlertFDGrowth], [AlertFDExhaustion], and per pool
//     [AlertHTTPConnectionGrowth], [AlertHTTPErrors], [AlertHTTPNoIdleConnections];
//   - leakwatch_<ns>_verdicts: the watchdog's own judgement, [AlertWatchdogLevel],
//     [AlertWatchdogStalled], [AlertSmokeFailed] and [AlertSmokeStalled].
//
// opts.Selector scopes every expression to the matching processes (see [RulesOptions.Selector]).
// A threshold that is not set in opts.Rules (<= 0, or a level under warning) generates no rule.
// The error wraps [ErrInvalidRulesOptions] and names every bad field. The output depends only
// on opts, so it can be checked in and compared.
func AlertRules(opts RulesOptions) ([]byte, error) {
	o, sel, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ns := o.Namespace
	// vec is the selector of one metric: its own matchers, then opts.Selector's.
	vec := func(metric string, own ...string) string {
		m := append(own, sel...)
		if len(m) == 0 {
			return metric
		}
		return metric + "{" + strings.Join(m, ", ") + "}"
	}
	rule := func(name string) watchdog.Rule { return o.Rules[name] }

	var raw []alertRule
	raw = append(raw, growthRules(AlertGoroutineGrowth, vec(ns+"_goroutines"), watchdog.SeriesGoroutines, "goroutines", nil, rule(watchdog.SeriesGoroutines), o)...)
	raw = append(raw, growthRules(AlertFDGrowth, vec("process_open_fds"), watchdog.SeriesFDs, "open file descriptors", nil, rule(watchdog.SeriesFDs), o)...)
	raw = append(raw, heapRules(vec(ns+"_heap_live_bytes"), vec("process_start_time_seconds"), rule(watchdog.SeriesHeapLive), o)...)
	fr := rule(watchdog.SeriesFDs)
	for _, x := range []struct {
		sev     string
		horizon time.Duration
	}{{"warning", fr.ExhaustWarning}, {"critical", fr.ExhaustCritical}} {
		if x.horizon <= 0 {
			continue
		}
		raw = append(raw, alertRule{
			Alert:  AlertFDExhaustion,
			Expr:   quoted(fmt.Sprintf("predict_linear(%s[%s], %s) >= %s", vec("process_open_fds"), promDuration(o.ExhaustionWindow), strconv.FormatFloat(x.horizon.Seconds(), 'f', -1, 64), vec("process_max_fds"))),
			For:    promDuration(o.ExhaustionFor),
			Labels: [][2]string{{"severity", x.sev}, {"series", watchdog.SeriesFDs}},
			Annotations: [][2]string{
				{"summary", "File descriptors of {{ $labels.instance }} run out within " + humanDuration(x.horizon)},
				{"description", "At the trend of the last " + humanDuration(o.ExhaustionWindow) + ", {{ $labels.job }} {{ $labels.instance }} would hold {{ $value | humanize }} file descriptors in " + humanDuration(x.horizon) + ", at or over its limit (process_max_fds)."},
			},
		})
	}
	for _, p := range o.Pools {
		pl := [2]string{"pool", p}
		m := func(name string) string { return vec(ns + "_" + p + "_" + name) }
		open := watchdog.HTTPSeries(p, watchdog.HTTPOpen)
		raw = append(raw, growthRules(AlertHTTPConnectionGrowth, m("http_open_connections"), open, "open connections of pool "+p, &pl, httpRule(o.Rules, p, watchdog.HTTPOpen), o)...)
		if r := httpRule(o.Rules, p, watchdog.HTTPErrors); r.OnIncrease >= watchdog.LevelWarning {
			raw = append(raw, alertRule{
				Alert:  AlertHTTPErrors,
				Expr:   quoted(fmt.Sprintf("increase(%s[%s]) > 0", m("http_errors_total"), promDuration(o.HTTPWindow))),
				Labels: [][2]string{{"severity", r.OnIncrease.String()}, {"series", watchdog.HTTPSeries(p, watchdog.HTTPErrors)}, pl},
				Annotations: [][2]string{
					{"summary", "HTTP pool " + p + " of {{ $labels.instance }} has transport errors"},
					{"description", "{{ $labels.job }} {{ $labels.instance }}: {{ $value | humanize }} transport errors in pool " + p + " over the last " + humanDuration(o.HTTPWindow) + " (the seed's red flag: HTTP errors > 0)."},
				},
			})
		}
		if r := httpRule(o.Rules, p, watchdog.HTTPIdle); r.BelowLevel >= watchdog.LevelWarning {
			raw = append(raw, alertRule{
				Alert:  AlertHTTPNoIdleConnections,
				Expr:   quoted(fmt.Sprintf("%s < %s and rate(%s[%s]) > 0", m("http_idle_connections"), strconv.FormatFloat(r.Below, 'f', -1, 64), m("http_requests_total"), promDuration(o.HTTPWindow))),
				For:    promDuration(o.HTTPFor),
				Labels: [][2]string{{"severity", r.BelowLevel.String()}, {"series", watchdog.HTTPSeries(p, watchdog.HTTPIdle)}, pl},
				Annotations: [][2]string{
					{"summary", "HTTP pool " + p + " of {{ $labels.instance }} keeps no idle connection under traffic"},
					{"description", "{{ $labels.job }} {{ $labels.instance }}: pool " + p + " has had fewer than " + strconv.FormatFloat(r.Below, 'f', -1, 64) + " idle connections for " + humanDuration(o.HTTPFor) + " while requests flow: connections are not reused (pooling is broken)."},
				},
			})
		}
	}

	verdicts := []alertRule{}
	for _, x := range []struct {
		sev string
		l   watchdog.Level
	}{{"warning", watchdog.LevelWarning}, {"critical", watchdog.LevelCritical}} {
		verdicts = append(verdicts, alertRule{
			Alert:  AlertWatchdogLevel,
			Expr:   quoted(fmt.Sprintf("%s >= %d", vec(ns+"_watchdog_level"), x.l)),
			For:    promDuration(o.VerdictFor),
			Labels: [][2]string{{"severity", x.sev}},
			Annotations: [][2]string{
				{"summary", "The watchdog of {{ $labels.instance }} judges {{ $labels.series }} at " + x.sev + " or worse"},
				{"description", "{{ $labels.job }} {{ $labels.instance }}: series {{ $labels.series }} is at level {{ $value }} (2 warning, 3 critical); see the process's log or /watchdog for the reason."},
			},
		})
	}
	verdicts = append(verdicts, alertRule{
		Alert:  AlertWatchdogStalled,
		Expr:   quoted(vec(ns+"_watchdog_stalled") + " == 1"),
		For:    promDuration(o.VerdictFor),
		Labels: [][2]string{{"severity", "warning"}},
		Annotations: [][2]string{
			{"summary", "The watchdog of {{ $labels.instance }} has stalled"},
			{"description", "{{ $labels.job }} {{ $labels.instance }}: no watchdog tick completed within its StallAfter; its verdicts are stale."},
		},
	}, alertRule{
		Alert:  AlertSmokeFailed,
		Expr:   quoted(vec(ns+"_watchdog_smoke_status", `status="failed"`) + " == 1"),
		For:    promDuration(o.VerdictFor),
		Labels: [][2]string{{"severity", "warning"}},
		Annotations: [][2]string{
			{"summary", "The smoke run of {{ $labels.instance }} failed"},
			{"description", "{{ $labels.job }} {{ $labels.instance }}: the last smoke run ended with FAIL; its report (/smoke) says why."},
		},
	}, alertRule{
		Alert:  AlertSmokeStalled,
		Expr:   quoted(vec(ns+"_watchdog_smoke_stalled") + " == 1"),
		For:    promDuration(o.VerdictFor),
		Labels: [][2]string{{"severity", "warning"}},
		Annotations: [][2]string{
			{"summary", "The smoke run of {{ $labels.instance }} is overdue for a checkpoint"},
			{"description", "{{ $labels.job }} {{ $labels.instance }}: no smoke checkpoint for 1.5 checkpoint intervals (the seed's warning sign: no new checkpoints for > 3 minutes)."},
		},
	})

	var b bytes.Buffer
	fmt.Fprintf(&b, "# Prometheus alerting rules generated by github.com/leakwatch/leakwatch/exporter.AlertRules\n# for namespace %s", strconv.Quote(ns))
	if len(o.Pools) > 0 {
		b.WriteString(", HTTP pools")
		for _, p := range o.Pools {
			b.WriteString(" " + strconv.Quote(p))
		}
	}
	if len(sel) > 0 {
		b.WriteString(", scoped to {" + strings.Join(sel, ", ") + "}")
	}
	b.WriteString(".\n# Raw rules read <ns>_* from the exporter and process_* from client_golang's process collector.\n")
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	err = e.Encode(ruleFile{Groups: []ruleGroup{
		{Name: quoted("leakwatch_" + ns + "_raw"), Rules: raw},
		{Name: quoted("leakwatch_" + ns + "_verdicts"), Rules: verdicts},
	}})
	if err == nil {
		err = e.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("exporter: rules: %w", err)
	}
	return b.Bytes(), nil
}

// httpRule returns the rule of a pool's series: from rules when set there, else the default
// of [watchdog.HTTPRules], as Start applies them.
func httpRule(rules map[string]watchdog.Rule, pool, suffix string) watchdog.Rule {
	name := watchdog.HTTPSeries(pool, suffix)
	if r, ok := rules[name]; ok {
		return r
	}
	return watchdog.HTTPRules(pool)[name]
}

// growthRules returns the warning and critical growth rules of one metric.
func growthRules(alert, metric, series, what string, extra *[2]string, r watchdog.Rule, o RulesOptions) []alertRule {
	var out []alertRule
	for _, x := range []struct {
		sev  string
		rate float64
	}{{"warning", r.WarningPerMin}, {"critical", r.CriticalPerMin}} {
		if x.rate <= 0 {
			continue
		}
		rate := strconv.FormatFloat(x.rate, 'f', -1, 64)
		labels := [][2]string{{"severity", x.sev}, {"series", series}}
		if extra != nil {
			labels = append(labels, *extra)
		}
		out = append(out, alertRule{
			Alert:  quoted(alert),
			Expr:   quoted(fmt.Sprintf("deriv(%s[%s]) * 60 >= %s", metric, promDuration(o.GrowthWindow), rate)),
			For:    promDuration(o.GrowthFor),
			Labels: labels,
			Annotations: [][2]string{
				{"summary", "Leak: " + what + " of {{ $labels.instance }} grow by " + rate + "/min or more"},
				{"description", "{{ $labels.job }} {{ $labels.instance }}: " + what + " grow {{ $value | humanize }}/min over the last " + humanDuration(o.GrowthWindow) + " (" + x.sev + " at " + rate + "/min)."},
			},
		})
	}
	return out
}

// heapRules are the live heap's growth alerts, as the watchdog's heap_live_bytes rule judges
// it (watchdog.HeapLiveRule): deriv over twice GrowthWindow (the watchdog judges the live heap
// over four Windows, 20 min), at or over the per-minute rate, or, once the process is older
// than the rule's PctAfter (process_start_time_seconds, from client_golang's process
// collector), over the relative rate pct/100/60 × max(live, PctOf), capped at the per-minute
// rate: whichever is lower.
func heapRules(metric, start string, r watchdog.Rule, o RulesOptions) []alertRule {
	var out []alertRule
	win := promDuration(2 * o.GrowthWindow)
	for _, x := range []struct {
		sev       string
		rate, pct float64
	}{{"warning", r.WarningPerMin, r.WarningPctPerHour}, {"critical", r.CriticalPerMin, r.CriticalPctPerHour}} {
		if x.rate <= 0 && x.pct <= 0 {
			continue
		}
		deriv := fmt.Sprintf("deriv(%s[%s]) * 60", metric, win)
		var terms []string
		what := ""
		if x.rate > 0 {
			rate := strconv.FormatFloat(x.rate, 'f', -1, 64)
			terms = append(terms, deriv+" >= "+rate)
			what = humanBytes(x.rate) + "/min"
		}
		if x.pct > 0 {
			rel := fmt.Sprintf("clamp_min(%s, %s) * %s", metric, strconv.FormatFloat(r.PctOf, 'f', -1, 64), strconv.FormatFloat(x.pct/100/60, 'g', -1, 64))
			if x.rate > 0 {
				rel = fmt.Sprintf("clamp_max(%s, %s)", rel, strconv.FormatFloat(x.rate, 'f', -1, 64))
			}
			t := deriv + " >= " + rel
			if r.PctAfter > 0 {
				t = fmt.Sprintf("(%s and (time() - %s) > %s)", t, start, strconv.FormatFloat(r.PctAfter.Seconds(), 'f', -1, 64))
			}
			terms = append(terms, t)
			if what != "" {
				what += " or "
			}
			what += fmt.Sprintf("%g %%/h of max(live, %s)", x.pct, humanBytes(r.PctOf))
		}
		out = append(out, alertRule{
			Alert:  quoted(AlertHeapGrowth),
			Expr:   quoted(strings.Join(terms, " or ")),
			For:    promDuration(o.GrowthFor),
			Labels: [][2]string{{"severity", x.sev}, {"series", watchdog.SeriesHeapLive}},
			Annotations: [][2]string{
				{"summary", "Leak: the live heap of {{ $labels.instance }} grows by " + what + " or more"},
				{"description", "{{ $labels.job }} {{ $labels.instance }}: the live heap (what the last collection marked live) grows {{ $value | humanize1024 }}B/min over the last " + humanDuration(2*o.GrowthWindow) + " (" + x.sev + " at " + what + ")."},
			},
		})
	}
	return out
}

// humanBytes formats a byte count in whole MiB or KiB where it is one ("2 MiB"), else bytes.
func humanBytes(b float64) string {
	switch {
	case b >= 1<<20 && math.Mod(b, 1<<20) == 0:
		return fmt.Sprintf("%g MiB", b/(1<<20))
	case b >= 1<<10 && math.Mod(b, 1<<10) == 0:
		return fmt.Sprintf("%g KiB", b/(1<<10))
	}
	return fmt.Sprintf("%g B", b)
}

// promDuration formats d (whole milliseconds) as a Prometheus duration: "1h30m", "20s",
// "500ms"; zero gives "".
func promDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		s    string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.unit
		}
	}
	return b.String()
}

// humanDuration is promDuration for annotations: "6h", "10m", "20s".
func humanDuration(d time.Duration) string { return promDuration(d) }
