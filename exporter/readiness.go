package exporter

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/config"
)

// The readiness verdict is computed here from the same metric families
// Prometheus scrapes, with the same conditions as the recording rule
// officescan:upgrade_window_safe in alerts/. These are the one definition of
// each threshold; alerts/scenarios.yaml is the shared table of cases both the
// rules and this code are tested against.
const (
	// DatabaseIdleRatio: DbServer.exe counts as idle while its share of all
	// logical CPUs stays under this, i.e. Task Manager shows 00.
	DatabaseIdleRatio = 0.005
	// DatabaseIdleWindow is how long the rules require the database to have
	// been idle on average (and idle right now).
	DatabaseIdleWindow = 5 * time.Minute
	// UpgradeWindowFor is how long the rules' verdict must stay safe before
	// the alert OfficeScanUpgradeWindowOpen fires; check --wait settles for
	// as long by default.
	UpgradeWindowFor = 15 * time.Minute
)

// Metric names the evaluation reads; they are the public contract.
const (
	metricCollectorSuccess  = Namespace + "_scrape_collector_success"
	metricDBProcesses       = Namespace + "_dbserver_processes"
	metricDBUtilization     = Namespace + "_dbserver_cpu_utilization_ratio"
	metricAutoPccProcesses  = Namespace + "_autopcc_processes"
	metricShareOpenFiles    = Namespace + "_share_login_script_open_files"
	metricSettingEnabled    = Namespace + "_setting_enabled"
	metricAgentRebootNeeded = Namespace + "_agent_reboot_pending"
)

// State is one hazard's state.
type State string

const (
	// StateClear: the hazard was checked and does not stand in the way.
	StateClear State = "clear"
	// StateBlocked: the hazard stands in the way of the upgrade.
	StateBlocked State = "blocked"
	// StateUnknown: the hazard could not be checked (a failing collector, a
	// missing input, an unknown setting); never read as clear.
	StateUnknown State = "unknown"
	// StateOff: the collector behind the hazard is switched off (or not
	// available on this OS), so, as in the rules, it is not required.
	StateOff State = "off"
)

// Check is one hazard on the checklist.
type Check struct {
	// Name is the hazard's short, stable name: DbServer, AutoPcc,
	// LoginScriptShare, RebootPending, or a setting name.
	Name string `json:"name"`
	// Title says in words what must hold.
	Title string `json:"title"`
	// Collector is the collector whose metrics decide this hazard.
	Collector string `json:"collector"`
	State     State  `json:"state"`
	// Evidence is what was seen: CPU share, process counts, the setting's
	// value and where it is read from, or why nothing could be seen.
	Evidence string `json:"evidence"`
	// Action says what to do; empty when nothing is to be done.
	Action string `json:"action,omitempty"`
	// Pending is set while the hazard is not known yet only because its
	// measurement window is not complete; waiting a little may settle it.
	Pending bool `json:"pending,omitempty"`
	// Blocker is, for a check that is blocked or unknown, the labels of the
	// officescan:upgrade_blocker series the rules give for the same cause:
	// "reason", plus "collector", "setting" or "metric" where the reason
	// names one. Checks that share a cause (the settings of one failed
	// collector) carry the same labels.
	Blocker map[string]string `json:"blocker,omitempty"`
}

// Outcome is the verdict over all hazards, ordered from best to worst.
type Outcome string

const (
	// OutcomeSafe: every required hazard is clear.
	OutcomeSafe Outcome = "safe"
	// OutcomeBlocked: at least one hazard is blocked. It wins over unknown
	// because it is certain: the upgrade must wait either way.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeUnknown: nothing is blocked but something could not be checked.
	OutcomeUnknown Outcome = "unknown"
)

// ExitCode is the check command's exit code for the outcome.
func (o Outcome) ExitCode() int {
	switch o {
	case OutcomeSafe:
		return 0
	case OutcomeBlocked:
		return 1
	default:
		return 2
	}
}

