// Command gen writes the OfficeScan upgrade dashboard's JSON for a site's
// own selectors, with the same flags as the rules generator (alerts/gen).
// With no flags it writes the project's grafana/officescan-upgrade.json
// (targets of job="officescan", agent data from any job); `go generate
// ./grafana` runs it so.
//
//	go run ./grafana/cmd/gen -job=officescan_prod -agent-selector='job="officescan_agents"' -o officescan-upgrade.json
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/officescan-exporter/officescan_exporter/grafana"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	job := fs.String("job", hazard.DefaultJob, "job label of the officescan_exporter targets")
	selector := fs.String("selector", "", `label matchers for the exporter targets, replacing -job (e.g. job="officescan",env="prod")`)
	agents := fs.String("agent-selector", "", `label matchers for the agents' series (e.g. job="officescan_agents"); empty: any job`)
	out := fs.String("o", "-", "file to write the dashboard JSON to (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := grafana.DefaultOptions()
	o.Selector = grafana.JobSelector(*job)
	if *selector != "" {
		o.Selector = *selector
	}
	o.AgentSelector = *agents
	b, err := grafana.JSON(o)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return nil
}
