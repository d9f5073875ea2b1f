// Package hazard is the one table of upgrade hazards. Every fact the verdict
// rests on is written here once: each hazard's name, the collector and
// metrics it reads, its threshold and window, the console settings, the
// waiver key, the reasons it reports, the alerts that watch it, its runbook
// anchor and the words a person reads. The rules generator (alerts), the
// dashboard generator (grafana), the verdict (page and check) and the docs
// all read this table; nothing else defines these facts.
//
// Like kubernetes-mixin's _config: change a threshold or add a hazard here,
// regenerate, and the drift tests show every artefact that follows.
//
// This package imports nothing of the project, so every other package may
// import it.
package hazard

import "time"

// The vendor's upgrade note (KA-0003078): wait until Task Manager shows the
// database's CPU as 00, i.e. under 0.5 % of all logical CPUs. The contract
// measures it over a whole window from the CPU counter, so that work between
// samples, or while Prometheus missed scrapes, counts.
const (
	// IdleRatio is the share of all logical CPUs under which DbServer.exe is
	// idle, both now and on average over IdleWindow.
	IdleRatio = 0.005
	// IdleWindow is how long the database must have been measured idle.
	IdleWindow = 5 * time.Minute
	// WindowOpenFor is how long the verdict must stay safe before
	// OfficeScanUpgradeWindowOpen fires; check --wait settles as long.
	WindowOpenFor = 15 * time.Minute
	// ScrapeInterval is the scrape interval the shipped rules assume (the
	// Prometheus default). Evidence older than MaxSampleAge is stale.
	ScrapeInterval = time.Minute
	// TargetMemory is how long a target that stopped being scraped keeps a
	// verdict (0, scrape_stale). Longer than Prometheus' 5-minute lookback:
	// after Prometheus restarts, `up` may be gone (staleness markers written
	// at shutdown) while the verdict recorded before is still readable;
	// writing 0 for the target overrides it, so no stale 1 is ever read.
	TargetMemory = 10 * time.Minute
)

// MaxSampleAge is how old the newest scrape of a target may be and still
// count as fresh: one scrape interval and a half, so an evaluation that
// falls just before the next scrape still reads the last one, while a missed
// scrape makes the target's evidence stale.
func MaxSampleAge(scrapeInterval time.Duration) time.Duration { return scrapeInterval * 3 / 2 }

// IdleCPUSecondsPerCPU is the CPU time one logical CPU may spend on
// DbServer.exe over IdleWindow while the database still counts as idle.
func IdleCPUSecondsPerCPU() float64 { return IdleRatio * IdleWindow.Seconds() }

// DefaultJob is the job the shipped rules and dashboard select exporter
// targets by.
const DefaultJob = "officescan"

// DefaultTargetLabels are the labels that tell exporter targets apart: the
// rules join a target's series on them. Sites that federate several
// Prometheus servers add their own (e.g. "cluster").
var DefaultTargetLabels = []string{"instance", "job"}

// Contract metric names the verdict reads.
const (
	MetricUp                 = "up"
	MetricCollectorSuccess   = "officescan_scrape_collector_success"
	MetricDBProcesses        = "officescan_dbserver_processes"
	MetricDBCPUSeconds       = "officescan_dbserver_cpu_seconds_total"
	MetricDBUtilization      = "officescan_dbserver_cpu_utilization_ratio"
	MetricLogicalCPUs        = "officescan_logical_cpus"
	MetricAutoPccProcesses   = "officescan_autopcc_processes"
	MetricShareOpenFiles     = "officescan_share_login_script_open_files"
	MetricSettingEnabled     = "officescan_setting_enabled"
	MetricHazardWaived       = "officescan_hazard_waived"
	MetricServerAddressInfo  = "officescan_server_address_info"
	MetricAgentRebootPending = "officescan_agent_reboot_pending"
	MetricAgentInfo          = "officescan_agent_info"
)

// Console setting names (the contract's `setting` label values).
const (
	SettingFirewall            = "firewall"
	SettingFirewallDriverDefer = "firewall_driver_update_after_reboot"
	SettingRestartNotification = "kernel_driver_restart_notification"
	settingsCollector          = "settings"
	// Where the vendor's note (KA-0003078) puts the two options it names.
	consoleGlobalSettings = "Networked Computers > Global Client Settings (10.6), Agents > Global Agent Settings (11.0), Agents > Global Agent Settings > Agent Control (XG)"
)

