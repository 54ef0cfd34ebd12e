package watchdog

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The watchdog has one logging path: every log call goes to one *zap.Logger, whose core is
// the sink. With [WithLogger] that is the user's zap core; with [WithSlog] it is slogCore,
// which turns each entry into a slog.Record for the user's slog.Handler. The same calls, with
// the same fields, reach either logger: nothing is logged twice or written two ways.

// slogCore is a zapcore.Core that writes to a slog.Handler: entry levels map to slog levels,
// the logger's name ("watchdog") becomes the attribute "logger", and zap fields become slog
// attributes of the same names and kinds, objects (an alert's evidence) as nested groups.
type slogCore struct{ h slog.Handler }

func newSlogLogger(l *slog.Logger) *zap.Logger { return zap.New(slogCore{l.Handler()}) }

func (c slogCore) Enabled(l zapcore.Level) bool {
	return c.h.Enabled(context.Background(), slogLevel(l))
}

func (c slogCore) With(fs []zapcore.Field) zapcore.Core {
	return slogCore{c.h.WithAttrs(slogAttrs(fs))}
}

func (c slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c slogCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	r := slog.NewRecord(e.Time, slogLevel(e.Level), e.Message, 0)
	if e.LoggerName != "" {
		r.AddAttrs(slog.String("logger", e.LoggerName))
	}
	r.AddAttrs(slogAttrs(fs)...)
	return c.h.Handle(context.Background(), r)
}

func (c slogCore) Sync() error { return nil }

// slogLevel maps zap's levels to slog's: debug, info, warn and error one to one; the levels
// above error (which the watchdog does not use) to error.
func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// slogAttrs converts zap fields to slog attributes, in order.
func slogAttrs(fs []zapcore.Field) []slog.Attr {
	enc := &slogEncoder{}
	for _, f := range fs {
		f.AddTo(enc)
	}
	return enc.finish()
}

// slogValue is the slog form of a zap object: a group of its fields. Evidence and Alert use it
// for their LogValue, so that their slog form is their zap form.
func slogValue(m zapcore.ObjectMarshaler) slog.Value {
	enc := &slogEncoder{}
	if err := m.MarshalLogObject(enc); err != nil {
		enc.AddString("error", err.Error())
	}
	return slog.GroupValue(enc.finish()...)
}

// slogEncoder is a zapcore.ObjectEncoder that collects slog attributes. A namespace (zap's
// OpenNamespace) nests the fields after it in a group.
type slogEncoder struct {
	frames []slogFrame // open namespaces, innermost last
	attrs  []slog.Attr
}

type slogFrame struct {
	key   string
	attrs []slog.Attr // of the enclosing level
}

func (e *slogEncoder) add(a slog.Attr) { e.attrs = append(e.attrs, a) }

// finish closes the open namespaces and returns the attributes.
func (e *slogEncoder) finish() []slog.Attr {
	for i := len(e.frames) - 1; i >= 0; i-- {
		f := e.frames[i]
		e.attrs = append(f.attrs, slog.Attr{Key: f.key, Value: slog.GroupValue(e.attrs...)})
	}
	e.frames = nil
	return e.attrs
}

func (e *slogEncoder) OpenNamespace(key string) {
	e.frames = append(e.frames, slogFrame{key, e.attrs})
	e.attrs = nil
}

func (e *slogEncoder) AddObject(key string, m zapcore.ObjectMarshaler) error {
	sub := &slogEncoder{}
	err := m.MarshalLogObject(sub)
	e.add(slog.Attr{Key: key, Value: slog.GroupValue(sub.finish()...)})
	return err
}

func (e *slogEncoder) AddArray(key string, m zapcore.ArrayMarshaler) error {
	a := &slogArray{}
	err := m.MarshalLogArray(a)
	e.add(slog.Any(key, a.vals))
	return err
}

