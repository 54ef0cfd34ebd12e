package httppool

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRoundTrip compares one keep-alive round trip (request, body read
// to EOF, close) on a loopback httptest server, through the bare transport
// and through the instrumented one.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(hello)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 512)
	once := func(b *testing.B, rt http.RoundTripper) {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		resp.Body.Close()
	}
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for b.Loop() {
			once(b, rt)
		}
	}
	b.Run("bare", func(b *testing.B) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		run(b, tr)
	})
	b.Run("instrumented", func(b *testing.B) {
		p, err := New("bench")
		if err != nil {
			b.Fatal(err)
		}
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		run(b, p.Instrument(tr))
		// Normally 1; net/http drops a connection whose request write is not
		// confirmed within 50 ms, which a loaded machine can cause.
		b.ReportMetric(float64(p.Stats().Opened), "dials")
	})
	// paired alternates one bare and one instrumented round trip per
	// iteration (swapping the order each time) and times each, so that the
	// load of a shared machine hits both alike; it reports both means and
	// the overhead in percent. Its ns/op is the pair.
	b.Run("paired", func(b *testing.B) {
		p, err := New("bench")
		if err != nil {
			b.Fatal(err)
		}
		bare, tr := &http.Transport{}, &http.Transport{}
		defer bare.CloseIdleConnections()
		defer tr.CloseIdleConnections()
		inst := p.Instrument(tr)
		var tBare, tInst time.Duration
		timed := func(rt http.RoundTripper) time.Duration {
			start := time.Now()
			once(b, rt)
			return time.Since(start)
		}
		i := 0
		for b.Loop() {
			if i%2 == 0 {
				tBare += timed(bare)
				tInst += timed(inst)
			} else {
				tInst += timed(inst)
				tBare += timed(bare)
			}
			i++
		}
		b.ReportMetric(float64(tBare.Nanoseconds())/float64(i), "bare-ns/rt")
		b.ReportMetric(float64(tInst.Nanoseconds())/float64(i), "instr-ns/rt")
		b.ReportMetric(100*(float64(tInst)/float64(tBare)-1), "overhead-%")
	})
}

func BenchmarkStats(b *testing.B) {
	p, err := New("bench")
	if err != nil {
		b.Fatal(err)
	}
	p.Instrument(&http.Transport{})
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Stats()
	}
}

// staticRT answers every request with the same response and a body that is
// at EOF at once, so that BenchmarkLayer measures only the instrumentation.
type staticRT struct{ resp http.Response }

type eofBody struct{}

func (eofBody) Read([]byte) (int, error) { return 0, io.EOF }
func (eofBody) Close() error             { return nil }

func (s *staticRT) RoundTrip(*http.Request) (*http.Response, error) {
	r := s.resp // the instrumented layer replaces Body; keep s.resp intact
	return &r, nil
}

// BenchmarkLayer is the cost of the instrumentation alone per request
// (counters, body wrapper, EOF), without any network: the difference between
// /instrumented and /bare is what the layer adds to every round trip.
func BenchmarkLayer(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "http://example.invalid/", nil)
	if err != nil {
		b.Fatal(err)
	}
	next := &staticRT{resp: http.Response{StatusCode: 200, ProtoMajor: 1, Body: eofBody{}}}
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for b.Loop() {
			resp, _ := rt.RoundTrip(req)
			resp.Body.Read(nil)
			resp.Body.Close()
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, next) })
	b.Run("instrumented", func(b *testing.B) {
		p, err := New("bench")
		if err != nil {
			b.Fatal(err)
		}
		run(b, p.Wrap(next))
	})
}