// Settings are the console settings the verdict reads, in order.
var Settings = []Setting{
	{Name: SettingFirewall,
		Option: "the OfficeScan firewall (enabled in the agents' firewall policy)",
		// The note says only "if you have enabled the OfficeScan firewall".
		ConsolePath: "the firewall policy pages of the console (the vendor's note does not name them)"},
	{Name: SettingFirewallDriverDefer,
		Option:      "Update the OfficeScan firewall driver only after a system reboot",
		ConsolePath: consoleGlobalSettings + ", section Firewall Settings"},
	{Name: SettingRestartNotification,
		Option:      "Display a notification message if the client computer needs to restart to load a kernel mode driver",
		ConsolePath: consoleGlobalSettings + ", section Alert Settings"},
}

// Setting is one console option the verdict reads from an ini mapping.
type Setting struct {
	Name string
	// Option is the option's words in the console.
	Option string
	// ConsolePath is where the option is in the web console.
	ConsolePath string
}

// SettingNames returns the settings' names in order.
func SettingNames() []string {
	out := make([]string, len(Settings))
	for i, s := range Settings {
		out[i] = s.Name
	}
	return out
}

// Reason names why one target is blocked: the `reason` label of
// officescan:upgrade_blocker. Label, when set, is the one extra label the
// reason carries (collector, metric or setting).
type Reason struct {
	Name  string
	Label string
	// Summary is one line a person reads on the page, in check and on the
	// dashboard.
	Summary string
	// Action says what to do about it.
	Action string
	// Missing: the reason is missing evidence, not a hazard seen. `check`
	// exits 2 (could not tell) when every reason is of this kind, 1 when
	// some hazard is seen.
	Missing bool
}

// Alert watches one or more reasons of a hazard.
type Alert struct {
	Name     string
	Severity string
	For      time.Duration
	// Reasons are the blocker reasons the alert fires on.
	Reasons     []string
	Summary     string
	Description string
}

// Kind is the shape of the proof a hazard needs; the rules generator and
// the evaluator have one implementation per kind, so a new hazard of an
// existing kind is one table row and its collector.
type Kind int

const (
	// KindZero: the hazard's first metric must be 0 (a count of things in
	// the way); its last reason is reported otherwise, NaN included.
	KindZero Kind = iota
	// KindDatabase: DbServer.exe running and measured idle over IdleWindow.
	KindDatabase
	// KindEnabledSetting: the hazard's one setting must be enabled (1); its
	// last reason is reported when it is disabled (0).
	KindEnabledSetting
	// KindFirewallDriver: the firewall driver update deferred (1), or the
	// firewall off (0).
	KindFirewallDriver
	// KindAgents: no more waiting agents than the tolerance.
	KindAgents
)

// Hazard is one row of the table.
type Hazard struct {
	// Name is the contract's hazard name: the `hazard` label of
	// officescan:hazard_clear, officescan:upgrade_blocker and
	// officescan_hazard_waived, the config file's waiver key, and the
	// runbook anchor.
	Name string
	// Kind is the shape of its proof.
	Kind Kind
	// Title says what must hold, as a checklist line.
	Title string
	// Collectors are the exporter collectors that produce the inputs.
	Collectors []string
	// Metrics are the contract metrics read (besides collector success).
	Metrics []string
	// Settings are the console settings read (settings hazards only).
	Settings []string
	// Waivable: the config file may waive the hazard with a reason.
	// Switching its collector off is never a waiver.
	Waivable bool
	// Optional: no data at all does not block (agents only; agent
	// monitoring needs an exporter on every desktop).
	Optional bool
	// Reasons it reports, most specific first.
	Reasons []Reason
	// Alerts on its reasons.
	Alerts []Alert
	// Why explains the hazard (from the vendor's note), for the runbook.
	Why string
}

