package trend

import (
	"testing"
	"time"
)

// TestUnread: an unread tick confirms a raise the last sample supported once its Confirm has
// passed, and does nothing else: not before Confirm, not before any sample, not at a time
// before the newest sample, never a resolution.
func TestUnread(t *testing.T) {
	s := time.Second
	newDet := func() *Detector {
		d, err := New(Params{Window: 40 * s, Warmup: -1}, Rule{Below: 1, BelowLevel: Warning}) // Confirm 10 s, Resolve 20 s
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newDet()
	if v := d.Unread(100 * s); v.Level != OK || v.Changed {
		t.Fatalf("before any sample: %+v", v)
	}
	d.Step(0, 0, 0, true) // below: warning pending from 0, due at 10 s
	if v := d.Unread(9 * s); v.Level != OK || v.Changed {
		t.Fatalf("at 9 s: %+v, want ok, unchanged", v)
	}
	v := d.Unread(10 * s)
	if v.Level != Warning || !v.Changed || v.Prev != OK || v.Cause != CauseBelow {
		t.Fatalf("at 10 s: %+v, want warning (below), changed from ok", v)
	}
	if v := d.Unread(11 * s); v.Level != Warning || v.Changed {
		t.Fatalf("at 11 s: %+v, want warning, unchanged", v)
	}
	d.Step(12*s, 5, 0, true) // above: resolving from 12 s, due at 32 s
	if v := d.Unread(60 * s); v.Level != Warning || v.Changed {
		t.Fatalf("unread at 60 s: %+v, want warning held", v)
	}
	if v := d.Step(61*s, 5, 0, true); v.Level != OK || !v.Changed {
		t.Fatalf("read at 61 s: %+v, want resolved", v)
	}

	// the clock is not reset by unread ticks, and a sample that breaks the raise stops it
	d = newDet()
	d.Step(0, 0, 0, true)
	d.Unread(5 * s)
	d.Step(6*s, 3, 0, true) // above: the pending raise is broken
	if v := d.Unread(20 * s); v.Level != OK {
		t.Fatalf("after the raise was broken: %+v, want ok", v)
	}
	// a time before the newest sample is ignored
	d = newDet()
	d.Step(10*s, 0, 0, true)
	if v := d.Unread(30 * s); v.Level != Warning {
		t.Fatalf("at 30 s: %+v", v)
	}
	d = newDet()
	d.Step(10*s, 0, 0, true)
	if v := d.Unread(5 * s); v.Changed || v.Level != OK {
		t.Fatalf("unread before the newest sample: %+v", v)
	}
}