// Verdict is the readiness of this server at one moment.
type Verdict struct {
	Outcome Outcome `json:"verdict"`
	// Safe is Outcome == OutcomeSafe, for scripts that only want a boolean.
	Safe bool      `json:"safe"`
	Time time.Time `json:"time"`
	// DatabaseWindowSeconds is the span DbServer.exe's CPU use was measured
	// over (the exporter's sampler window), not the rules' five minutes.
	DatabaseWindowSeconds float64 `json:"database_window_seconds"`
	Checks                []Check `json:"checks"`
}

// Blockers returns the checks that are blocked or unknown.
func (v Verdict) Blockers() []Check {
	var out []Check
	for _, c := range v.Checks {
		if c.State == StateBlocked || c.State == StateUnknown {
			out = append(out, c)
		}
	}
	return out
}

// Pending reports whether some hazard is only waiting for its measurement.
func (v Verdict) Pending() bool {
	for _, c := range v.Checks {
		if c.Pending {
			return true
		}
	}
	return false
}

// measuredDatabase reports whether DbServer.exe's CPU was looked at.
func (v Verdict) measuredDatabase() bool {
	for _, c := range v.Checks {
		if c.Name == "DbServer" {
			return c.State != StateOff
		}
	}
	return false
}

// EvaluateOptions carry what the metrics cannot: where things are read from,
// for the evidence. They never change a state.
type EvaluateOptions struct {
	// Settings is the console-setting mapping of the config file.
	Settings map[string]config.Setting
	// ServerDir is the PCCSRV folder the setting files are relative to
	// (empty: found at run time).
	ServerDir string
	// DatabaseWindow is the sampler window of the dbserver collector.
	DatabaseWindow time.Duration
}

// Observation is one scrape as the evaluation sees it.
type Observation struct {
	Time     time.Time
	Families []*dto.MetricFamily
	// Errors holds each failed collector's error. They only feed the
	// evidence: whether a collector failed is read from
	// officescan_scrape_collector_success, as the rules read it.
	Errors map[string]error
}

// Observe scrapes every enabled collector once and gathers the result into
// metric families, exactly as /metrics would expose them.
func (s *Scraper) Observe(ctx context.Context) (Observation, error) {
	obs := Observation{Time: time.Now(), Errors: map[string]error{}}
	rc := &resultCollector{s: s, ctx: ctx}
	reg := prometheus.NewRegistry()
	if err := reg.Register(rc); err != nil {
		return obs, err
	}
	fams, err := reg.Gather()
	obs.Families = fams
	for _, r := range rc.results {
		if r.Err != nil {
			obs.Errors[r.Name] = r.Err
		}
	}
	if err != nil {
		return obs, fmt.Errorf("gathering the scrape: %w", err)
	}
	return obs, nil
}

// resultCollector is a scrape that also keeps each collector's error.
type resultCollector struct {
	s       *Scraper
	ctx     context.Context
	results []Result
}

func (*resultCollector) Describe(chan<- *prometheus.Desc) {}

func (c *resultCollector) Collect(ch chan<- prometheus.Metric) {
	c.results = c.s.Scrape(c.ctx, ch)
}

// samples indexes metric families by name, then by label set.
type samples map[string][]sample

type sample struct {
	labels map[string]string
	value  float64
}

func index(fams []*dto.MetricFamily) samples {
	out := samples{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Untyped != nil:
				s.value = m.GetUntyped().GetValue()
			default:
				continue
			}
			out[f.GetName()] = append(out[f.GetName()], s)
		}
	}
	return out
}

// value returns the one sample of name whose labels include match.
func (s samples) value(name string, match map[string]string) (float64, bool) {
	for _, smp := range s[name] {
		ok := true
		for k, v := range match {
			if smp.labels[k] != v {
				ok = false
				break
			}
		}
		if ok && !math.IsNaN(smp.value) {
			return smp.value, true
		}
	}
	return 0, false
}

// collectorState is on (1), failed (0) or off (no series), from
// officescan_scrape_collector_success.
func (s samples) collector(name string) (on, ok bool) {
	v, present := s.value(metricCollectorSuccess, map[string]string{"collector": name})
	return present, present && v == 1
}