// Reasons shared by every hazard that reads a collector. Their extra label
// names the collector or metric.
var (
	ReasonCollectorOff = Reason{Name: "collector_off", Missing: true, Label: "collector",
		Summary: "the collector is off or its success series is missing, so this hazard is not checked",
		Action:  "Enable the collector (remove --no-collector.<name>, check relabelling). If the hazard does not apply to this server, waive it in the config file with a reason (waivers: <hazard>: \"why\"); switching a collector off is never a waiver."}
	ReasonCollectorFailed = Reason{Name: "collector_failed", Missing: true, Label: "collector",
		Summary: "the collector fails, so this hazard cannot be checked",
		Action:  "Fix what the collector's error names (the exporter's log and page show it)."}
	ReasonInputMissing = Reason{Name: "input_missing", Missing: true, Label: "metric",
		Summary: "the collector runs but a metric this hazard needs is missing or stale",
		Action:  "Check relabelling rules that drop officescan_* series, and the exporter's version."}
)

// ExporterHazard is the hazard label of reasons about the target itself.
const ExporterHazard = "exporter"

// ExporterReasons are the reasons not tied to one hazard's inputs. All but
// hazard_unproven are about the target itself and carry
// hazard="exporter"; hazard_unproven carries the hazard it leaves unproven.
var ExporterReasons = []Reason{
	{Name: "exporter_down", Missing: true, Summary: "Prometheus cannot scrape the exporter",
		Action: "Start the exporter (service officescan_exporter) and check the firewall and the scrape address."},
	{Name: "scrape_stale", Missing: true, Summary: "the newest scrape of the exporter is too old to count as evidence",
		Action: "Check that Prometheus scrapes the exporter (Status > Targets); the verdict returns once fresh scrapes arrive."},
	{Name: "not_a_server", Missing: true, Summary: "this target is an exporter in agent mode, not an OfficeScan server",
		Action: "Move agent exporters out of the server job (their data belongs in the agents' job)."},
	{Name: "collector_failed", Missing: true, Label: "collector", Summary: ReasonCollectorFailed.Summary, Action: ReasonCollectorFailed.Action},
	// The rules' safety net: the verdict rests on positive proof, so a
	// hazard can be unproven for a cause no rule names.
	{Name: "hazard_unproven", Missing: true, Summary: "the hazard is not proven clear, for a cause no other reason names",
		Action: "Report it: the exporter's page and `check` show what they see. Until then the hazard reads blocked."},
}

