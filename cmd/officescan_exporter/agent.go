package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/textfile"
)

// agentCollectors are the collectors that belong on OfficeScan agents. The
// agent command runs them whatever the --collector.* flags say: on an agent
// the server-side collectors have nothing to watch.
var agentCollectors = []string{"reboot"}

// Exit codes of the agent command, for the scheduled task's "last result".
const (
	agentExitCollectorFailed = 1 // the file was written and shows the failure
	agentExitNotWritten      = 2
)

type agentCommand struct {
	a    *app
	cmd  *kingpin.CmdClause
	path string
}

func newAgentCommand(a *app) *agentCommand {
	c := &agentCommand{a: a}
	c.cmd = a.kp.Command("agent", "Run the agent-side collectors ("+fmt.Sprint(agentCollectors)+") once, write their metrics for windows_exporter's textfile collector, and exit: "+
		"0 success, 1 a collector failed (the file is still written and says so), 2 the file could not be written.")
	c.cmd.Flag("textfile", `The .prom file to replace, e.g. C:\Program Files\windows_exporter\textfile_inputs\officescan.prom.`).
		Required().PlaceHolder("PATH").StringVar(&c.path)
	return c
}

func (c *agentCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *agentCommand) run(ctx context.Context) (int, error) {
	logger := c.a.logger
	var specs []exporter.Spec
	for _, s := range c.a.registry.Specs() {
		for _, name := range agentCollectors {
			if s.Name == name {
				specs = append(specs, s)
			}
		}
	}
	reg := exporter.NewRegistry(specs...)
	for _, s := range specs {
		if err := reg.Enable(s.Name, true); err != nil {
			return agentExitNotWritten, err
		}
	}
	// Nothing runs in the background past this command.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scrape := &onceScrape{ctx: ctx, s: reg.Build(ctx, logger, exporter.ScrapeOptions{Timeout: c.a.timeout})}

	gatherer := prometheus.NewRegistry()
	gatherer.MustRegister(scrape, versioncollector.NewCollector(name))
	start := time.Now()
	if err := textfile.Write(c.path, gatherer); err != nil {
		return agentExitNotWritten, err
	}
	// A failed collector's success metric is 0 in the file, so the fleet sees
	// the failure; the exit code tells the scheduled task.
	var failed []error
	for _, r := range scrape.results {
		if r.Err != nil {
			failed = append(failed, fmt.Errorf("collector %s: %w", r.Name, r.Err))
		}
	}
	if len(failed) > 0 {
		return agentExitCollectorFailed, fmt.Errorf("wrote %s, but %w", c.path, errors.Join(failed...))
	}
	logger.Info("wrote agent metrics", "file", c.path, "collectors", scrape.s.Names(), "duration_seconds", time.Since(start).Seconds())
	return 0, nil
}

// onceScrape runs the collectors when gathered and keeps their results.
type onceScrape struct {
	ctx     context.Context
	s       *exporter.Scraper
	results []exporter.Result
}

// Describe sends nothing: the collectors' metrics vary, as in serve.
func (*onceScrape) Describe(chan<- *prometheus.Desc) {}

func (o *onceScrape) Collect(ch chan<- prometheus.Metric) {
	o.results = o.s.Scrape(o.ctx, ch)
}
