package httppool

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"docker", true},
		{"docker_api_2", true},
		{"a", true},
		{"", false},
		{"Docker", false},
		{"2docker", false},
		{"_docker", false},
		{"docker-api", false},
		{"docker api", false},
		{"dockér", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.name)
			if tt.ok {
				if err != nil {
					t.Fatalf("New(%q) error %v, want nil", tt.name, err)
				}
				if got := p.Name(); got != tt.name {
					t.Errorf("Name() = %q, want %q", got, tt.name)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%q) = %v, want an error", tt.name, p)
			}
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("error %v does not wrap ErrInvalidName", err)
			}
			if want := `"` + tt.name + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not quote the input %s", err, want)
			}
			if !strings.HasPrefix(err.Error(), "httppool: ") {
				t.Errorf("error %q lacks the httppool: prefix", err)
			}
		})
	}
}

func TestStatsZero(t *testing.T) {
	p := newPool(t)
	if got := p.Stats(); got != (Stats{}) {
		t.Errorf("Stats() of a new pool = %+v, want zero", got)
	}
}

func TestStatsDoesNotAllocate(t *testing.T) {
	p := newPool(t)
	p.Instrument(&http.Transport{})
	p.Wrap(http.DefaultTransport)
	if n := testing.AllocsPerRun(100, func() { _ = p.Stats() }); n != 0 {
		t.Errorf("Stats allocates %v times per call, want 0", n)
	}
}

func TestInstrumentIdempotent(t *testing.T) {
	p := newPool(t)
	tr := &http.Transport{}
	a, b := p.Instrument(tr), p.Instrument(tr)
	if a != b {
		t.Errorf("Instrument twice returned different round trippers")
	}
	if n := len(*p.sources.Load()); n != 1 {
		t.Errorf("sources = %d, want 1", n)
	}
}