// Table is the table of hazards, in the order people read them.
var Table = []Hazard{
	{
		Name:       "dbserver",
		Kind:       KindDatabase,
		Title:      "The OfficeScan database (DbServer.exe) is running and measured idle",
		Collectors: []string{"dbserver"},
		Metrics:    []string{MetricDBProcesses, MetricDBCPUSeconds, MetricDBUtilization, MetricLogicalCPUs},
		Waivable:   true,
		Why: "The server cannot be upgraded while its database works. The vendor's note says to wait until " +
			"DbServer.exe's CPU in Task Manager reads 00 (under 0.5 % of all CPUs), and to restart the server if " +
			"files stay locked. A server whose database is not DbServer.exe (SQL Server) waives this hazard.",
		Reasons: []Reason{
			ReasonCollectorOff, ReasonCollectorFailed, ReasonInputMissing,
			{Name: "database_not_running", Summary: "no process named DbServer.exe is running",
				Action: "Start the OfficeScan database (the Master Service starts it). If this server's database is not DbServer.exe, waive the dbserver hazard in the config file."},
			{Name: "database_history_incomplete", Missing: true, Summary: "DbServer.exe has not been measured for a whole idle window yet (exporter restarted, counter reset, or too little history)",
				Action: "Wait: a whole window of measurement is needed before the database can be proven idle."},
			{Name: "database_busy", Summary: "DbServer.exe used 0.5 % or more of all CPUs, now or over the idle window",
				Action: "Wait until the database is idle (Task Manager shows its CPU as 00). If its files stay locked, the vendor's note advises restarting the server."},
		},
		Alerts: []Alert{
			{Name: "OfficeScanDatabaseBusy", Severity: "warning", For: time.Hour, Reasons: []string{"database_busy"},
				Summary: "The OfficeScan database has been busy for a long time."},
			{Name: "OfficeScanDatabaseNotRunning", Severity: "warning", For: 10 * time.Minute, Reasons: []string{"database_not_running"},
				Summary: "DbServer.exe is not running."},
			{Name: "OfficeScanDatabaseHistoryIncomplete", Severity: "warning", For: 30 * time.Minute, Reasons: []string{"database_history_incomplete"},
				Summary: "DbServer.exe's CPU has not been measured for a whole window for a long time."},
		},
	},
	{
		Name:       "autopcc",
		Kind:       KindZero,
		Title:      "The Login Script (AutoPcc.exe / AutoPccP.exe) is not running on this server",
		Collectors: []string{"autopcc"},
		Metrics:    []string{MetricAutoPccProcesses},
		Waivable:   true,
		Why:        "The server cannot be upgraded while any client runs the Login Script (AutoPcc.exe).",
		Reasons: []Reason{
			ReasonCollectorOff, ReasonCollectorFailed, ReasonInputMissing,
			{Name: "login_script_running", Summary: "AutoPcc.exe or AutoPccP.exe runs on this server",
				Action: "Wait for the Login Script to finish (or end AutoPcc.exe)."},
		},
		Alerts: []Alert{
			{Name: "OfficeScanLoginScriptRunning", Severity: "warning", For: 30 * time.Minute,
				Reasons: []string{"login_script_running", "login_script_share_sessions"},
				Summary: "The OfficeScan Login Script keeps running."},
		},
	},
	{
		Name:       "share",
		Kind:       KindZero,
		Title:      "No client runs the Login Script from the ofcscan share",
		Collectors: []string{"share"},
		Metrics:    []string{MetricShareOpenFiles},
		Waivable:   true,
		Why: "Clients run AutoPcc.exe from the server's ofcscan share; from the server they show as SMB open " +
			"files on that share. A server where no client uses the Login Script may waive this hazard.",
		Reasons: []Reason{
			ReasonCollectorOff, ReasonCollectorFailed, ReasonInputMissing,
			{Name: "login_script_share_sessions", Summary: "clients have Login Script files open on the ofcscan share",
				Action: "Wait for those clients' Login Script to finish; Get-SmbOpenFile on the server lists them."},
		},
	},
	{
		Name:       "firewall_driver",
		Kind:       KindFirewallDriver,
		Title:      "The firewall driver update waits for a reboot (or the firewall is off)",
		Collectors: []string{settingsCollector},
		Metrics:    []string{MetricSettingEnabled},
		Settings:   []string{SettingFirewall, SettingFirewallDriverDefer},
		Waivable:   true,
		Why: "With the OfficeScan firewall on, deploying the upgrade updates the Common Firewall Driver and agents " +
			"drop off the network, unless the update is deferred until a reboot. With the firewall off it does not matter.",
		Reasons: []Reason{
			ReasonCollectorOff, ReasonCollectorFailed,
			{Name: "setting_unknown", Missing: true, Label: "setting", Summary: "the state of a console setting is unknown (no mapping, unreadable key or unlisted value)",
				Action: "Map the option in the config file (officescan_exporter settings diff finds its key)."},
			{Name: "firewall_driver_update_not_deferred", Summary: "the firewall is on (or unknown) and its driver update is not deferred until a reboot",
				Action: "Enable \"Update the OfficeScan firewall driver only after a system reboot\" before the upgrade."},
		},
		Alerts: []Alert{
			{Name: "OfficeScanFirewallDriverUpdateNotDeferred", Severity: "warning", For: 15 * time.Minute,
				Reasons: []string{"firewall_driver_update_not_deferred"},
				Summary: "An upgrade now would disconnect agents (firewall driver update not deferred)."},
		},
	},
	{
		Name:       "restart_notification",
		Kind:       KindEnabledSetting,
		Title:      "Agents are told to restart to load a new kernel-mode driver",
		Collectors: []string{settingsCollector},
		Metrics:    []string{MetricSettingEnabled},
		Settings:   []string{SettingRestartNotification},
		Waivable:   true,
		Why: "The old TDI driver stays loaded until the agent restarts; the notification prompts users once, " +
			"and users who postpone are never prompted again.",
		Reasons: []Reason{
			ReasonCollectorOff, ReasonCollectorFailed,
			{Name: "setting_unknown", Missing: true, Label: "setting", Summary: "the state of a console setting is unknown (no mapping, unreadable key or unlisted value)",
				Action: "Map the option in the config file (officescan_exporter settings diff finds its key)."},
			{Name: "restart_notification_off", Summary: "the restart notification for kernel-mode drivers is off",
				Action: "Enable \"Display a notification message if the client computer needs to restart to load a kernel mode driver\"."},
		},
		Alerts: []Alert{
			{Name: "OfficeScanRestartNotificationOff", Severity: "warning", For: 15 * time.Minute,
				Reasons: []string{"restart_notification_off"},
				Summary: "Agents would not be told to restart for the new kernel driver."},
			{Name: "OfficeScanSettingUnknown", Severity: "warning", For: 15 * time.Minute,
				Reasons: []string{"setting_unknown"},
				Summary: "An OfficeScan console setting the upgrade depends on is unknown."},
		},
	},
	{
		Name:     "agents",
		Kind:     KindAgents,
		Title:    "No agent of this server waits for a restart to load a new OfficeScan driver",
		Metrics:  []string{MetricAgentRebootPending, MetricAgentInfo, MetricServerAddressInfo},
		Optional: true,
		Why: "Agents that must restart to load a new OfficeScan driver keep the old one; upgrading the server " +
			"before they restart leaves them on mismatched drivers.",
		Reasons: []Reason{
			{Name: "agents_reboot_pending", Summary: "agents of this server (or agents matched to no server) wait for a restart",
				Action: "Restart those machines before the upgrade (the dashboard lists them)."},
		},
		Alerts: []Alert{
			{Name: "OfficeScanAgentsWaitingForRestart", Severity: "warning", For: 24 * time.Hour,
				Reasons: []string{"agents_reboot_pending"},
				Summary: "OfficeScan agents keep waiting for a restart."},
		},
	},
}

