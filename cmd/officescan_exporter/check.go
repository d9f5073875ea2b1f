package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/flagvalue"
	"github.com/officescan-exporter/officescan_exporter/readiness"
)

type checkCommand struct {
	a           *app
	cmd         *kingpin.CmdClause
	output      string
	exporterURL string
	wait        time.Duration
	settle      time.Duration
	interval    time.Duration
}

func newCheckCommand(a *app) *checkCommand {
	c := &checkCommand{a: a}
	c.cmd = a.kp.Command("check", "Say whether the server may be upgraded now, from the running exporter's recorded history (or, with --wait and no exporter, by measuring here), print the checklist, and exit 0 safe, 1 blocked, 2 could not tell.")
	c.cmd.Flag("output", "Output format: text (a checklist) or json.").Default("text").EnumVar(&c.output, "text", "json")
	c.cmd.Flag("exporter-url", "Base URL of the running exporter whose history to judge (default: this machine at --web.listen-address).").
		PlaceHolder("URL").StringVar(&c.exporterURL)
	flagvalue.Duration(c.cmd.Flag("wait", fmt.Sprintf("Keep checking until the verdict has been safe at every evaluation for --settle, at most this long (exit 1 at the deadline). 0 checks once. With no exporter running, at least %s lets check measure here.", readiness.MeasureFor(hazard.WindowOpenFor))).
		Default("0s"), &c.wait)
	flagvalue.Duration(c.cmd.Flag("settle", "With --wait: how long the verdict must stay safe without a break (the alert OfficeScanUpgradeWindowOpen waits as long).").
		Default(hazard.WindowOpenFor.String()), &c.settle)
	flagvalue.Duration(c.cmd.Flag("interval", "Time between two evaluations (and recordings, when measuring here).").Default(readiness.DefaultInterval.String()), &c.interval)
	return c
}

func (c *checkCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *checkCommand) run(ctx context.Context) (int, error) {
	if c.wait > 0 && c.wait < c.settle {
		return 2, fmt.Errorf("--wait=%s is shorter than --settle=%s, so it could never succeed", c.wait, c.settle)
	}
	if c.interval < time.Second {
		return 2, fmt.Errorf("--interval=%s: want at least 1s", c.interval)
	}
	url := c.exporterURL
	if url == "" {
		url = localURL(c.a.listenAddress(), c.a.webConfigFile() != "")
	}
	// Collector failures are in the checklist's evidence; logging them at
	// every recording of a long --wait would bury the progress lines.
	logger := slog.New(slog.DiscardHandler)
	if c.a.logCfg.Level != nil && c.a.logCfg.Level.String() == "debug" {
		logger = c.a.logger
	}
	rep, err := readiness.RunCheck(ctx, readiness.CheckOptions{
		ExporterURL: url,
		Local: func(ctx context.Context, interval, keep time.Duration) *readiness.Recorder {
			return c.a.recorder(ctx, logger, interval, keep)
		},
		Wait:     c.wait,
		Settle:   c.settle,
		Interval: c.interval,
		JSON:     c.output == "json",
		Out:      os.Stdout,
		Progress: os.Stderr,
	})
	if err != nil {
		return 2, fmt.Errorf("checking: %w", err)
	}
	return rep.ExitCode, nil
}

// localURL is this machine's exporter at its listen address: a wildcard
// host means the loopback address.
func localURL(listen string, tls bool) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "", strings.TrimPrefix(listen, ":")
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