// Evaluate computes the verdict of one observation.
func Evaluate(obs Observation, opts EvaluateOptions) Verdict {
	e := evaluator{s: index(obs.Families), obs: obs, opts: opts}
	checks := []Check{e.dbserver(), e.autopcc(), e.share()}
	checks = append(checks, e.settings()...)
	checks = append(checks, e.reboot())
	checks = append(checks, e.otherCollectors(checks)...)

	v := Verdict{Time: obs.Time, DatabaseWindowSeconds: opts.DatabaseWindow.Seconds(), Checks: checks}
	v.Outcome = outcomeOf(checks)
	v.Safe = v.Outcome == OutcomeSafe
	return v
}

func outcomeOf(checks []Check) Outcome {
	blocked, unknown, clear := false, false, false
	for _, c := range checks {
		switch c.State {
		case StateBlocked:
			blocked = true
		case StateUnknown:
			unknown = true
		case StateClear:
			clear = true
		}
	}
	switch {
	case blocked:
		return OutcomeBlocked
	case unknown:
		return OutcomeUnknown
	case clear:
		return OutcomeSafe
	default:
		// Every collector is off: nothing was checked, and no evidence is
		// no proof of safety. (The rules have no series to read then and
		// see no blocker; the exporter can tell the difference, so it says so.)
		return OutcomeUnknown
	}
}

type evaluator struct {
	s    samples
	obs  Observation
	opts EvaluateOptions
}

func (c *Check) set(state State, blocker map[string]string, evidence, action string) Check {
	c.State, c.Blocker, c.Evidence, c.Action = state, blocker, evidence, action
	return *c
}

func reason(r string, labels ...string) map[string]string {
	m := map[string]string{"reason": r}
	for i := 0; i+1 < len(labels); i += 2 {
		m[labels[i]] = labels[i+1]
	}
	return m
}

// gate finishes c when its collector is off or failed; ok is true when the
// collector's metrics can be read.
func (e evaluator) gate(c *Check) (ok bool) {
	on, succeeded := e.s.collector(c.Collector)
	switch {
	case !on:
		c.set(StateOff, nil, fmt.Sprintf("collector %s is off (--no-collector.%s, or not available on this OS), so this is not checked", c.Collector, c.Collector), "")
		return false
	case !succeeded:
		e.failed(c)
		return false
	}
	return true
}

func (e evaluator) failed(c *Check) {
	evidence := fmt.Sprintf("collector %s failed", c.Collector)
	if err := e.obs.Errors[c.Collector]; err != nil {
		evidence += ": " + err.Error()
	}
	c.set(StateUnknown, reason("collector_failed", "collector", c.Collector), evidence,
		"Fix what the error names (the exporter's log has it too); until then this cannot be checked.")
}

func (e evaluator) missing(c *Check, metric string) Check {
	return c.set(StateUnknown, reason("input_missing", "metric", metric),
		fmt.Sprintf("collector %s succeeded but %s is missing", c.Collector, metric),
		"Report this as a bug of the exporter; until then this cannot be checked.")
}

func (e evaluator) dbserver() Check {
	c := Check{Name: "DbServer", Collector: "dbserver",
		Title: "The OfficeScan database (DbServer.exe) is running and idle"}
	if !e.gate(&c) {
		return c
	}
	n, ok := e.s.value(metricDBProcesses, nil)
	if !ok {
		return e.missing(&c, metricDBProcesses)
	}
	if n == 0 {
		return c.set(StateBlocked, reason("database_not_running"), "no process named DbServer.exe is running",
			"Make sure the OfficeScan database is running: a stopped database cannot be checked for work. If this server's database is not DbServer.exe (for example SQL Server), run the exporter with --no-collector.dbserver.")
	}
	window := "its sampling window"
	if e.opts.DatabaseWindow > 0 {
		window = "the last " + human(e.opts.DatabaseWindow)
	}
	u, ok := e.s.value(metricDBUtilization, nil)
	if !ok {
		c.Pending = true
		return c.set(StateUnknown, reason("database_history_incomplete"),
			fmt.Sprintf("%s running; its CPU use over %s is not measured yet", processes(n, "DbServer.exe"), window),
			"Wait for the first measurement window to complete.")
	}
	evidence := fmt.Sprintf("%s using %s of all CPUs on average over %s (idle means under %s)",
		processes(n, "DbServer.exe"), percent(u), window, percent(DatabaseIdleRatio))
	if u >= DatabaseIdleRatio {
		return c.set(StateBlocked, reason("database_busy"), evidence,
			"Wait until the database is idle (Task Manager shows its CPU as 00). If its files stay locked, the vendor's upgrade note advises restarting the server.")
	}
	return c.set(StateClear, nil, evidence, "")
}

