package watchdog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leakwatch/leakwatch/watchdog/attribution"
)

// lockedBuffer is a bytes.Buffer safe for a logger on another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records decodes the JSON lines written so far.
func (l *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSlogAlert: with WithSlog, an alert is logged through slog (no zap in the caller's code)
// at slog's Warn level, with series, alert level, rate and reason as attributes, and its
// evidence, once attributed, as a nested group carrying the diagnosis.
func TestSlogAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf lockedBuffer
		c := fastConfig()
		c.Attribution.Cooldown = 0
		c.Rules["errs"] = Rule{OnIncrease: LevelWarning}
		var n counter
		w, err := Start(t.Context(), c, WithGauge("errs", n.get),
			WithSlog(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		n.n.Add(1)
		time.Sleep(time.Second)
		if err := w.Stop(); err != nil {
			t.Fatal(err)
		}
		var alert, attributed map[string]any
		for _, r := range buf.records(t) {
			if r["series"] != "errs" || r["alert_level"] != "warning" {
				continue
			}
			switch r["msg"] {
			case "alert":
				alert = r
			case "attribution":
				attributed = r
			}
		}
		for name, r := range map[string]map[string]any{"alert": alert, "attribution": attributed} {
			if r == nil {
				t.Fatalf("no %q record for the warning on errs in:\n%s", name, buf.b.String())
			}
			if r["level"] != "WARN" || r["logger"] != "watchdog" {
				t.Errorf("%s: level %v logger %v, want WARN watchdog", name, r["level"], r["logger"])
			}
			if _, ok := r["rate_per_min"].(float64); !ok {
				t.Errorf("%s: rate_per_min = %#v, want a number", name, r["rate_per_min"])
			}
			if reason, _ := r["reason"].(string); reason == "" {
				t.Errorf("%s: no reason", name)
			}
		}
		ev, _ := attributed["evidence"].(map[string]any)
		if d, _ := ev["diagnosis"].(string); d == "" {
			t.Errorf("attribution: evidence = %#v, want a group with the diagnosis", attributed["evidence"])
		}
	})
}

// TestSlogSameAsZap: one alert with its evidence, logged through zap and through slog, gives
// the same fields with the same values: one logging path, two sinks.
func TestSlogSameAsZap(t *testing.T) {
	a := Alert{
		Time: time.Unix(1_700_000_000, 0), Series: "fds", Level: LevelCritical, Previous: LevelWarning,
		Cause: CauseExhaustion, Value: 1000, Baseline: 20, RatePerMin: 31.5, Window: 5 * time.Minute,
		Limit: 1024, TimeToExhaustion: 40 * time.Minute, Reason: "fds reach their limit within 40m",
		Evidence: &Evidence{
			Diagnosis: attribution.Diagnosis{Summary: "sockets in CLOSE_WAIT to 10.0.0.1:443", Evidence: []string{"+200 CLOSE_WAIT"}},
			Dumps:     []string{"/tmp/a.pprof"}, Error: "dump: disk full",
		},
	}
	core, logs := observer.New(zapcore.DebugLevel)
	zap.New(core).Named("watchdog").Check(a.logLevel(), "alert").Write(a.zapFields()...)
	var buf lockedBuffer
	newSlogLogger(slog.New(slog.NewJSONHandler(&buf, nil))).Named("watchdog").Check(a.logLevel(), "alert").Write(a.zapFields()...)

	zj, err := json.Marshal(logs.All()[0].ContextMap())
	if err != nil {
		t.Fatal(err)
	}
	var fromZap map[string]any
	json.Unmarshal(zj, &fromZap)
	fromSlog := buf.records(t)[0]
	if fromSlog["level"] != "ERROR" || fromSlog["msg"] != "alert" || fromSlog["logger"] != "watchdog" {
		t.Errorf("slog record level %v msg %v logger %v, want ERROR alert watchdog", fromSlog["level"], fromSlog["msg"], fromSlog["logger"])
	}
	for _, k := range []string{"time", "level", "msg", "logger"} {
		delete(fromSlog, k)
	}
	if !reflect.DeepEqual(fromZap, fromSlog) {
		t.Errorf("fields differ:\nzap  %v\nslog %v", fromZap, fromSlog)
	}

	// Handed to slog directly, as a handler would, Alert and Evidence give the same groups.
	buf = lockedBuffer{}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("got", "alert", a, "evidence", a.Evidence, "none", (*Evidence)(nil))
	r := buf.records(t)[0]
	if !reflect.DeepEqual(r["alert"], fromZap) || !reflect.DeepEqual(r["evidence"], fromZap["evidence"]) {
		t.Errorf("LogValue:\nalert    %v\nevidence %v\nwant     %v", r["alert"], r["evidence"], fromZap)
	}
	if _, ok := r["none"]; ok {
		t.Errorf("a nil Evidence logged as %v, want it omitted", r["none"])
	}
}

// TestSlogEncoderShapes: namespaces nest what follows them, arrays stay arrays, errors are
// strings, and a logger's With fields come along.
func TestSlogEncoderShapes(t *testing.T) {
	var buf lockedBuffer
	l := newSlogLogger(slog.New(slog.NewJSONHandler(&buf, nil))).With(zap.String("svc", "a"))
	l.Info("m", zap.Strings("list", []string{"x", "y"}), zap.Error(errGaugeNaN), zap.Namespace("ns"), zap.Int("n", 1))
	l.Debug("dropped: below the handler's level")
	recs := buf.records(t)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1 (debug filtered by the handler)", len(recs))
	}
	r := recs[0]
	want := map[string]any{"svc": "a", "list": []any{"x", "y"}, "error": errGaugeNaN.Error(), "ns": map[string]any{"n": 1.0}}
	for k, v := range want {
		if !reflect.DeepEqual(r[k], v) {
			t.Errorf("%s = %#v, want %#v", k, r[k], v)
		}
	}
}
