package winservice

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/common/promslog"
)

// EventWriter is what the handler needs of golang.org/x/sys/windows/svc/eventlog.Log.
type EventWriter interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// eventLogHandler writes each record as promslog formats it (logfmt or JSON,
// as --log.format says) to the event log, as an Error, Warning or
// Information entry by the record's level. Derived handlers share the
// formatting buffer and its lock.
type eventLogHandler struct {
	w     EventWriter
	inner slog.Handler
	mu    *sync.Mutex
	buf   *bytes.Buffer
}

// NewEventLogHandler returns a handler writing to w, formatted and filtered
// as cfg says.
func NewEventLogHandler(w EventWriter, cfg *promslog.Config) slog.Handler {
	buf := &bytes.Buffer{}
	c := *cfg
	c.Writer = buf
	return &eventLogHandler{w: w, inner: promslog.New(&c).Handler(), mu: &sync.Mutex{}, buf: buf}
}

func (h *eventLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *eventLogHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	h.buf.Reset()
	err := h.inner.Handle(ctx, r)
	msg := strings.TrimSuffix(h.buf.String(), "\n")
	h.mu.Unlock()
	if err != nil {
		return err
	}
	switch {
	case r.Level >= slog.LevelError:
		return h.w.Error(EventError, msg)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(EventWarning, msg)
	default:
		return h.w.Info(EventInfo, msg)
	}
}

func (h *eventLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(attrs)
	return &c
}

func (h *eventLogHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	return &c
}
