package exporter

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leakwatch/leakwatch/watchdog"
	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

var update = flag.Bool("update", false, "rewrite testdata/rules.yml from AlertRules")

// seedRulesOptions are the options of testdata/rules.yml: the seed's service with its docker
// pool, scoped to its job, and the default windows and thresholds.
var seedRulesOptions = RulesOptions{Namespace: "log_capturer", Pools: []string{"docker"}, Selector: `{job="log_capturer"}`}

func TestAlertRulesGolden(t *testing.T) {
	got, err := AlertRules(seedRulesOptions)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "rules.yml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("AlertRules(%+v) differs from %s (run go test -run TestAlertRulesGolden -update):\n%s", seedRulesOptions, path, got)
	}
}

func TestAlertRulesExpressions(t *testing.T) {
	strict := watchdog.DefaultConfig().Rules
	strict[watchdog.SeriesGoroutines] = watchdog.Rule{WarningPerMin: 5}
	strict[watchdog.HTTPSeries("docker", watchdog.HTTPErrors)] = watchdog.Rule{OnIncrease: watchdog.LevelCritical}
	tests := []struct {
		name     string
		opts     RulesOptions
		want     []string // substrings of the output
		wantNone []string // substrings that must not appear
	}{
		{"defaults", RulesOptions{}, []string{
			`expr: "deriv(leakwatch_goroutines[10m]) * 60 >= 20"`,
			`expr: "deriv(leakwatch_goroutines[10m]) * 60 >= 50"`,
			`expr: "deriv(process_open_fds[10m]) * 60 >= 15"`,
			`expr: "deriv(process_open_fds[10m]) * 60 >= 30"`,
			`expr: "predict_linear(process_open_fds[1h], 21600) >= process_max_fds"`,
			`expr: "predict_linear(process_open_fds[1h], 3600) >= process_max_fds"`,
			`expr: "leakwatch_watchdog_level >= 2"`,
			`expr: "leakwatch_watchdog_level >= 3"`,
			`expr: "leakwatch_watchdog_stalled == 1"`,
			"for: 5m", "for: 10m",
		}, []string{"http_", "for: 0"}},
		{"short windows", RulesOptions{
			Namespace: "log_capturer", Pools: []string{"docker"},
			GrowthWindow: 20 * time.Second, GrowthFor: 5 * time.Second,
			ExhaustionWindow: 90 * time.Second, ExhaustionFor: 1500 * time.Millisecond,
			HTTPWindow: 30 * time.Second, HTTPFor: 10 * time.Second, VerdictFor: 2 * time.Second,
		}, []string{
			`expr: "deriv(log_capturer_goroutines[20s]) * 60 >= 20"`,
			"for: 5s", "for: 1s500ms", "for: 10s", "for: 2s",
			`expr: "predict_linear(process_open_fds[1m30s], 21600) >= process_max_fds"`,
			`expr: "increase(log_capturer_docker_http_errors_total[30s]) > 0"`,
			`expr: "log_capturer_docker_http_idle_connections < 1 and rate(log_capturer_docker_http_requests_total[30s]) > 0"`,
			`expr: "deriv(log_capturer_docker_http_open_connections[20s]) * 60 >= 15"`,
		}, []string{"[10m]", "[5m]", "[1h]"}},
		{"thresholds from Rules", RulesOptions{Pools: []string{"docker"}, Rules: strict}, []string{
			`expr: "deriv(leakwatch_goroutines[10m]) * 60 >= 5"`,
			`severity: "critical"
          series: "http_docker_errors"`,
		}, []string{"leakwatch_goroutines[10m]) * 60 >= 20", "leakwatch_goroutines[10m]) * 60 >= 50"}},
		{"selector on every metric", RulesOptions{Namespace: "log_capturer", Pools: []string{"docker"},
			Selector: `{job="log_capturer", env=~"prod|staging"}`}, []string{
			`expr: "deriv(log_capturer_goroutines{job=\"log_capturer\", env=~\"prod|staging\"}[10m]) * 60 >= 20"`,
			`expr: "deriv(process_open_fds{job=\"log_capturer\", env=~\"prod|staging\"}[10m]) * 60 >= 15"`,
			`expr: "predict_linear(process_open_fds{job=\"log_capturer\", env=~\"prod|staging\"}[1h], 21600) >= process_max_fds{job=\"log_capturer\", env=~\"prod|staging\"}"`,
			`expr: "increase(log_capturer_docker_http_errors_total{job=\"log_capturer\", env=~\"prod|staging\"}[5m]) > 0"`,
			`expr: "log_capturer_docker_http_idle_connections{job=\"log_capturer\", env=~\"prod|staging\"} < 1 and rate(log_capturer_docker_http_requests_total{job=\"log_capturer\", env=~\"prod|staging\"}[5m]) > 0"`,
			`expr: "deriv(log_capturer_docker_http_open_connections{job=\"log_capturer\", env=~\"prod|staging\"}[10m]) * 60 >= 15"`,
			`expr: "log_capturer_watchdog_level{job=\"log_capturer\", env=~\"prod|staging\"} >= 2"`,
			`expr: "log_capturer_watchdog_stalled{job=\"log_capturer\", env=~\"prod|staging\"} == 1"`,
			`expr: "log_capturer_watchdog_smoke_status{status=\"failed\", job=\"log_capturer\", env=~\"prod|staging\"} == 1"`,
			`expr: "log_capturer_watchdog_smoke_stalled{job=\"log_capturer\", env=~\"prod|staging\"} == 1"`,
			`, scoped to {job="log_capturer", env=~"prod|staging"}.`,
		}, []string{"_goroutines[", "process_open_fds[", "process_max_fds\"", "_total[", "connections <", "_level >=", "_stalled ==", `"failed\"} ==`}},
		{"selector canonical form", RulesOptions{Selector: " job = `a\\b` ,instance!=\"x\\\"y\" "}, []string{
			`expr: "deriv(leakwatch_goroutines{job=\"a\\\\b\", instance!=\"x\\\"y\"}[10m]) * 60 >= 20"`,
		}, nil},
		{"empty selector", RulesOptions{Selector: "{ }"}, []string{
			`expr: "deriv(leakwatch_goroutines[10m]) * 60 >= 20"`,
		}, []string{"_goroutines{", "process_open_fds{", "scoped"}},
		{"no rules: verdicts only", RulesOptions{Rules: map[string]watchdog.Rule{}}, []string{
			`expr: "leakwatch_watchdog_level >= 2"`,
		}, []string{"deriv(", "predict_linear("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AlertRules(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(got, w) {
					t.Errorf("output contains %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestAlertRulesInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts RulesOptions
		want []string // substrings of the error
	}{
		{"namespace", RulesOptions{Namespace: "log-capturer"}, []string{`Namespace "log-capturer"`}},
		{"pool", RulesOptions{Pools: []string{"Docker"}}, []string{`"Docker"`}},
		{"pool twice", RulesOptions{Pools: []string{"docker", "docker"}}, []string{`"docker" given twice`}},
		{"negative", RulesOptions{GrowthFor: -time.Second}, []string{"GrowthFor -1s"}},
		{"sub-millisecond", RulesOptions{HTTPWindow: time.Microsecond}, []string{"HTTPWindow 1µs"}},
		{"every bad field", RulesOptions{Namespace: "a b", GrowthWindow: -1, VerdictFor: -1, Selector: "job"}, []string{"Namespace", "GrowthWindow", "VerdictFor", "Selector"}},
		{"selector without braces closed", RulesOptions{Selector: `{job="a"`}, []string{`Selector "{job=\"a\""`, "closing }"}},
		{"selector label name", RulesOptions{Selector: `{1job="a"}`}, []string{"Selector", "label name"}},
		{"selector operator", RulesOptions{Selector: `{job<"a"}`}, []string{"Selector", "label job", "=~"}},
		{"selector single quotes", RulesOptions{Selector: `{job='a'}`}, []string{"Selector", "label job", "double-quoted"}},
		{"selector unterminated", RulesOptions{Selector: `{job="a}`}, []string{"Selector", "unterminated"}},
		{"selector bad escape", RulesOptions{Selector: `{job="\q"}`}, []string{"Selector", "bad string"}},
		{"selector regexp", RulesOptions{Selector: `{job=~"a("}`}, []string{"Selector", "label job", "missing closing )"}},
		{"selector separator", RulesOptions{Selector: `{job="a" env="b"}`}, []string{"Selector", "want , between"}},
		{"selector metric name", RulesOptions{Selector: `{__name__="up"}`}, []string{"Selector", "__name__"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := AlertRules(tt.opts)
			if !errors.Is(err, ErrInvalidRulesOptions) {
				t.Fatalf("AlertRules(%+v) = %v, want an error wrapping ErrInvalidRulesOptions", tt.opts, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPromDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{time.Millisecond, "1ms"},
		{20 * time.Second, "20s"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{6*time.Hour + 1500*time.Millisecond, "6h1s500ms"},
		{48 * time.Hour, "48h"},
	}
	for _, tt := range tests {
		if got := promDuration(tt.d); got != tt.want {
			t.Errorf("promDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// promtool returns the path of promtool, or skips the test.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (Debian: apt-get install prometheus); skipping")
	}
	return p
}

func runPromtool(t *testing.T, dir string, stdin []byte, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPromtoolRules runs promtool check rules on generated files (seed, short windows, seed
// without its selector) and promtool test rules on testdata/rules_test.yml and
// rules_unscoped_test.yml against the rules generated now (not the checked-in copy, which
// TestAlertRulesGolden compares).
func TestPromtoolRules(t *testing.T) {
	promtool(t)
	dir := t.TempDir()
	rules, err := AlertRules(seedRulesOptions)
	if err != nil {
		t.Fatal(err)
	}
	short, err := AlertRules(RulesOptions{Namespace: "log_capturer", Pools: []string{"docker", "registry"},
		GrowthWindow: 20 * time.Second, GrowthFor: 5 * time.Second, ExhaustionWindow: time.Minute,
		ExhaustionFor: 5 * time.Second, HTTPWindow: 20 * time.Second, HTTPFor: 5 * time.Second, VerdictFor: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	unscopedOpts := seedRulesOptions
	unscopedOpts.Selector = ""
	unscoped, err := AlertRules(unscopedOpts)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "rules_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	unscopedTests, err := os.ReadFile(filepath.Join("testdata", "rules_unscoped_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yml": rules, "short.yml": short, "unscoped.yml": unscoped,
		"rules_test.yml": tests, "rules_unscoped_test.yml": unscopedTests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runPromtool(t, dir, nil, "check", "rules", "rules.yml", "short.yml", "unscoped.yml")
	runPromtool(t, dir, nil, "test", "rules", "rules_test.yml", "rules_unscoped_test.yml")
}

// TestAlertRulesYAMLRoundTrip: whatever characters a selector holds (quotes, backslashes, a
// newline, YAML's own ": " and " #"), the file parses back to the expressions generated.
func TestAlertRulesYAMLRoundTrip(t *testing.T) {
	sel := `{job="a: b #c", env=~"x\"y\\\\z\n"}`
	b, err := AlertRules(RulesOptions{Pools: []string{"docker"}, Selector: sel})
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
				Labels      map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, b)
	}
	want := `job="a: b #c", env=~"x\"y\\\\z\n"}`
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			if !strings.Contains(r.Expr, want) {
				t.Errorf("%s: expr %q lacks the selector %s", r.Alert, r.Expr, want)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", r.Alert)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d rules parsed back, want the seed's (at least 10)", n)
	}
	if _, err := exec.LookPath("promtool"); err == nil { // and Prometheus parses the PromQL
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "odd.yml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		runPromtool(t, dir, nil, "check", "rules", "odd.yml")
	}
}

// TestAlertRulesPoolNamesAsWatchdog: AlertRules accepts exactly the pool names httppool.New
// accepts (leakwatch's one name rule), so a pool the watchdog runs always gets rules and a
// name the watchdog rejects is rejected here too.
func TestAlertRulesPoolNamesAsWatchdog(t *testing.T) {
	for _, n := range []string{"docker", "docker_api_2", "p2", "docker-api", "Docker", "_x", "2p", "a b", "é", ""} {
		_, poolErr := httppool.New(n)
		_, rulesErr := AlertRules(RulesOptions{Pools: []string{n}})
		if (poolErr == nil) != (rulesErr == nil) {
			t.Errorf("pool %q: httppool.New error %v, AlertRules error %v; want both nil or both not", n, poolErr, rulesErr)
		}
	}
}
