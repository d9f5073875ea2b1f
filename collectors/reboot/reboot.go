// Package reboot runs on OfficeScan / Apex One agents and tells whether the
// machine waits for a restart to load a new OfficeScan driver.
//
// After a driver update the old TDI driver stays loaded until the agent
// restarts, users who postpone the prompt are never asked again, and no
// OfficeScan API says which agents wait. Windows queues the driver swap as
// a file operation for the next start-up in PendingFileRenameOperations; this
// collector reads that queue and picks out the operations on OfficeScan's
// files. It also reports Windows' generic reboot markers and the agent's
// version. Everything comes from HKEY_LOCAL_MACHINE through Registry, so the
// logic is tested on any OS over recorded values.
package reboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

// Registry reads HKEY_LOCAL_MACHINE. key is a path below HKLM. A missing key
// or value is ok=false, not an error; any other failure (access denied) is
// an error.
type Registry interface {
	KeyExists(key string) (bool, error)
	// MultiSZ returns a REG_MULTI_SZ value's raw data (UTF-16LE); a value of
	// another type is an error.
	MultiSZ(key, value string) (data []byte, ok bool, err error)
	// String returns a REG_SZ or REG_EXPAND_SZ value as stored (unexpanded),
	// or a REG_DWORD / REG_QWORD in decimal.
	String(key, value string) (s string, ok bool, err error)
}

// Where Windows and the agent keep what the collector reads, below HKLM.
const (
	SessionManagerKey = `SYSTEM\CurrentControlSet\Control\Session Manager`
	// CBSRebootPendingKey exists while Component Based Servicing (Windows
	// features, servicing-stack updates) needs a restart.
	CBSRebootPendingKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`
	// WURebootRequiredKey exists while Windows Update needs a restart.
	WURebootRequiredKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`
)

// RenameValues are the queues under SessionManagerKey; Windows reads the
// second one too (it is used for operations queued by some installers).
var RenameValues = []string{"PendingFileRenameOperations", "PendingFileRenameOperations2"}

// AgentKeys are the agent's registry keys: a 32-bit agent on 64-bit Windows
// writes below WOW6432Node, otherwise the native key is used. Both are read.
var AgentKeys = []string{
	`SOFTWARE\WOW6432Node\TrendMicro\PC-cillinNTCorp\CurrentVersion`,
	`SOFTWARE\TrendMicro\PC-cillinNTCorp\CurrentVersion`,
}

// Value names under AgentKeys.
const (
	agentPathValue    = "Application Path"
	agentVersionValue = `Misc.\ProgramVer`
	agentBuildValue   = `Misc.\BuildNum`
	agentServerValue  = "Server"
)

// Reasons for officescan_agent_windows_reboot_required, each always reported.
const (
	ReasonComponentBasedServicing = "component_based_servicing"
	ReasonWindowsUpdate           = "windows_update"
	ReasonPendingFileRename       = "pending_file_rename"
)

const subsystem = "agent"

var (
	rebootPendingDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "reboot_pending"),
		"1 when this machine must restart to load a new OfficeScan driver or file: "+
			"PendingFileRenameOperations(2) under HKLM\\"+SessionManagerKey+
			" queues an operation on a driver named like --collector.reboot.driver-pattern (default tm*.sys) in a drivers folder or on a file under the agent's Application Path.",
		nil, nil)
	windowsRebootDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "windows_reboot_required"),
		"1 when a Windows reboot marker is set, whatever the cause: component_based_servicing (key "+
			CBSRebootPendingKey+" exists), windows_update (key "+WURebootRequiredKey+
			" exists), pending_file_rename (any operation queued in PendingFileRenameOperations(2)).",
		[]string{"reason"}, nil)
	agentInfoDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "info"),
		"Always 1 where an OfficeScan / Apex One agent is installed: its version (Misc.\\ProgramVer), "+
			"build (Misc.\\BuildNum) and server (Server, lower-case, without a port) from HKLM\\SOFTWARE\\[WOW6432Node\\]TrendMicro\\PC-cillinNTCorp\\CurrentVersion.",
		[]string{"version", "build", "server"}, nil)
)

