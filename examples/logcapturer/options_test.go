package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		args                                 string
		checkpoint, interval, window, warmup time.Duration
		smokeOn                              bool
	}{
		// The seed's run keeps the watchdog's defaults.
		{"", 2 * time.Minute, time.Second, 5 * time.Minute, 5 * time.Minute, true},
		{"-smoke 0", 2 * time.Minute, time.Second, 5 * time.Minute, 5 * time.Minute, false},
		// Short demos derive what is not given.
		{"-smoke 1m -checkpoint 10s", 10 * time.Second, time.Second, 15 * time.Second, 7500 * time.Millisecond, true},
		{"-smoke 16s -checkpoint 4s", 4 * time.Second, 400 * time.Millisecond, 4 * time.Second, 2 * time.Second, true},
		{"-smoke 1m", 10 * time.Second, time.Second, 15 * time.Second, 7500 * time.Millisecond, true},
		{"-smoke 12s -checkpoint 1s", time.Second, 100 * time.Millisecond, 3 * time.Second, 1500 * time.Millisecond, true},
		// Given flags win.
		{"-smoke 1m -checkpoint 10s -interval 200ms -window 6s -warmup 0s", 10 * time.Second, 200 * time.Millisecond, 6 * time.Second, 0, true},
		{"-smoke 5m", 2 * time.Minute, time.Second, 5 * time.Minute, 5 * time.Minute, true},
	} {
		t.Run(tc.args, func(t *testing.T) {
			o, err := parseOptions(strings.Fields(tc.args), io.Discard)
			if err != nil {
				t.Fatalf("parseOptions: %v", err)
			}
			if o.checkpoint != tc.checkpoint || o.interval != tc.interval || o.window != tc.window || o.warmup != tc.warmup {
				t.Errorf("checkpoint, interval, window, warmup = %v, %v, %v, %v; want %v, %v, %v, %v",
					o.checkpoint, o.interval, o.window, o.warmup, tc.checkpoint, tc.interval, tc.window, tc.warmup)
			}
			cfg := o.config()
			if cfg.Smoke.Enabled != tc.smokeOn {
				t.Errorf("Smoke.Enabled = %v, want %v", cfg.Smoke.Enabled, tc.smokeOn)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("config: %v", err)
			}
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, args := range []string{
		"-smoke 0 -exit-after-smoke",
		"-smoke -1m",
		"-leak-goroutines -1",
		"-every 0s",
		"extra",
		"-no-such-flag",
	} {
		t.Run(args, func(t *testing.T) {
			if _, err := parseOptions(strings.Fields(args), io.Discard); err == nil {
				t.Errorf("parseOptions(%q): no error", args)
			}
		})
	}
}

func TestDemux(t *testing.T) {
	var stream []byte
	stream = appendFrame(stream, 1, "out one\n")
	stream = appendFrame(stream, 2, "err two\n")
	stream = appendFrame(stream, 1, "")
	stream = appendFrame(stream, 1, "out three\n")
	for _, tc := range []struct {
		name, want string
		in         []byte
		wantErr    bool
	}{
		{"frames", "out one\nerr two\nout three\n", stream, false},
		{"empty", "", nil, false},
		{"truncated payload", "out one\nerr", stream[:16+8+3], true},
		{"truncated header", "out one\n", stream[:16+3], true},
		{"not multiplexed", "", []byte("plain text line\n"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			_, err := io.Copy(&got, &demux{r: bufio.NewReader(bytes.NewReader(tc.in))})
			if got.String() != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("got %q, err %v; want %q, error %v", got.String(), err, tc.want, tc.wantErr)
			}
		})
	}
}
