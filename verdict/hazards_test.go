package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts/scenario"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// healthy is a server where every hazard is clear from 5m on, in the
// scenarios' notation (one sample a minute).
func healthy() map[string]string {
	return map[string]string{
		`up`: "1x20",
		`officescan_scrape_collector_success{collector="dbserver"}`:                 "1x20",
		`officescan_scrape_collector_success{collector="autopcc"}`:                  "1x20",
		`officescan_scrape_collector_success{collector="share"}`:                    "1x20",
		`officescan_scrape_collector_success{collector="settings"}`:                 "1x20",
		`officescan_dbserver_processes`:                                             "1x20",
		`officescan_dbserver_cpu_seconds_total{mode="user"}`:                        "0+0.1x20",
		`officescan_dbserver_cpu_seconds_total{mode="system"}`:                      "0+0.05x20",
		`officescan_dbserver_cpu_utilization_ratio`:                                 "0.001x20",
		`officescan_logical_cpus`:                                                   "4x20",
		`officescan_autopcc_processes`:                                              "0x20",
		`officescan_share_login_script_open_files`:                                  "0x20",
		`officescan_setting_enabled{setting="firewall"}`:                            "1x20",
		`officescan_setting_enabled{setting="firewall_driver_update_after_reboot"}`: "1x20",
		`officescan_setting_enabled{setting="kernel_driver_restart_notification"}`:  "1x20",
	}
}

// with returns healthy() changed by kv pairs (series, values); values ""
// drops the series.
func with(kv ...string) map[string]string {
	s := healthy()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(s, kv[i])
			continue
		}
		s[kv[i]] = kv[i+1]
	}
	return s
}

func history(t *testing.T, series map[string]string) History {
	t.Helper()
	ss, err := scenario.Scenario{Name: "t", Series: series}.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return historyOf(ss)
}

// verdictOf evaluates srv1 at minute m.
func verdictOf(t *testing.T, series map[string]string, m int) TargetVerdict {
	t.Helper()
	vs, err := Evaluate(history(t, series), epoch.Add(time.Duration(m)*time.Minute), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Target["instance"] == scenario.Instance {
			return v
		}
	}
	t.Fatalf("no verdict for %s among %d", scenario.Instance, len(vs))
	return TargetVerdict{}
}

