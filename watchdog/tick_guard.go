package watchdog

import (
	"runtime/debug"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// safeCore wraps the user's logger core so that a core (or slog handler) that panics loses
// its record, never the goroutine that logged it: the watchdog logs from the sampling
// goroutine, the attribution goroutine, the smoke writer and Stop. Panics are counted.
type safeCore struct {
	zapcore.Core
	panics *atomic.Uint64
}

func (c safeCore) With(f []zapcore.Field) zapcore.Core {
	var inner zapcore.Core = zapcore.NewNopCore()
	func() {
		defer c.recovered()
		inner = c.Core.With(f)
	}()
	return safeCore{inner, c.panics}
}

func (c safeCore) Enabled(l zapcore.Level) (ok bool) {
	defer c.recovered()
	return c.Core.Enabled(l)
}

// Check asks the wrapped core whether it takes the entry, and if so routes the write through
// c, so that the write is recovered too.
func (c safeCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	take := false
	func() {
		defer c.recovered()
		take = c.Core.Check(e, nil) != nil
	}()
	if take {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c safeCore) Write(e zapcore.Entry, f []zapcore.Field) (err error) {
	defer c.recovered()
	return c.Core.Write(e, f)
}

func (c safeCore) Sync() (err error) {
	defer c.recovered()
	return c.Core.Sync()
}

func (c safeCore) recovered() {
	if recover() != nil {
		c.panics.Add(1)
	}
}

// guardLogger returns l with its core wrapped in a [safeCore] counting into panics.
func guardLogger(l *zap.Logger, panics *atomic.Uint64) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return safeCore{c, panics} }))
}

// safeTick runs one tick, recovering a panic in it (the user's clock, or a bug of ours): the
// tick is lost, counted ([Snapshot].TickPanics) and logged with its stack, and the next tick
// runs as usual. Every lock a tick takes is released by defer, so none is left held.
func (w *Watchdog) safeTick() {
	defer func() {
		if p := recover(); p != nil {
			w.tickPanics.Add(1)
			w.log.Error("tick panicked; the sample is lost and sampling goes on",
				zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
		}
	}()
	w.tick()
}

// testHookPublish, when set, is called in the tick with w.mu held (a fault injected where a
// panic would otherwise leave the lock held).
var testHookPublish func()
