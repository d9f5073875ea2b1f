// Command officescan_exporter tells, with evidence, when it is safe to
// upgrade a Trend Micro OfficeScan / Apex One server. This file only wires
// flags, config, collectors and the web server together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/officescan-exporter/officescan_exporter/collectors"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/flagvalue"
	"github.com/officescan-exporter/officescan_exporter/readiness"
)

const name = "officescan_exporter"

// app is everything the subcommands share once flags are parsed.
type app struct {
	kp       *kingpin.Application
	logCfg   *promslog.Config
	logger   *slog.Logger
	cfg      *config.File
	opts     *collectors.Options
	registry *exporter.Registry
	timeout  time.Duration
	// web is the listen address and TLS config: serve listens there, and
	// check finds the running exporter there.
	web *web.FlagConfig
	// idleWindow shortens the verdict's idle window for tests (hidden flag).
	idleWindow time.Duration
	// args is the command line parsed; configFile is --config.file
	// (install puts both on the service's command line).
	args       []string
	configFile string
}

// stampFromBuildInfo fills the version and revision from the Go build info
// when the release script did not stamp them (a plain `go build` or
// `go install`), so --version and the build info metric never read empty.
func stampFromBuildInfo() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if version.Version == "" {
		version.Version = strings.TrimPrefix(bi.Main.Version, "v")
		if version.Version == "" || version.Version == "(devel)" {
			version.Version = "devel"
		}
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && (version.Revision == "" || version.Revision == "unknown"):
			version.Revision = s.Value
		case s.Key == "vcs.time" && version.BuildDate == "":
			version.BuildDate = s.Value
		}
	}
}

func newApp() *app {
	stampFromBuildInfo()
	a := &app{kp: kingpin.New(name, "Tells when it is safe to upgrade a Trend Micro OfficeScan / Apex One server.")}
	a.kp.Flag("config.file", "YAML config file: the console setting mapping, waivers of hazards that do not apply to this server, server_dir, and defaults for any flag (a flag on the command line wins).").
		PlaceHolder("FILE").StringVar(&a.configFile)
	a.logCfg = &promslog.Config{}
	promslogflag.AddFlags(a.kp, a.logCfg)
	flagvalue.Duration(a.kp.Flag("collector.timeout", "Most time one collector may take in a scrape (Prometheus' own scrape timeout wins when shorter).").
		Default(collectors.DefaultScrapeTimeout.String()), &a.timeout)
	a.opts = collectors.AddFlags(a.kp)
	a.registry = exporter.NewRegistry(collectors.Specs(a.opts)...)
	a.registry.AddFlags(a.kp)
	a.web = webflag.AddFlags(a.kp, ":9745")
	// Tests of the page and check cannot wait the shipped five minutes; the
	// page and check say so whenever it is set.
	flagvalue.Duration(a.kp.Flag("readiness.idle-window", "Test setting: the idle window of the page and check (the rules' is fixed).").
		Hidden().Default(hazard.IdleWindow.String()), &a.idleWindow)
	a.kp.Version(version.Print(name))
	a.kp.HelpFlag.Short('h')
	// Help is what was asked for: standard output, exit 0.
	a.kp.UsageWriter(os.Stdout)
	return a
}

// parse loads the config file, makes its values flag defaults, then parses
// the command line.
func (a *app) parse(args []string) (string, error) {
	a.args = args
	if path := config.PathFromArgs(args); path != "" {
		cfg, err := config.Load(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && writesConfigFile(a.kp, args):
			// install writes the file when there is none.
		case err != nil:
			return "", err
		default:
			if err := cfg.Apply(a.kp, "officescan.server-dir"); err != nil {
				return "", err
			}
			a.cfg = cfg
			a.opts.Settings = cfg.Settings
			a.opts.Waivers = cfg.Waivers
		}
	}
	cmd, err := a.kp.Parse(args)
	if err != nil {
		return "", err
	}
	a.logger = promslog.New(a.logCfg)
	return cmd, nil
}

// command is one subcommand: its kingpin clause and what it runs. run
// returns the process's exit code.
type command interface {
	clause() *kingpin.CmdClause
	run(ctx context.Context) (int, error)
}

func main() {
	service := startService()
	a := newApp()
	commands := []command{
		newServeCommand(a),
		newAgentCommand(a),
		newCheckCommand(a),
		newSettingsDiffCommand(a),
		newSettingsLearnCommand(a),
		newInstallCommand(a),
		newUninstallCommand(a),
	}
	cmdName, err := a.parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		service.exit(2, err)
	}
	a.logger = service.logger(a.logCfg, a.logger)
	ctx, stop := signal.NotifyContext(service.context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.clause().FullCommand() == cmdName {
			code, err := c.run(ctx)
			if err != nil {
				// One format for every error that ends the program, at
				// start-up or later: the same plain line as a bad flag.
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				if code == 0 {
					code = 1
				}
			}
			service.exit(code, err)
		}
	}
}

// listenAddress is the first --web.listen-address.
func (a *app) listenAddress() string {
	if a.web.WebListenAddresses == nil || len(*a.web.WebListenAddresses) == 0 {
		return ":9745"
	}
	return (*a.web.WebListenAddresses)[0]
}

// webConfigFile is --web.config.file: TLS and basic auth.
func (a *app) webConfigFile() string {
	if a.web.WebConfigFile == nil {
		return ""
	}
	return *a.web.WebConfigFile
}

// recorder records this machine's collectors every interval until ctx ends.
func (a *app) recorder(ctx context.Context, logger *slog.Logger, interval, keep time.Duration) *readiness.Recorder {
	r := readiness.NewRecorder(a.observer(ctx, logger), interval, keep)
	r.SetIdleWindow(a.idleWindow)
	r.SetSettingSources(config.Sources(a.opts.Settings, hazard.SettingNames(), a.opts.ServerDir))
	go r.Run(ctx)
	return r
}

// observer scrapes this machine's collectors, with the waivers, as the
// readiness recorder wants them.
func (a *app) observer(ctx context.Context, logger *slog.Logger) readiness.Observer {
	scraper := a.registry.Build(ctx, logger, exporter.ScrapeOptions{Timeout: a.timeout})
	waivers := exporter.NewWaiverCollector(a.waivers())
	return func(ctx context.Context) ([]*dto.MetricFamily, map[string]error, error) {
		obs, err := scraper.Observe(ctx, waivers)
		return obs.Families, obs.Errors, err
	}
}
