package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// dockerAPI is a small stand-in for the Docker Engine API, served over a unix socket in a
// temporary directory, so that the example runs where no Docker daemon is: it answers the two
// calls the capturer makes, in the same shapes as the real daemon.
//
//	GET /containers/json                          [{"Id": ..., "Names": ["/web-1"], "State": "running", ...}]
//	GET /containers/{id}/logs?follow=0&tail=N     the last N lines, multiplexed as for a container without a TTY
//
// Every container "writes" one line per logEvery; a logs call returns the last tail lines
// written so far.
type dockerAPI struct {
	dir        string // temporary directory holding the socket
	socket     string // path of the unix socket
	srv        *http.Server
	ln         net.Listener
	containers []fakeContainer
	started    time.Time
	logEvery   time.Duration
}

// fakeContainer is one container the fake daemon lists.
type fakeContainer struct {
	ID    string   `json:"Id"`
	Names []string `json:"Names"`
	Image string   `json:"Image"`
	State string   `json:"State"`
}

// startDockerAPI creates the socket under a new temporary directory and serves the fake API on
// it until close. n is the number of containers (at least 1).
func startDockerAPI(n int) (*dockerAPI, error) {
	if n < 1 {
		n = 1
	}
	dir, err := os.MkdirTemp("", "logcapturer-docker-")
	if err != nil {
		return nil, fmt.Errorf("fake docker: %w", err)
	}
	d := &dockerAPI{
		dir:      dir,
		socket:   filepath.Join(dir, "docker.sock"),
		started:  time.Now(),
		logEvery: 100 * time.Millisecond,
	}
	images := []string{"nginx:1.27", "redis:7", "postgres:16", "grafana/loki:3.0"}
	for i := range n {
		d.containers = append(d.containers, fakeContainer{
			ID:    fmt.Sprintf("%012x%052d", int64(0xc0ffee000)+int64(i), i),
			Names: []string{fmt.Sprintf("/app-%d", i+1)},
			Image: images[i%len(images)],
			State: "running",
		})
	}
	ln, err := net.Listen("unix", d.socket)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fake docker: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containers/json", d.list)
	mux.HandleFunc("GET /containers/{id}/logs", d.logs)
	// Like dockerd: no idle timeout, so a client that never closes a response body keeps its
	// connection (and this server's goroutine for it) for as long as it lives.
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	d.ln = ln
	go d.srv.Serve(ln) //nolint:errcheck // ErrServerClosed after close
	return d, nil
}

// Host returns the DOCKER_HOST-style address of the socket: unix:///tmp/.../docker.sock.
func (d *dockerAPI) Host() string { return "unix://" + d.socket }

// close shuts the server down (waiting at most until ctx ends for requests in progress, then
// closing every connection) and removes the socket's directory.
func (d *dockerAPI) close(ctx context.Context) error {
	err := d.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = d.srv.Close()
	}
	if rerr := os.RemoveAll(d.dir); err == nil {
		err = rerr
	}
	return err
}

func (d *dockerAPI) list(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(d.containers) //nolint:errcheck // the client went away
}

func (d *dockerAPI) logs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	idx := -1
	for i, c := range d.containers {
		if c.ID == id || c.ID[:12] == id || c.Names[0] == "/"+id {
			idx = i
			break
		}
	}
	if idx < 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"message\":%q}\n", "No such container: "+id)
		return
	}
	tail := 10
	if s := r.URL.Query().Get("tail"); s != "" && s != "all" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "{\"message\":%q}\n", "invalid tail: "+s)
			return
		}
		tail = min(n, 1000)
	}
	now := time.Now()
	written := int(now.Sub(d.started) / d.logEvery) // lines written so far by this container
	first := max(0, written-tail)
	w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	buf := make([]byte, 0, 128*(written-first+1))
	c := d.containers[idx]
	for i := first; i < written; i++ {
		t := d.started.Add(time.Duration(i+1) * d.logEvery).UTC().Format(time.RFC3339Nano)
		line := fmt.Sprintf("%s %s level=info msg=\"request served\" seq=%d image=%s\n", t, c.Names[0][1:], i, c.Image)
		buf = appendFrame(buf, 1, line)
	}
	w.Write(buf) //nolint:errcheck // the client went away
}

// appendFrame appends one frame of Docker's multiplexed stream format: a header of stream type
// (1 stdout, 2 stderr), three zero bytes and the payload size (big endian), then the payload.
func appendFrame(b []byte, stream byte, payload string) []byte {
	b = append(b, stream, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}
