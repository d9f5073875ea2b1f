package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/promslog"

	"github.com/officescan-exporter/officescan_exporter/winservice"
)

// serviceLink is main's view of the Windows service manager; with a nil
// Service (a console program, or not Windows) each method does what a
// console program does.
type serviceLink struct{ s *winservice.Service }

// startService must run first in main: the service manager waits only so
// long for a service to report Running.
func startService() serviceLink {
	s, err := winservice.Start(name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	return serviceLink{s}
}

// context is the context the subcommands run under: it ends on Stop or Shutdown.
func (l serviceLink) context() context.Context { return l.s.Context(context.Background()) }

// logger sends logs to the Windows Event Log when running as a service.
func (l serviceLink) logger(cfg *promslog.Config, console *slog.Logger) *slog.Logger {
	return l.s.Logger(cfg, console)
}

// exit reports code (and err, which a service could not print) to the service
// manager, then ends the process.
func (l serviceLink) exit(code int, err error) {
	l.s.Finish(code, err)
	os.Exit(code)
}
