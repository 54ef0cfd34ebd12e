package attribution

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/trend"
)

// getAndForget issues a GET and never closes the response body: the leak
// under test. The caller gets the responses back only to clean up.
func getAndForget(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestUnclosedResponseBodies(t *testing.T) {
	if !fdsSupported {
		t.Skip("no /proc on this system")
	}
	const n = 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	var resps []*http.Response
	t.Cleanup(func() {
		for _, r := range resps {
			r.Body.Close()
		}
		tr.CloseIdleConnections()
		srv.Close()
	})
	base := take(t, Options{FDs: true})
	for range n {
		resps = append(resps, getAndForget(t, client, srv.URL))
	}
	srvAddr := srv.Listener.Addr().String()
	var r *Report
	waitFor(t, "connection goroutines", func() bool {
		r = Diff(base, take(t, Options{FDs: true}))
		rl, wl := 0, 0
		for _, g := range r.Groups {
			if g.HasFunction(fnReadLoop) {
				rl += g.Delta
			}
			if g.HasFunction(fnWriteLoop) {
				wl += g.Delta
			}
		}
		return rl == n && wl == n
	})
	found := false
	for _, c := range r.FDClasses {
		if c.Kind == FDTCP && c.Class == "ESTABLISHED to "+srvAddr {
			found = true
			if c.Delta != n {
				t.Errorf("sockets to %s: delta %d, want %d", srvAddr, c.Delta, n)
			}
		}
	}
	if !found {
		t.Errorf("no TCP class to %s in %+v", srvAddr, r.FDClasses)
	}
	for _, fn := range []string{fnReadLoop, fnWriteLoop} {
		_, delta, gs := sumGroups(r, fn)
		if delta != n || len(gs) == 0 || gs[0].Top.Function != fn {
			t.Errorf("groups with %s: %d, delta %d; want delta %d with it as top frame", fn, len(gs), delta, n)
		}
	}
	for _, tc := range []struct {
		name string
		ctx  Context
		want string
	}{
		{"sockets only", Context{}, "an HTTP transport to " + srvAddr},
		{"with pool", Context{
			Series: []SeriesRate{{Name: "goroutines", Level: trend.Warning, PerMinute: 25}},
			Pools:  []PoolStats{{Name: "loopback", Open: n, Active: n, OpenDelta: n, ActiveDelta: n}},
		}, `transport "loopback" to ` + srvAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(r, tc.ctx)
			if d.Cause != CauseUnclosedResponseBody || !strings.Contains(d.Summary, tc.want) {
				t.Errorf("diagnosis = %v %q, want %v naming %q\n%s", d.Cause, d.Summary, CauseUnclosedResponseBody, tc.want, d)
			}
		})
	}
	// A pool whose growth is idle connections is pooling, not leaking.
	d := Diagnose(r, Context{Pools: []PoolStats{{Name: "loopback", Open: n, Idle: n, OpenDelta: n, IdleDelta: n}}})
	if d.Cause == CauseUnclosedResponseBody {
		t.Errorf("diagnosis with idle growth = %v %q, want another cause", d.Cause, d.Summary)
	}
}

// fetchSlow issues one GET and closes the body: correct code, stuck behind
// a pool limit.
func fetchSlow(c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func TestStarvedPool(t *testing.T) {
	const n = 8
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "slow")
	}))
	tr := &http.Transport{MaxConnsPerHost: 1}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(release)
		wg.Wait()
		tr.CloseIdleConnections()
		srv.Close()
	})
	base := take(t, Options{FDs: true})
	for range n {
		wg.Go(func() { fetchSlow(client, srv.URL) })
	}
	var r *Report
	waitFor(t, "requests to queue for the connection", func() bool {
		r = Diff(base, take(t, Options{FDs: true}))
		c, _, _ := sumGroups(r, fnGetConn)
		return c == n-1
	})
	ctx := Context{
		Series: []SeriesRate{{Name: "goroutines", Level: trend.Warning, PerMinute: 30}},
		Pools:  []PoolStats{{Name: "slow-api", Open: 1, Active: 1, Waiting: n - 1}},
	}
	d := Diagnose(r, ctx)
	if d.Cause != CausePoolStarved || !strings.Contains(d.Summary, `"slow-api"`) || !strings.Contains(d.Summary, "fetchSlow") {
		t.Errorf("diagnosis = %v %q, want %v naming the pool and fetchSlow\n%s", d.Cause, d.Summary, CausePoolStarved, d)
	}
	// Pools that say nobody waits overrule the goroutines.
	ctx.Pools[0].Waiting = 0
	if d := Diagnose(r, ctx); d.Cause == CausePoolStarved {
		t.Errorf("diagnosis with no waiters = %v", d.Cause)
	}
}
