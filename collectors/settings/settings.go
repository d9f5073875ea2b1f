// Package settings reports the OfficeScan console options the upgrade
// depends on, read from the server's ini files.
//
// The ini key behind each console option is not publicly documented, so the
// mapping (file, section, key, the values meaning enabled and disabled) is
// configuration: the settings block of --config.file, found with
// `officescan_exporter settings diff` (docs/collector.settings.md).
//
// What is unknown never reads as a state: a setting with no mapping has no
// sample (and does not fail the collector: it was never asked for); a mapped
// setting whose file, section or key is missing, or whose value is in neither
// list, has no sample and fails the collector, with the file, section, key
// and value in the error.
package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/collectors/serverinfo"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/ini"
)

var enabledDesc = prometheus.NewDesc(
	prometheus.BuildFQName(exporter.Namespace, "setting", "enabled"),
	"1 when the console setting is enabled, 0 when disabled, read from the ini key mapped in the config file; absent when its state is unknown (no mapping, or the value could not be read or is not a listed one).",
	[]string{"setting"}, nil)

// Collector reads every mapped setting at each scrape, so an edit of the
// file shows at the next scrape.
type Collector struct {
	serverDir string
	server    serverinfo.Source
	mapped    []mapped
	logger    *slog.Logger
}

type mapped struct {
	name string
	config.Setting
}

// New returns a collector over the settings in m. serverDir is
// --officescan.server-dir; when it is empty, server gives the folder.
func New(serverDir string, server serverinfo.Source, m map[string]config.Setting, logger *slog.Logger) *Collector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{serverDir: serverDir, server: server, logger: logger}
	for name, s := range m {
		c.mapped = append(c.mapped, mapped{name, s})
	}
	slices.SortFunc(c.mapped, func(a, b mapped) int { return strings.Compare(a.name, b.name) })
	return c
}

// Unmapped lists the known settings that m has no mapping for.
func Unmapped(m map[string]config.Setting) []string {
	var out []string
	for _, name := range hazard.SettingNames() {
		if _, ok := m[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

// Update reads each file once and reports every setting it can. Each
// setting is judged alone: one that cannot be read, or has an unlisted
// value, has no sample (its state is unknown) and its error is logged,
// naming the setting, but the others are still reported. The collector
// fails only when it cannot work at all: no mapped setting could be read
// (the server folder or the file is missing, say).
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	files := map[string]fileResult{}
	var errs []error
	read := 0
	for _, m := range c.mapped {
		on, err := c.read(m, files)
		if err != nil {
			errs = append(errs, fmt.Errorf("setting %s (mapped at %s): %w", m.name, m.Source, err))
			continue
		}
		read++
		v := 0.0
		if on {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(enabledDesc, prometheus.GaugeValue, v, m.name)
	}
	if read == 0 {
		return errors.Join(errs...)
	}
	for _, err := range errs {
		c.logger.Warn("console setting unknown: it blocks the upgrade verdict; the other settings are still read", "err", err)
	}
	return nil
}

type fileResult struct {
	f   *ini.File
	err error
}

func (c *Collector) read(m mapped, files map[string]fileResult) (bool, error) {
	path := m.File
	if !filepath.IsAbs(path) {
		dir, err := serverinfo.ServerDir(c.serverDir, c.server)
		if err != nil {
			return false, fmt.Errorf("file %s, section [%s], key %s: %w", m.File, m.Section, m.Key, err)
		}
		path = filepath.Join(dir, path)
	}
	r, ok := files[path]
	if !ok {
		r.f, r.err = ini.ReadFile(path)
		files[path] = r
	}
	if r.err != nil {
		return false, fmt.Errorf("section [%s], key %s: %w", m.Section, m.Key, r.err)
	}
	k, err := r.f.Get(m.Section, m.Key)
	if err != nil {
		return false, err
	}
	switch {
	case listed(k.Value, m.EnabledValues):
		return true, nil
	case listed(k.Value, m.DisabledValues):
		return false, nil
	}
	return false, fmt.Errorf("%s:%d: section [%s], key %s: value %q is neither an enabled value %q nor a disabled value %q",
		path, k.Line, m.Section, m.Key, k.Value, m.EnabledValues, m.DisabledValues)
}

// listed compares ignoring case, as the config file's check that no value is
// both enabled and disabled does.
func listed(v string, values []string) bool {
	return slices.ContainsFunc(values, func(s string) bool { return strings.EqualFold(v, s) })
}

// Spec registers the collector. It reads serverDir and mapping when it is
// built, after the flags and the config file are parsed.
func Spec(serverDir *string, mapping *map[string]config.Setting) exporter.Spec {
	return exporter.Spec{
		Name:           "settings",
		Help:           "console settings the upgrade depends on, read from Ofcscan.ini through the config file's mapping",
		DefaultEnabled: true,
		New: func(_ context.Context, logger *slog.Logger) (exporter.Collector, error) {
			for _, name := range Unmapped(*mapping) {
				logger.Warn("console setting has no mapping: its state is unknown, which blocks the upgrade verdict",
					"setting", name,
					"how", "add settings."+name+" (file, section, key, enabled_values, disabled_values) to --config.file; find the key with 'officescan_exporter settings diff BEFORE.ini AFTER.ini --setting "+name+"'; see docs/collector.settings.md")
			}
			dir := *serverDir
			if dir == "" {
				dir = noServerDirWords()
			}
			logger.Info("reading console settings", "mapped", len(*mapping), "server_dir", dir)
			return New(*serverDir, serverinfo.Local(), *mapping, logger), nil
		},
	}
}

// noServerDirWords says where the server folder comes from when no flag or
// config sets it, in the words of this OS: only Windows has the registry.
func noServerDirWords() string {
	if runtime.GOOS == "windows" {
		return "(from the registry at each scrape)"
	}
	return "(not set: on this OS give --officescan.server-dir or server_dir in the config file, or map settings to absolute files)"
}