// Options are the collector's flags.
type Options struct {
	// DriverPatterns name OfficeScan's driver files (see DefaultDriverPatterns).
	DriverPatterns []string
}

// AddFlags adds the collector's flags to app.
func AddFlags(app *kingpin.Application) *Options {
	o := &Options{}
	app.Flag("collector.reboot.driver-pattern", "File name of an OfficeScan driver in a drivers folder (repeatable; replaces the default). A queued operation on such a file means the agent waits for a restart. Glob syntax, case-insensitive; the default tm*.sys is unverified.").
		Default(DefaultDriverPatterns...).StringsVar(&o.DriverPatterns)
	return o
}

// Collector reads the registry at each scrape: a restart clears the queue
// and must show at once.
type Collector struct {
	reg     Registry
	drivers []string // checked, lower-case driver patterns
	logger  *slog.Logger
}

// New returns a collector over reg. A malformed driver pattern is an error.
func New(reg Registry, opts Options, logger *slog.Logger) (*Collector, error) {
	m, err := NewMatcher(opts.DriverPatterns)
	if err != nil {
		return nil, fmt.Errorf("--collector.reboot.driver-pattern: %w", err)
	}
	return &Collector{reg: reg, drivers: m.drivers, logger: logger}, nil
}

// agent is what the agent's registry key says.
type agent struct {
	installed              bool
	version, build, server string
	dirs                   []string
}

// Update reads the queues, the markers and the agent key.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	ag, err := c.readAgent()
	if err != nil {
		return err
	}
	// Install folders are read at every run: an agent may be installed or moved.
	m := Matcher{drivers: c.drivers}
	for _, d := range ag.dirs {
		if err := m.AddInstallDir(d); err != nil {
			c.logger.Warn("ignoring the agent's install folder; only the driver patterns are matched", "value", agentPathValue, "err", err)
		}
	}
	var queued, ours bool
	for _, name := range RenameValues {
		ops, err := c.readQueue(name)
		if err != nil {
			return err
		}
		queued = queued || len(ops) > 0
		for _, op := range ops {
			if m.Ours(op) {
				ours = true
				c.logger.Debug("restart pending for an OfficeScan file", "value", name,
					"source", op.Source, "target", op.Target, "delete", op.Delete)
			}
		}
	}
	cbs, err := c.keyExists(CBSRebootPendingKey)
	if err != nil {
		return err
	}
	wu, err := c.keyExists(WURebootRequiredKey)
	if err != nil {
		return err
	}

	ch <- prometheus.MustNewConstMetric(rebootPendingDesc, prometheus.GaugeValue, boolValue(ours))
	ch <- prometheus.MustNewConstMetric(windowsRebootDesc, prometheus.GaugeValue, boolValue(cbs), ReasonComponentBasedServicing)
	ch <- prometheus.MustNewConstMetric(windowsRebootDesc, prometheus.GaugeValue, boolValue(wu), ReasonWindowsUpdate)
	ch <- prometheus.MustNewConstMetric(windowsRebootDesc, prometheus.GaugeValue, boolValue(queued), ReasonPendingFileRename)
	if ag.installed {
		ch <- prometheus.MustNewConstMetric(agentInfoDesc, prometheus.GaugeValue, 1, ag.version, ag.build, ServerName(ag.server))
	}
	return nil
}

