// Command gen writes the OfficeScan upgrade dashboard's JSON. Run it through
// `go generate ./grafana`, which rewrites grafana/officescan-upgrade.json.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/officescan-exporter/officescan_exporter/grafana"
)

func main() {
	out := flag.String("o", "-", "file to write the dashboard JSON to (- for standard output)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	b, err := grafana.JSON()
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}
