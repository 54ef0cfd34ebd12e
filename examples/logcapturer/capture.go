package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leakwatch/leakwatch/watchdog/httppool"
)

// dockerClient talks to a Docker daemon (or the fake one) over its unix socket through ONE
// pooled http.Transport, instrumented by the "docker" httppool.Pool: every request of the
// program, the capturer's and the injected leaks', goes through it, as with the Docker SDK's
// client.
type dockerClient struct {
	http     *http.Client
	logQuery string // query string of the logs call, without tail
	tail     int
}

// parseDockerHost returns the socket path of a unix:// DOCKER_HOST address.
func parseDockerHost(host string) (string, error) {
	u, err := url.Parse(host)
	if err != nil {
		return "", fmt.Errorf("docker host %q: %w", host, err)
	}
	if u.Scheme != "unix" || u.Path == "" {
		return "", fmt.Errorf("docker host %q: want unix:///path/to/docker.sock", host)
	}
	return u.Path, nil
}

// newDockerClient returns a client whose transport dials socket, instrumented by pool.
// realDaemon selects the real API's logs query (stdout=1&tail=10) over the fake's
// (follow=0&tail=N).
func newDockerClient(socket string, pool *httppool.Pool, realDaemon bool, tail int) *dockerClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
	c := &dockerClient{
		// No Client.Timeout: it would also bound reading the body and so close the connections
		// of bodies left unclosed, hiding exactly the leak -leak-conns injects. Requests carry
		// deadlines through their contexts instead.
		http:     &http.Client{Transport: pool.Instrument(tr)},
		logQuery: "follow=0",
		tail:     tail,
	}
	if realDaemon {
		c.logQuery, c.tail = "stdout=1", 10
	}
	return c
}

// get sends GET path (the host part is ignored by the unix dialer). The caller closes the body.
func (c *dockerClient) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

// containerSummary is the part of GET /containers/json the capturer reads.
type containerSummary struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
}

func (c containerSummary) name() string {
	if len(c.Names) > 0 {
		return strings.TrimPrefix(c.Names[0], "/")
	}
	return c.ID[:min(12, len(c.ID))]
}

// list returns the running containers.
func (c *dockerClient) list(ctx context.Context) ([]containerSummary, error) {
	resp, err := c.get(ctx, "/containers/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var cs []containerSummary
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		return nil, fmt.Errorf("GET /containers/json: %w", err)
	}
	return cs, nil
}

// logsPath is the path of the logs call for the container id.
func (c *dockerClient) logsPath(id string) string {
	return fmt.Sprintf("/containers/%s/logs?%s&tail=%d", url.PathEscape(id), c.logQuery, c.tail)
}

// capturer lists the containers every period and copies each one's recent log lines to a sink,
// prefixed with the container's name. It is the service the watchdog watches.
type capturer struct {
	docker *dockerClient
	sink   io.Writer
	log    *zap.Logger
	period time.Duration

	containers atomic.Int64  // containers seen by the last list, for the "containers" gauge
	lines      atomic.Uint64 // lines written to the sink
	errors     atomic.Uint64 // failed cycles
}

// cycle lists the containers and copies their logs, one container after the other (so one
// connection of the pool serves the whole cycle in the steady state).
func (c *capturer) cycle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cs, err := c.docker.list(ctx)
	if err != nil {
		return err
	}
	c.containers.Store(int64(len(cs)))
	var errs []error
	for _, ct := range cs {
		if err := c.copyLogs(ctx, ct); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// copyLogs fetches one container's recent lines and writes them to the sink.
func (c *capturer) copyLogs(ctx context.Context, ct containerSummary) error {
	resp, err := c.docker.get(ctx, c.docker.logsPath(ct.ID))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.docker.raw-stream") {
		r = &demux{r: bufio.NewReader(resp.Body)} // no TTY: multiplexed stdout/stderr frames
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	prefix := ct.name() + " | "
	for sc.Scan() {
		if _, err := io.WriteString(c.sink, prefix+sc.Text()+"\n"); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		c.lines.Add(1)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("logs of %s: %w", ct.name(), err)
	}
	return nil
}

// run calls cycle every period until ctx ends, logging failed cycles.
func (c *capturer) run(ctx context.Context) {
	t := time.NewTicker(c.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.cycle(ctx); err != nil && ctx.Err() == nil {
				c.errors.Add(1)
				c.log.Warn("capture cycle failed", zap.Error(err))
			}
		}
	}
}

// demux reads the payloads of Docker's multiplexed stream (8-byte header: stream type, three
// zero bytes, big-endian payload size; then the payload), stdout and stderr alike.
type demux struct {
	r    *bufio.Reader
	left uint32 // bytes left in the current frame
}

func (d *demux) Read(p []byte) (int, error) {
	for d.left == 0 {
		var h [8]byte
		if _, err := io.ReadFull(d.r, h[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, fmt.Errorf("docker stream: truncated frame header")
			}
			return 0, err // io.EOF between frames is the end
		}
		if h[0] > 2 || h[1] != 0 || h[2] != 0 || h[3] != 0 {
			return 0, fmt.Errorf("docker stream: bad frame header % x", h[:4])
		}
		d.left = binary.BigEndian.Uint32(h[4:])
	}
	if uint32(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= uint32(n)
	if errors.Is(err, io.EOF) && d.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