func (e evaluator) autopcc() Check {
	c := Check{Name: "AutoPcc", Collector: "autopcc",
		Title: "The Login Script (AutoPcc.exe / AutoPccP.exe) is not running on this server"}
	if !e.gate(&c) {
		return c
	}
	n, ok := e.s.value(metricAutoPccProcesses, nil)
	if !ok {
		return e.missing(&c, metricAutoPccProcesses)
	}
	evidence := processes(n, "AutoPcc.exe or AutoPccP.exe") + " running on this server"
	if n > 0 {
		return c.set(StateBlocked, reason("login_script_running"), evidence,
			"Wait for the Login Script to finish (or end AutoPcc.exe); the server cannot be upgraded while it runs.")
	}
	return c.set(StateClear, nil, evidence, "")
}

func (e evaluator) share() Check {
	c := Check{Name: "LoginScriptShare", Collector: "share",
		Title: "No client runs the Login Script from the ofcscan share"}
	if !e.gate(&c) {
		return c
	}
	n, ok := e.s.value(metricShareOpenFiles, nil)
	if !ok {
		return e.missing(&c, metricShareOpenFiles)
	}
	evidence := count(n, "file", "files") + " on the ofcscan share open by clients running the Login Script"
	if n > 0 {
		return c.set(StateBlocked, reason("login_script_share_sessions"), evidence,
			"Wait for those clients' Login Script to finish; Get-SmbOpenFile on this server lists the clients and files.")
	}
	return c.set(StateClear, nil, evidence, "")
}

// reboot reads officescan_agent_reboot_pending wherever it comes from. On a
// server it is at most this machine's own value; the rules read every
// agent's, and any of them waiting blocks there too.
func (e evaluator) reboot() Check {
	c := Check{Name: "RebootPending", Collector: "reboot",
		Title: "No agent waits for a restart to load a new OfficeScan driver"}
	on, succeeded := e.s.collector(c.Collector)
	if on && !succeeded {
		e.failed(&c)
		return c
	}
	values := e.s[metricAgentRebootNeeded]
	if len(values) == 0 {
		if on {
			return e.missing(&c, metricAgentRebootNeeded)
		}
		return c.set(StateOff, nil, "collector reboot is off (it runs on agents) and no agent's data is here, so this is not checked", "")
	}
	pending := 0
	for _, v := range values {
		if v.value > 0 {
			pending++
		}
	}
	evidence := fmt.Sprintf("%d of %s must restart to load a new OfficeScan driver", pending, count(float64(len(values)), "machine", "machines"))
	if pending > 0 {
		return c.set(StateBlocked, reason("agents_reboot_pending"), evidence, "Restart those machines before the upgrade.")
	}
	return c.set(StateClear, nil, evidence, "")
}

