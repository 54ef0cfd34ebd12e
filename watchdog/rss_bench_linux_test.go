//go:build linux

package watchdog

import "testing"

// BenchmarkRSS is why the probe reads /proc/self/statm by hand: the probe's pread into a fixed
// buffer of a descriptor opened once, against procfs's Proc.Statm (open, read, parse every
// field) on the same file. A tick must not allocate.
func BenchmarkRSS(b *testing.B) {
	b.Run("leakwatch", func(b *testing.B) { benchRead(b, testProbe(b).rss) })
	b.Run("procfs-statm", func(b *testing.B) { benchRead(b, procfsSelf(b).Statm) })
}

// TestRSSMatchesProcfs: the hand-written statm read gives procfs's resident figure.
func TestRSSMatchesProcfs(t *testing.T) {
	p, self := testProbe(t), procfsSelf(t)
	// RSS may move between two reads: find a read of ours between two equal ones of procfs's.
	for range 1000 {
		before, err := self.Statm()
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.rss()
		if err != nil {
			t.Fatal(err)
		}
		after, err := self.Statm()
		if err != nil {
			t.Fatal(err)
		}
		if before.Resident != after.Resident {
			continue
		}
		if want := float64(before.Resident) * p.pageSize; got != want {
			t.Fatalf("rss() = %v bytes, procfs Statm resident %d pages = %v bytes", got, before.Resident, want)
		}
		return
	}
	t.Fatal("RSS moved between every pair of procfs reads in 1000 tries")
}
