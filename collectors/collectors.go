// Package collectors lists every collector the exporter knows and the flags
// that tune them. Each collector lives in its own package below this one.
package collectors

import (
	"runtime"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/collectors/addresses"
	"github.com/officescan-exporter/officescan_exporter/collectors/autopcc"
	"github.com/officescan-exporter/officescan_exporter/collectors/dbserver"
	"github.com/officescan-exporter/officescan_exporter/collectors/reboot"
	"github.com/officescan-exporter/officescan_exporter/collectors/serverinfo"
	"github.com/officescan-exporter/officescan_exporter/collectors/settings"
	"github.com/officescan-exporter/officescan_exporter/collectors/share"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/internal/flagvalue"
	"github.com/officescan-exporter/officescan_exporter/procs"
)

// Options are the collectors' own settings, filled in when flags are parsed.
type Options struct {
	// ServerDir is the PCCSRV folder; empty means "find it" (the registry on Windows).
	ServerDir string
	Sampler   procs.SamplerConfig
	// Settings maps console settings to ini keys; it comes from the config
	// file, not from flags.
	Settings map[string]config.Setting
	// Waivers are the config file's waivers. They belong to no collector:
	// exporter.NewWaiverCollector exports them on every scrape, and the
	// verdict reads them, whatever collectors are switched on.
	Waivers []config.Waiver
	Share   *share.Options
	Reboot  *reboot.Options
}

// AddFlags adds the collectors' tuning flags to app.
func AddFlags(app *kingpin.Application) *Options {
	o := &Options{Sampler: procs.SamplerConfig{NumCPU: runtime.NumCPU()}}
	app.Flag("officescan.server-dir", "The OfficeScan / Apex One PCCSRV folder. Default on Windows: registry value Local_Path under HKLM\\SOFTWARE\\WOW6432Node\\TrendMicro\\OfficeScan\\service\\Information.").
		StringVar(&o.ServerDir)
	flagvalue.Duration(app.Flag("collector.dbserver.window", "Window DbServer.exe's CPU utilization is averaged over.").
		Default("10s"), &o.Sampler.Window)
	flagvalue.Duration(app.Flag("collector.dbserver.interval", "How often DbServer.exe's CPU time is sampled.").
		Default("1s"), &o.Sampler.Interval)
	// Searching the whole table is most of the sampler's cost (docs/performance.md);
	// a DbServer.exe that restarts is found within this, far inside the 5-minute idle window.
	flagvalue.Duration(app.Flag("collector.dbserver.rediscover", "How often the whole process table is searched for DbServer.exe; in between only known PIDs are read.").
		Default("10s"), &o.Sampler.Rediscover)
	o.Share = share.AddFlags(app)
	o.Reboot = reboot.AddFlags(app)
	return o
}

// Specs returns every collector, built over opts once flags are parsed.
func Specs(opts *Options) []exporter.Spec {
	src := procs.Shared()
	return []exporter.Spec{
		dbserver.Spec(src, &opts.Sampler),
		autopcc.Spec(src),
		reboot.Spec(opts.Reboot),
		share.Spec(opts.Share),
		settings.Spec(&opts.ServerDir, &opts.Settings),
		serverinfo.Spec(),
		addresses.Spec(),
	}
}

// DefaultScrapeTimeout bounds one collector's run when Prometheus sends no
// deadline of its own.
const DefaultScrapeTimeout = 10 * time.Second