// otherCollectors covers collectors that feed no hazard above: as in the
// rules, one that is on and fails still blocks, because a broken exporter
// is no evidence of safety.
func (e evaluator) otherCollectors(checks []Check) []Check {
	covered := map[string]bool{}
	for _, c := range checks {
		covered[c.Collector] = true
	}
	var out []Check
	for _, smp := range e.s[metricCollectorSuccess] {
		name := smp.labels["collector"]
		if covered[name] || smp.value == 1 {
			continue
		}
		c := Check{Name: "collector " + name, Collector: name, Title: "Collector " + name + " works"}
		e.failed(&c)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// settingHazards are the console settings on the checklist, in order.
var settingHazards = []struct{ name, title string }{
	{"firewall", "The OfficeScan firewall setting is known"},
	{"firewall_driver_update_after_reboot", "The firewall driver update waits for a reboot (or the firewall is off)"},
	{"kernel_driver_restart_notification", "Agents are told to restart to load a new kernel-mode driver"},
}

const (
	actionDeferDriver = "Enable \"Update the OfficeScan firewall driver only after a system reboot\" (Global Client/Agent Settings, Firewall Settings; under Agent Control in XG) before the upgrade, or agents drop off the network when the package deploys."
	actionNotify      = "Enable \"Display a notification message if the client computer needs to restart to load a kernel mode driver\" (Global Client/Agent Settings, Alert Settings), so that agents are prompted to restart into the new driver."
)

func (e evaluator) settings() []Check {
	var out []Check
	for _, h := range settingHazards {
		c := Check{Name: h.name, Collector: "settings", Title: h.title}
		if e.gate(&c) {
			e.setting(&c)
		}
		out = append(out, c)
	}
	return out
}

func (e evaluator) setting(c *Check) {
	where := e.where(c.Name)
	on, known := e.settingValue(c.Name)
	if !known {
		c.set(StateUnknown, reason("setting_unknown", "setting", c.Name), "state unknown; "+where,
			"Check the option in the console, and map it in the config file (settings."+c.Name+"; docs/collector.settings.md shows how to find its key with `officescan_exporter settings diff`): an unknown setting never reads as safe.")
		return
	}
	evidence := onOff(on) + ", " + where
	switch {
	case c.Name == "firewall_driver_update_after_reboot" && !on:
		fw, fwKnown := e.settingValue("firewall")
		switch {
		case !fwKnown:
			// Blocked by the unknown firewall setting, which the rules
			// report once, on that setting.
			c.set(StateUnknown, reason("setting_unknown", "setting", "firewall"),
				evidence+"; this matters if the firewall is on, and whether it is on is unknown", actionDeferDriver)
		case fw:
			c.set(StateBlocked, reason("firewall_driver_update_not_deferred"), evidence+"; the firewall is on", actionDeferDriver)
		default:
			c.set(StateClear, nil, evidence+"; the firewall is off, so its driver is not updated", "")
		}
	case c.Name == "kernel_driver_restart_notification" && !on:
		c.set(StateBlocked, reason("restart_notification_off"), evidence, actionNotify)
	default:
		c.set(StateClear, nil, evidence, "")
	}
}

func (e evaluator) settingValue(name string) (enabled, known bool) {
	v, ok := e.s.value(metricSettingEnabled, map[string]string{"setting": name})
	return v == 1, ok
}

// where says where a setting is read from, from the config file's mapping.
func (e evaluator) where(name string) string {
	m, ok := e.opts.Settings[name]
	if !ok {
		return "no mapping for it in the config file (the ini key behind this console option is not publicly documented)"
	}
	file := m.File
	if !filepath.IsAbs(file) && !isWindowsAbs(file) && e.opts.ServerDir != "" {
		file = filepath.Join(e.opts.ServerDir, file)
	}
	s := fmt.Sprintf("read from %s [%s] %s", file, m.Section, m.Key)
	if m.Source != "" {
		s += " (mapping at " + m.Source + ")"
	}
	return s
}

// isWindowsAbs recognises C:\... and \\server\share paths on any OS, since
// the config may be written for Windows and evaluated anywhere.
func isWindowsAbs(p string) bool {
	return strings.HasPrefix(p, `\\`) || (len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
}

func onOff(v bool) string {
	if v {
		return "enabled"
	}
	return "disabled"
}

func processes(n float64, name string) string {
	return count(n, "process named "+name, "processes named "+name)
}

func count(n float64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%g %s", n, many)
}

// human formats a duration for people: 5m rather than 5m0s.
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// percent formats a 0..1 ratio as Task Manager would, with two decimals so
// that "under 0.5 %" can be read off.
func percent(r float64) string {
	return fmt.Sprintf("%.2f %%", r*100)
}