func reasons(bs []Blocker) string {
	var out []string
	for _, b := range bs {
		s := b["reason"]
		for _, k := range []string{"collector", "metric", "setting"} {
			if b[k] != "" {
				s += "/" + b[k]
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestHazardStates walks each hazard through its states: the clear flag,
// the waiver, its exact blockers and words with the numbers seen.
func TestHazardStates(t *testing.T) {
	for _, c := range []struct {
		name     string
		series   map[string]string
		hazard   string
		clear    bool
		blockers string
		evidence []string // substrings
		action   string   // substring
	}{
		{"dbserver idle", healthy(), "dbserver", true, "",
			[]string{"DbServer.exe used 0.75 CPU-seconds over the last 5m (idle means under 6.00 on 4 CPUs)", "now 0.10 % of all CPUs", "1 DbServer.exe process runs"}, ""},
		{"dbserver busy now", with(`officescan_dbserver_cpu_utilization_ratio`, "0.2x20"), "dbserver", false, "database_busy",
			[]string{"now 20.00 % of all CPUs"}, "Wait until the database is idle"},
		{"dbserver busy over the window", with(`officescan_dbserver_cpu_seconds_total{mode="user"}`, "0+2x20"), "dbserver", false, "database_busy",
			[]string{"used 10.25 CPU-seconds", "under 6.00 on 4 CPUs"}, ""},
		{"dbserver not running", with(`officescan_dbserver_processes`, "0x20"), "dbserver", false, "database_not_running",
			[]string{"no DbServer.exe process runs"}, "Start the OfficeScan database"},
		{"dbserver history after a reset", with(`officescan_dbserver_cpu_seconds_total{mode="user"}`, "5x8 0+0.1x11"), "dbserver", false, "database_history_incomplete",
			[]string{"went backwards"}, "Wait: a whole window"},
		{"dbserver ratio not yet", with(`officescan_dbserver_cpu_utilization_ratio`, ""), "dbserver", false, "database_history_incomplete",
			[]string{"no CPU share measured yet"}, ""},
		{"dbserver no cpus", with(`officescan_logical_cpus`, ""), "dbserver", false, "input_missing/officescan_logical_cpus",
			[]string{"officescan_logical_cpus is missing or stale"}, "relabelling"},
		{"dbserver collector off", with(`officescan_scrape_collector_success{collector="dbserver"}`, ""), "dbserver", false, "collector_off/dbserver",
			[]string{"the dbserver collector is off"}, "--no-collector.dbserver"},
		{"dbserver waived", with(`officescan_dbserver_processes`, "0x20", `officescan_hazard_waived{hazard="dbserver", reason="SQL Server"}`, "1x20"), "dbserver", true, "",
			[]string{"waived: SQL Server"}, ""},
		{"dbserver waiver 0", with(`officescan_dbserver_processes`, "0x20", `officescan_hazard_waived{hazard="dbserver", reason="SQL Server"}`, "0x20"), "dbserver", false, "database_not_running",
			nil, ""},
		{"autopcc clear", healthy(), "autopcc", true, "", []string{"no AutoPcc.exe or AutoPccP.exe process runs"}, ""},
		{"autopcc running", with(`officescan_autopcc_processes`, "2x20"), "autopcc", false, "login_script_running",
			[]string{"2 AutoPcc.exe or AutoPccP.exe processes run"}, "Wait for the Login Script"},
		{"autopcc failed", with(`officescan_scrape_collector_success{collector="autopcc"}`, "NaNx20"), "autopcc", false, "collector_failed/autopcc",
			[]string{"the autopcc collector failed"}, "Fix what the collector's error names"},
		{"share sessions", with(`officescan_share_login_script_open_files`, "1x20"), "share", false, "login_script_share_sessions",
			[]string{"1 Login Script file is open on the ofcscan share"}, "Get-SmbOpenFile"},
		{"share missing", with(`officescan_share_login_script_open_files`, ""), "share", false, "input_missing/officescan_share_login_script_open_files", nil, ""},
		{"firewall deferred", healthy(), "firewall_driver", true, "", []string{"setting firewall: on", "setting firewall_driver_update_after_reboot: on"}, ""},
		{"firewall off", with(`officescan_setting_enabled{setting="firewall"}`, "0x20", `officescan_setting_enabled{setting="firewall_driver_update_after_reboot"}`, "0x20"),
			"firewall_driver", true, "", []string{"setting firewall: off"}, ""},
		{"firewall not deferred", with(`officescan_setting_enabled{setting="firewall_driver_update_after_reboot"}`, "0x20"), "firewall_driver", false,
			"firewall_driver_update_not_deferred", []string{"setting firewall_driver_update_after_reboot: off"}, "Update the OfficeScan firewall driver only after a system reboot"},
		{"firewall unknown", with(`officescan_setting_enabled{setting="firewall"}`, "", `officescan_setting_enabled{setting="firewall_driver_update_after_reboot"}`, "0x20"),
			"firewall_driver", false, "setting_unknown/firewall firewall_driver_update_not_deferred", []string{"setting firewall: unknown"}, "Map the option"},
		{"restart notification on", healthy(), "restart_notification", true, "", []string{"setting kernel_driver_restart_notification: on"}, ""},
		{"restart notification off", with(`officescan_setting_enabled{setting="kernel_driver_restart_notification"}`, "0x20"), "restart_notification", false,
			"restart_notification_off", []string{"restart_notification: off"}, "Display a notification message"},
		{"restart notification NaN", with(`officescan_setting_enabled{setting="kernel_driver_restart_notification"}`, "NaNx20"), "restart_notification", false,
			"setting_unknown/kernel_driver_restart_notification", []string{"unknown (NaN)"}, ""},
		{"settings collector failed", with(`officescan_scrape_collector_success{collector="settings"}`, "0x20"), "restart_notification", false,
			"collector_failed/settings", nil, ""},
		{"agents not monitored", healthy(), "agents", true, "", []string{"agents not monitored"}, ""},
		{"agent waits", with(`officescan_agent_reboot_pending{job="agents", instance="pc1"}`, "1x20"), "agents", false, "agents_reboot_pending",
			[]string{"0 of this server's 0 agents wait", "1 waiting agent matched to no server", "1 of 1 monitored agent wait"}, "Restart those machines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := verdictOf(t, c.series, 10)
			st, ok := v.Hazard(c.hazard)
			if !ok {
				t.Fatalf("no hazard %s", c.hazard)
			}
			if st.Clear != c.clear {
				t.Errorf("clear %v, want %v (%s)", st.Clear, c.clear, st.Evidence)
			}
			if got := reasons(st.Blockers); got != c.blockers {
				t.Errorf("blockers %q, want %q", got, c.blockers)
			}
			for _, e := range c.evidence {
				if !strings.Contains(st.Evidence, e) {
					t.Errorf("evidence %q lacks %q", st.Evidence, e)
				}
			}
			if !strings.Contains(st.Action, c.action) || (c.clear && st.Action != "") {
				t.Errorf("action %q, want it to hold %q", st.Action, c.action)
			}
			if v.Safe != (c.clear && len(v.Blockers) == 0 && allClear(v)) {
				t.Errorf("safe %v with blockers %v", v.Safe, v.Blockers)
			}
		})
	}
}

func allClear(v TargetVerdict) bool {
	for _, h := range v.Hazards {
		if !h.Clear {
			return false
		}
	}
	return true
}

func TestNotFreshJudgesNothing(t *testing.T) {
	v := verdictOf(t, with(`up`, "1x5 0x15"), 10)
	if v.Safe || v.Fresh {
		t.Fatalf("safe %v fresh %v", v.Safe, v.Fresh)
	}
	if got := reasons(v.Blockers); got != "exporter_down" {
		t.Errorf("blockers %q, want exporter_down only", got)
	}
	for _, h := range v.Hazards {
		if h.Clear || len(h.Blockers) > 0 || !strings.Contains(h.Evidence, "not judged: Prometheus could not scrape the exporter at its newest scrape, 0s ago (up = 0)") ||
			!strings.Contains(h.Action, "Start the exporter") {
			t.Errorf("%s: clear %v blockers %v evidence %q action %q", h.Hazard.Name, h.Clear, h.Blockers, h.Evidence, h.Action)
		}
	}
	v = verdictOf(t, with(`up`, "1x5"), 7)
	if got := reasons(v.Blockers); got != "scrape_stale" || !strings.Contains(v.Hazards[0].Evidence, "2m old") {
		t.Errorf("blockers %q, evidence %q", got, v.Hazards[0].Evidence)
	}
}

func TestBlockersSortedExporterFirstThenTable(t *testing.T) {
	v := verdictOf(t, with(
		`officescan_setting_enabled{setting="kernel_driver_restart_notification"}`, "0x20",
		`officescan_autopcc_processes`, "1x20",
		`officescan_dbserver_processes`, "0x20",
		`officescan_scrape_collector_success{collector="serverinfo"}`, "0x20"), 10)
	want := "collector_failed/serverinfo database_not_running login_script_running restart_notification_off"
	if got := reasons(v.Blockers); got != want {
		t.Errorf("blockers %q, want %q", got, want)
	}
	if v.Blockers[0]["hazard"] != hazard.ExporterHazard {
		t.Errorf("first blocker %v", v.Blockers[0])
	}
}

// The two cases where PromQL refuses to join (duplicate series on the "one"
// side): the rules then record nothing for the hazards that need the join,
// and the target is not safe.
func TestDuplicateSeriesAreNeverSafe(t *testing.T) {
	h := history(t, healthy())
	// A second `up` with the same instance and job (another label apart).
	h.Series = append(h.Series, Series{Metric: "up", Labels: map[string]string{"job": "officescan", "instance": scenario.Instance, "replica": "b"},
		Samples: []Sample{{T: epoch.Add(10 * time.Minute), V: 1}}})
	vs, err := Evaluate(h, epoch.Add(10*time.Minute), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("%d verdicts, want one per up series", len(vs))
	}
	for _, v := range vs {
		if v.Safe || v.Note == "" {
			t.Errorf("%v: safe %v note %q", v.Target, v.Safe, v.Note)
		}
	}
	// Two fresh CPU counts for one target.
	h = history(t, with(`officescan_logical_cpus{core="x"}`, "4x20"))
	vs, _ = Evaluate(h, epoch.Add(10*time.Minute), Options{})
	if len(vs) != 1 || vs[0].Safe || vs[0].Note == "" || vs[0].Hazards[0].Clear {
		t.Errorf("two CPU counts: %+v", vs)
	}
}

func TestOddInputDoesNotPanic(t *testing.T) {
	at := epoch.Add(10 * time.Minute)
	for name, h := range map[string]History{
		"empty":     {},
		"no labels": {Series: []Series{{Metric: "up"}, {Metric: hazard.MetricAgentRebootPending, Samples: []Sample{{T: at, V: 1}}}}},
		"no samples": {Series: []Series{{Metric: "up", Labels: map[string]string{"job": "officescan"}},
			{Metric: hazard.MetricDBCPUSeconds, Labels: map[string]string{"job": "officescan"}}}},
		"unsorted, duplicated, stale only, infinite": {Series: []Series{
			{Metric: "up", Labels: map[string]string{"job": "officescan"}, Samples: []Sample{{T: at, V: 1}, {T: at.Add(-time.Minute), V: 0}, {T: at, V: 0}}},
			{Metric: hazard.MetricDBCPUSeconds, Labels: map[string]string{"job": "officescan"}, Samples: []Sample{{T: at, Stale: true}}},
			{Metric: hazard.MetricLogicalCPUs, Labels: map[string]string{"job": "officescan", "__name__": "x"}, Samples: []Sample{{T: at, V: 1e308}}},
			{Metric: hazard.MetricDBUtilization, Labels: map[string]string{"job": "officescan"}, Samples: []Sample{{T: time.Time{}, V: -1}, {T: at.Add(100 * 365 * 24 * time.Hour), V: 2}}},
		}},
	} {
		vs, err := Evaluate(h, at, Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, v := range vs {
			if v.Safe {
				t.Errorf("%s: safe", name)
			}
		}
		if _, err := WindowOpen(h, at, Options{}, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The first of two samples in one millisecond counts: up 1, so the
	// exporter is up.
	vs, _ := Evaluate(History{Series: []Series{{Metric: "up", Labels: map[string]string{"job": "officescan"},
		Samples: []Sample{{T: at, V: 1}, {T: at.Add(-time.Minute), V: 0}, {T: at, V: 0}}}}}, at, Options{})
	if len(vs) != 1 || reasons(vs[0].Blockers) == "exporter_down" {
		t.Errorf("duplicate timestamps: %+v", vs)
	}
}

func TestOptions(t *testing.T) {
	h := history(t, healthy())
	at := epoch.Add(10 * time.Minute)
	for _, o := range []Options{
		{ScrapeInterval: time.Millisecond},
		{IdleWindow: 1500 * time.Millisecond},
		{AgentTolerance: -1},
		{AgentToleranceRatio: 1},
		{TargetLabels: []string{"in-stance"}},
		{Selector: map[string]string{"": "x"}},
		{Lookback: -time.Second},
	} {
		if _, err := Evaluate(h, at, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	// Another job selects nothing; the default selects srv1.
	if vs, _ := Evaluate(h, at, Options{Selector: map[string]string{"job": "other"}}); len(vs) != 0 {
		t.Errorf("job other: %d verdicts", len(vs))
	}
	// A longer idle window needs a longer history.
	v, _ := Evaluate(h, at, Options{IdleWindow: 15 * time.Minute})
	if got := reasons(v[0].Blockers); got != "database_history_incomplete" {
		t.Errorf("15m window at 10m: %q", got)
	}
}

func TestAgentTolerance(t *testing.T) {
	series := with(
		`officescan_server_address_info{address="srv1"}`, "1x20",
		`officescan_agent_reboot_pending{job="agents", instance="pc1"}`, "1x20",
		`officescan_agent_info{job="agents", instance="pc1", server="srv1"}`, "1x20",
		`officescan_agent_reboot_pending{job="agents", instance="pc2"}`, "0x20",
		`officescan_agent_info{job="agents", instance="pc2", server="srv1"}`, "1x20",
		`officescan_agent_reboot_pending{job="agents", instance="pc3"}`, "0x20",
		`officescan_agent_info{job="agents", instance="pc3", server="SRV1"}`, "1x20")
	h := history(t, series)
	at := epoch.Add(10 * time.Minute)
	for _, c := range []struct {
		o    Options
		safe bool
	}{
		{Options{}, false},
		{Options{AgentTolerance: 1}, true},
		{Options{AgentToleranceRatio: 0.5}, true},   // 1 of 2 agents of srv1
		{Options{AgentToleranceRatio: 0.49}, false}, // pc3 reports to another name
		{Options{AgentSelector: map[string]string{"job": "other"}}, true},
	} {
		vs, err := Evaluate(h, at, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if vs[0].Safe != c.safe || !vs[0].AgentsMonitored != (c.o.AgentSelector != nil) {
			t.Errorf("%+v: safe %v, monitored %v, waiting %d", c.o, vs[0].Safe, vs[0].AgentsMonitored, vs[0].AgentsWaiting)
		}
	}
}

func TestWindowOpenAndSafeFor(t *testing.T) {
	h := history(t, with(`officescan_autopcc_processes`, "0x8 1 0x11"))
	target := map[string]string{"instance": scenario.Instance}
	for _, c := range []struct {
		m    int
		d    time.Duration
		safe bool
	}{
		{4, 0, false}, // history incomplete
		{5, 0, true},  // safe at this evaluation only
		{8, 3 * time.Minute, true},
		{9, 0, false}, // the Login Script ran
		{20, 10 * time.Minute, true},
	} {
		d, safe, err := SafeFor(h, epoch.Add(time.Duration(c.m)*time.Minute), Options{}, target, time.Hour)
		if err != nil || d != c.d || safe != c.safe {
			t.Errorf("at %dm: safe for %s %v (%v), want %s %v", c.m, d, safe, err, c.d, c.safe)
		}
	}
	long := history(t, with(`officescan_autopcc_processes`, "0x40", `up`, "1x40"))
	for m, want := range map[int]bool{19: false, 20: true} {
		// The healthy set ends at 20m; up, autopcc and the rest still count
		// within the lookback, so only the first whole window matters here.
		if open, _ := WindowOpen(long, epoch.Add(time.Duration(m)*time.Minute), Options{}, target); open != want {
			t.Errorf("window at %dm: %v, want %v", m, open, want)
		}
	}
	if open, _ := WindowOpen(long, epoch.Add(20*time.Minute), Options{}, map[string]string{"instance": "nowhere"}); open {
		t.Error("window open for a target that does not exist")
	}
}
