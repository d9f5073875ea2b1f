// Command gen writes the OfficeScan Prometheus rules for a site's own
// selectors. With no flags it writes the project's alerts/officescan.rules.yml
// (targets of job="officescan", agent data from any job).
//
//	go run ./alerts/gen -job=officescan_prod -agent-selector='job="officescan_agents"' -o officescan.rules.yml
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	job := fs.String("job", hazard.DefaultJob, "job label of the officescan_exporter targets")
	selector := fs.String("selector", "", `label matchers for the exporter targets, replacing -job (e.g. job="officescan",env="prod")`)
	agents := fs.String("agent-selector", "", `label matchers for the agents' series (e.g. job="officescan_agents"); empty: any job`)
	targetLabels := fs.String("target-labels", strings.Join(hazard.DefaultTargetLabels, ","), "comma-separated labels that tell exporter targets apart (add e.g. cluster when rules see several Prometheus servers' targets)")
	interval := fs.Duration("scrape-interval", hazard.ScrapeInterval, "scrape interval of the exporter targets; a target whose newest scrape is older than 1.5 intervals is stale")
	tolerance := fs.Int("agent-tolerance", 0, "waiting agents a server may have and still be upgraded")
	ratio := fs.Float64("agent-tolerance-ratio", 0, "share (0 to 1) of a server's agents that may wait and still allow the upgrade; the larger of this and -agent-tolerance applies")
	runbook := fs.String("runbook-base", alerts.DefaultRunbookBase, "URL of the runbooks page; alerts link to its anchors (default: the page the exporter that raised the alert serves)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := alerts.Config{
		Selector:            alerts.JobSelector(*job),
		AgentSelector:       *agents,
		TargetLabels:        strings.Split(*targetLabels, ","),
		ScrapeInterval:      *interval,
		AgentTolerance:      *tolerance,
		AgentToleranceRatio: *ratio,
		RunbookBase:         *runbook,
	}
	if *selector != "" {
		cfg.Selector = *selector
	}
	// The header records the flags that shaped the file, not where it went.
	var shown []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "o" {
			shown = append(shown, fmt.Sprintf("-%s=%q", f.Name, f.Value.String()))
		}
	})
	if len(shown) > 0 {
		cfg.Args = " " + strings.Join(shown, " ")
	}
	data, err := alerts.Render(cfg)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = os.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return nil
}