func (e *slogEncoder) AddBinary(k string, v []byte) {
	e.add(slog.String(k, base64.StdEncoding.EncodeToString(v)))
}
func (e *slogEncoder) AddByteString(k string, v []byte)     { e.add(slog.String(k, string(v))) }
func (e *slogEncoder) AddBool(k string, v bool)             { e.add(slog.Bool(k, v)) }
func (e *slogEncoder) AddComplex128(k string, v complex128) { e.add(slog.String(k, fmt.Sprint(v))) }
func (e *slogEncoder) AddComplex64(k string, v complex64)   { e.add(slog.String(k, fmt.Sprint(v))) }
func (e *slogEncoder) AddDuration(k string, v time.Duration) {
	e.add(slog.Duration(k, v))
}
func (e *slogEncoder) AddFloat64(k string, v float64)     { e.add(slog.Float64(k, v)) }
func (e *slogEncoder) AddFloat32(k string, v float32)     { e.add(slog.Float64(k, float64(v))) }
func (e *slogEncoder) AddInt(k string, v int)             { e.add(slog.Int(k, v)) }
func (e *slogEncoder) AddInt64(k string, v int64)         { e.add(slog.Int64(k, v)) }
func (e *slogEncoder) AddInt32(k string, v int32)         { e.add(slog.Int64(k, int64(v))) }
func (e *slogEncoder) AddInt16(k string, v int16)         { e.add(slog.Int64(k, int64(v))) }
func (e *slogEncoder) AddInt8(k string, v int8)           { e.add(slog.Int64(k, int64(v))) }
func (e *slogEncoder) AddString(k, v string)              { e.add(slog.String(k, v)) }
func (e *slogEncoder) AddTime(k string, v time.Time)      { e.add(slog.Time(k, v)) }
func (e *slogEncoder) AddUint(k string, v uint)           { e.add(slog.Uint64(k, uint64(v))) }
func (e *slogEncoder) AddUint64(k string, v uint64)       { e.add(slog.Uint64(k, v)) }
func (e *slogEncoder) AddUint32(k string, v uint32)       { e.add(slog.Uint64(k, uint64(v))) }
func (e *slogEncoder) AddUint16(k string, v uint16)       { e.add(slog.Uint64(k, uint64(v))) }
func (e *slogEncoder) AddUint8(k string, v uint8)         { e.add(slog.Uint64(k, uint64(v))) }
func (e *slogEncoder) AddUintptr(k string, v uintptr)     { e.add(slog.Uint64(k, uint64(v))) }
func (e *slogEncoder) AddReflected(k string, v any) error { e.add(slog.Any(k, v)); return nil }

// slogArray is a zapcore.ArrayEncoder that collects plain values (objects as maps), which
// every slog handler can print.
type slogArray struct{ vals []any }

func (a *slogArray) AppendArray(m zapcore.ArrayMarshaler) error {
	sub := &slogArray{}
	err := m.MarshalLogArray(sub)
	a.vals = append(a.vals, sub.vals)
	return err
}

func (a *slogArray) AppendObject(m zapcore.ObjectMarshaler) error {
	enc := zapcore.NewMapObjectEncoder()
	err := m.MarshalLogObject(enc)
	a.vals = append(a.vals, enc.Fields)
	return err
}

func (a *slogArray) AppendReflected(v any) error    { a.vals = append(a.vals, v); return nil }
func (a *slogArray) AppendBool(v bool)              { a.vals = append(a.vals, v) }
func (a *slogArray) AppendByteString(v []byte)      { a.vals = append(a.vals, string(v)) }
func (a *slogArray) AppendComplex128(v complex128)  { a.vals = append(a.vals, fmt.Sprint(v)) }
func (a *slogArray) AppendComplex64(v complex64)    { a.vals = append(a.vals, fmt.Sprint(v)) }
func (a *slogArray) AppendDuration(v time.Duration) { a.vals = append(a.vals, v) }
func (a *slogArray) AppendFloat64(v float64)        { a.vals = append(a.vals, v) }
func (a *slogArray) AppendFloat32(v float32)        { a.vals = append(a.vals, v) }
func (a *slogArray) AppendInt(v int)                { a.vals = append(a.vals, v) }
func (a *slogArray) AppendInt64(v int64)            { a.vals = append(a.vals, v) }
func (a *slogArray) AppendInt32(v int32)            { a.vals = append(a.vals, v) }
func (a *slogArray) AppendInt16(v int16)            { a.vals = append(a.vals, v) }
func (a *slogArray) AppendInt8(v int8)              { a.vals = append(a.vals, v) }
func (a *slogArray) AppendString(v string)          { a.vals = append(a.vals, v) }
func (a *slogArray) AppendTime(v time.Time)         { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUint(v uint)              { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUint64(v uint64)          { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUint32(v uint32)          { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUint16(v uint16)          { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUint8(v uint8)            { a.vals = append(a.vals, v) }
func (a *slogArray) AppendUintptr(v uintptr)        { a.vals = append(a.vals, v) }