// readQueue returns the operations queued in one value; a missing value is
// an empty queue. Data that is not UTF-16 fails the collector (the queue
// cannot be read, so "nothing pending" cannot be claimed); an odd string
// count only warns, since every string can still be matched.
func (c *Collector) readQueue(name string) ([]Operation, error) {
	data, ok, err := c.reg.MultiSZ(SessionManagerKey, name)
	if err != nil {
		return nil, fmt.Errorf(`reading HKLM\%s\%s: %w`, SessionManagerKey, name, err)
	}
	if !ok {
		return nil, nil
	}
	strs, err := DecodeMultiSZ(data)
	if err != nil {
		return nil, fmt.Errorf(`decoding HKLM\%s\%s: %w`, SessionManagerKey, name, err)
	}
	ops, err := ParseOperations(strs)
	if err != nil {
		c.logger.Warn("malformed queue; matching every path in it anyway", "value", `HKLM\`+SessionManagerKey+`\`+name, "err", err)
	}
	return ops, nil
}

// readAgent reads the first agent key that exists for the version, and every
// one for install folders.
func (c *Collector) readAgent() (agent, error) {
	var ag agent
	for _, key := range AgentKeys {
		exists, err := c.keyExists(key)
		if err != nil {
			return ag, err
		}
		if !exists {
			continue
		}
		dir, err := c.str(key, agentPathValue)
		if err != nil {
			return ag, err
		}
		if dir != "" {
			ag.dirs = append(ag.dirs, dir)
		}
		if ag.installed {
			continue
		}
		ag.installed = true
		// The labels are informative only: a value that cannot be read
		// leaves its label empty rather than hiding reboot_pending.
		for value, label := range map[string]*string{
			agentVersionValue: &ag.version, agentBuildValue: &ag.build, agentServerValue: &ag.server,
		} {
			if *label, err = c.str(key, value); err != nil {
				c.logger.Warn("leaving an officescan_agent_info label empty", "err", err)
			}
		}
	}
	return ag, nil
}

func (c *Collector) keyExists(key string) (bool, error) {
	ok, err := c.reg.KeyExists(key)
	if err != nil {
		return false, fmt.Errorf(`opening HKLM\%s: %w`, key, err)
	}
	return ok, nil
}

// str reads a string value; a missing one is empty.
func (c *Collector) str(key, value string) (string, error) {
	s, _, err := c.reg.String(key, value)
	if err != nil {
		return "", fmt.Errorf(`reading HKLM\%s\%s: %w`, key, value, err)
	}
	return s, nil
}

// ServerName is the agent's Server value as the officescan_server_address_info
// join compares it: lower-case, without a port, the brackets of an IPv6
// literal, a URL's scheme and path, or the root's trailing dot, and an IP
// address in its canonical form. "OSCE01.Corp.Example:8080" is
// "osce01.corp.example" and "[fe80::1]:443" is "fe80::1"; an IPv6 address
// without brackets has no port and stays whole.
func ServerName(v string) string {
	host := strings.ToLower(strings.TrimSpace(v))
	if _, rest, ok := strings.Cut(host, "://"); ok {
		host, _, _ = strings.Cut(rest, "/")
	}
	if rest, ok := strings.CutPrefix(host, "["); ok {
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			host = rest[:end]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && i == strings.LastIndexByte(host, ':') {
		// One colon: host:port. Two or more: an IPv6 address.
		host = host[:i]
	}
	// As the addresses collector writes them: 2001:DB8:0::1 is 2001:db8::1.
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.WithZone("").Unmap().String()
	}
	return strings.TrimSuffix(host, ".")
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ErrNotSupported is returned where there is no Windows registry.
var ErrNotSupported = errors.New("the reboot collector reads the Windows registry: not supported on this OS")

// Spec registers the collector. It is off by default everywhere: it belongs
// on agents, not on the server the other collectors watch. opts is read once
// flags are parsed.
func Spec(opts *Options) exporter.Spec {
	return exporter.Spec{
		Name:           "reboot",
		Help:           "agent side: restart pending for OfficeScan drivers, Windows reboot markers, agent version (Windows)",
		DefaultEnabled: false,
		New: func(_ context.Context, logger *slog.Logger) (exporter.Collector, error) {
			reg, err := OpenRegistry()
			if err != nil {
				return nil, err
			}
			return New(reg, *opts, logger)
		},
	}
}
