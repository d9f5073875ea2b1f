package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

type checkCommand struct {
	a        *app
	cmd      *kingpin.CmdClause
	output   string
	wait     time.Duration
	settle   time.Duration
	interval time.Duration
	timeout  time.Duration
}

func newCheckCommand(a *app) *checkCommand {
	c := &checkCommand{a: a}
	c.cmd = a.kp.Command("check", "Check now whether the server may be upgraded, print the checklist, and exit 0 safe, 1 blocked, 2 could not tell.")
	c.cmd.Flag("output", "Output format: text (a checklist) or json.").Default("text").EnumVar(&c.output, "text", "json")
	c.cmd.Flag("wait", "Keep checking until the verdict has been safe for --settle, at most this long (exit 1 at the deadline). 0 checks once.").
		Default("0s").DurationVar(&c.wait)
	c.cmd.Flag("settle", "With --wait: how long the verdict must stay safe without a break (the alert OfficeScanUpgradeWindowOpen waits as long).").
		Default(exporter.UpgradeWindowFor.String()).DurationVar(&c.settle)
	c.cmd.Flag("interval", "Time between two evaluations.").Default("1s").DurationVar(&c.interval)
	c.cmd.Flag("timeout", "Most time a single check samples before it answers; it waits for DbServer.exe's measurement window (--collector.dbserver.window).").
		Default("30s").DurationVar(&c.timeout)
	return c
}

func (c *checkCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *checkCommand) run(ctx context.Context) (int, error) {
	if c.wait > 0 && c.wait < c.settle {
		return 2, fmt.Errorf("--wait=%s is shorter than --settle=%s, so it could never succeed", c.wait, c.settle)
	}
	if c.interval <= 0 {
		return 2, fmt.Errorf("--interval=%s must be positive", c.interval)
	}
	// Collector failures are in the checklist's evidence; logging them on
	// every evaluation of a long --wait would bury the progress lines.
	logger := slog.New(slog.DiscardHandler)
	if c.a.logCfg.Level != nil && c.a.logCfg.Level.String() == "debug" {
		logger = c.a.logger
	}
	scraper := c.a.registry.Build(ctx, logger, exporter.ScrapeOptions{Timeout: c.a.timeout})
	rep, err := exporter.RunCheck(ctx, scraper, exporter.CheckOptions{
		Eval:     c.a.evaluateOptions(),
		Timeout:  c.timeout,
		Wait:     c.wait,
		Settle:   c.settle,
		Interval: c.interval,
		JSON:     c.output == "json",
		Out:      os.Stdout,
		Progress: os.Stderr,
	})
	if err != nil {
		return 2, fmt.Errorf("printing the verdict: %w", err)
	}
	return rep.ExitCode, nil
}

// evaluateOptions tell the readiness evaluation where things are read from.
func (a *app) evaluateOptions() exporter.EvaluateOptions {
	return exporter.EvaluateOptions{
		Settings:       a.opts.Settings,
		ServerDir:      a.opts.ServerDir,
		DatabaseWindow: a.opts.Sampler.Window,
	}
}
