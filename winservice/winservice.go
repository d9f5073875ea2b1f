// Package winservice runs the exporter under the Windows service manager, the
// way windows_exporter does: the process finds out whether the service manager
// started it before anything else runs, reports Running at once (the manager
// gives up on a service that does not answer within 30 s), turns Stop and
// Shutdown into a cancelled context, reports Stopped once the program has
// wound down, and sends its logs to the Windows Event Log, since a service's
// stderr goes nowhere.
//
// A nil *Service stands for "not a service" (always the case off Windows); its
// methods then behave as for a console program.
package winservice

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/promslog"
)

// Event IDs of the exporter's entries. The event source is registered with
// EventCreate.exe as its message file, which shows IDs 1 to 1000 as the
// entry's own text.
const (
	EventInfo    = 100
	EventWarning = 101
	EventError   = 102
)

// DefaultStopTimeout is how long the program may take to wind down after a
// Stop before the service reports Stopped anyway and the process exits.
const DefaultStopTimeout = 20 * time.Second

// Service links the process to the service manager.
type Service struct {
	name   string
	events EventWriter
	ctx    context.Context
	cancel context.CancelFunc
	// exit carries the program's exit code to Execute.
	exit chan int
	// done is closed once the service manager has been told Stopped.
	done chan struct{}
	// stopTimeout bounds the wind-down after Stop; timedOut records that it
	// ran out, so the process must exit without the program's say.
	stopTimeout time.Duration
	timedOut    atomic.Bool
}

func newService(name string, events EventWriter) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		name: name, events: events, ctx: ctx, cancel: cancel,
		exit: make(chan int, 1), done: make(chan struct{}),
		stopTimeout: DefaultStopTimeout,
	}
}

// Context returns a context that ends when the service manager asks the
// service to stop; it is parent itself when the process is not a service.
func (s *Service) Context(parent context.Context) context.Context {
	if s == nil {
		return parent
	}
	ctx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-s.ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx
}

// Logger returns a logger formatted as cfg says that writes to the event log
// when the process is a service, and console otherwise.
func (s *Service) Logger(cfg *promslog.Config, console *slog.Logger) *slog.Logger {
	if s == nil {
		return console
	}
	return slog.New(NewEventLogHandler(s.events, cfg))
}

// Finish tells the service manager that the program ended with code and
// waits until it has reported Stopped, at most a few seconds. err, when not
// nil, goes to the event log first: a service has no console to print it on.
func (s *Service) Finish(code int, err error) {
	if s == nil {
		return
	}
	if err != nil {
		_ = s.events.Error(EventError, err.Error())
	}
	s.exit <- code
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}