// ExporterAlerts watch the exporter's own reasons.
var ExporterAlerts = []Alert{
	{Name: "OfficeScanExporterDown", Severity: "warning", For: 5 * time.Minute, Reasons: []string{"exporter_down", "scrape_stale"},
		Summary: "OfficeScan exporter is down; the upgrade window cannot be judged."},
	{Name: "OfficeScanCollectorFailing", Severity: "warning", For: 10 * time.Minute, Reasons: []string{"collector_failed"},
		Summary: "An OfficeScan exporter collector is failing."},
	{Name: "OfficeScanInputMissing", Severity: "warning", For: 10 * time.Minute, Reasons: []string{"collector_off", "input_missing", "not_a_server", "hazard_unproven"},
		Summary: "An input the upgrade verdict needs is missing."},
}

// WindowOpenAlert is the contract's alert: the verdict has been safe for
// WindowOpenFor.
const WindowOpenAlert = "OfficeScanUpgradeWindowOpen"

// ByName returns the hazard called name.
func ByName(name string) (Hazard, bool) {
	for _, h := range Table {
		if h.Name == name {
			return h, true
		}
	}
	return Hazard{}, false
}

// WaivableNames returns the hazards the config file may waive, in order.
func WaivableNames() []string {
	var out []string
	for _, h := range Table {
		if h.Waivable {
			out = append(out, h.Name)
		}
	}
	return out
}

// CollectorHazards returns the hazards a collector feeds.
func CollectorHazards(collector string) []string {
	var out []string
	for _, h := range Table {
		for _, c := range h.Collectors {
			if c == collector {
				out = append(out, h.Name)
			}
		}
	}
	return out
}

// Reason returns the reason called name of h.
func (h Hazard) Reason(name string) (Reason, bool) {
	for _, r := range h.Reasons {
		if r.Name == name {
			return r, true
		}
	}
	return Reason{}, false
}

// AllAlerts returns the exporter's alerts and every alert of table.
func AllAlerts(table []Hazard) []Alert {
	out := append([]Alert(nil), ExporterAlerts...)
	for _, h := range table {
		out = append(out, h.Alerts...)
	}
	return out
}

// FindReason returns the reason called name among the exporter's reasons and
// those of table.
func FindReason(table []Hazard, name string) (Reason, bool) {
	for _, r := range ExporterReasons {
		if r.Name == name {
			return r, true
		}
	}
	for _, h := range table {
		if r, ok := h.Reason(name); ok {
			return r, true
		}
	}
	return Reason{}, false
}
