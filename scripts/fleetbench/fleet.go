package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
)

// State is what a simulated server shows.
type State int

const (
	// Safe: every hazard clear.
	Safe State = iota
	// LoginScript: AutoPcc.exe runs on the server.
	LoginScript
	// DatabaseBusy: DbServer.exe uses 10 % of the CPUs.
	DatabaseBusy
	// DriverNotDeferred: the firewall is on and its driver update not
	// deferred until a reboot.
	DriverNotDeferred
	// AgentsWaiting: clear itself, but some of its agents wait for a
	// restart.
	AgentsWaiting
	// Down: the exporter answers 503 (up == 0).
	Down
)

var stateNames = []string{"safe", "login script", "database busy", "driver not deferred", "agents waiting", "down"}

func (s State) String() string { return stateNames[s] }

// Fleet is a deterministic simulated fleet: servers, each with an exporter
// target, and agents that report to them.
type Fleet struct {
	Servers int
	Agents  int
	// Shard is how many agents one scrape of the agents' endpoint returns
	// (with honor_labels, each agent keeps its own instance label).
	Shard int
	// Epoch is where the CPU counters start.
	Epoch time.Time

	waiting []bool
}

// NewFleet builds a fleet of servers and agents: 3 per 1,000 agents wait
// for a restart (at least one when there are agents), all of them agents of
// the AgentsWaiting servers; 1 agent in 1,000 reports to a server that no
// longer exists (not waiting: a waiting one would block every server).
func NewFleet(servers, agents int, epoch time.Time) *Fleet {
	f := &Fleet{Servers: servers, Agents: agents, Shard: 1000, Epoch: epoch, waiting: make([]bool, agents)}
	want := agents * 3 / 1000
	if want == 0 && agents > 0 {
		want = 1
	}
	for a := 0; a < agents && want > 0; a++ {
		if s, ok := f.AgentServer(a); ok && f.State(s) == AgentsWaiting {
			f.waiting[a] = true
			want--
		}
	}
	return f
}

// State of server i: of every 10 servers 6 are safe, one runs the Login
// Script, one has a busy database, one a firewall driver update not
// deferred, one waiting agents; server 99 of every 100 is down.
func (f *Fleet) State(i int) State {
	if i%100 == 99 {
		return Down
	}
	switch i % 10 {
	case 6:
		return LoginScript
	case 7:
		return DatabaseBusy
	case 8:
		return DriverNotDeferred
	case 9:
		return AgentsWaiting
	}
	return Safe
}

// Safe tells whether server i's verdict reads 1.
func (f *Fleet) Safe(i int) bool { return f.State(i) == Safe }

// Host is server i's host name; its exporter target is Host:9745.
func (f *Fleet) Host(i int) string { return fmt.Sprintf("srv%04d", i) }

// Instance is server i's exporter target, as Prometheus labels it.
func (f *Fleet) Instance(i int) string { return f.FQDN(i) + ":9745" }

// FQDN is server i's DNS name.
func (f *Fleet) FQDN(i int) string { return f.Host(i) + ".corp.example" }

// IP is server i's address.
func (f *Fleet) IP(i int) string { return fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256) }

// Addresses are the names server i is known by (officescan_server_address_info).
func (f *Fleet) Addresses(i int) []string { return []string{f.Host(i), f.FQDN(i), f.IP(i)} }

// AgentInstance is agent a's target.
func (f *Fleet) AgentInstance(a int) string { return fmt.Sprintf("pc%06d.corp.example:9182", a) }

// AgentServer is the server agent a reports to; false for the agents that
// report to a server that no longer exists.
func (f *Fleet) AgentServer(a int) (int, bool) {
	if a%1000 == 999 || f.Servers == 0 {
		return 0, false
	}
	return a % f.Servers, true
}

// AgentServerName is officescan_agent_info's server label of agent a: one
// of the names its server is known by.
func (f *Fleet) AgentServerName(a int) string {
	s, ok := f.AgentServer(a)
	if !ok {
		return "retired-srv.corp.example"
	}
	return f.Addresses(s)[a%3]
}

// Waiting tells whether agent a waits for a restart.
func (f *Fleet) Waiting(a int) bool { return f.waiting[a] }

// WaitingAgents counts the agents waiting for a restart.
func (f *Fleet) WaitingAgents() int {
	n := 0
	for _, w := range f.waiting {
		if w {
			n++
		}
	}
	return n
}

// Shards is the number of agent scrape targets.
func (f *Fleet) Shards() int { return (f.Agents + f.Shard - 1) / f.Shard }

// cpuRate is the CPU-seconds per second DbServer.exe of server i uses:
// 0.05 % of 4 CPUs when idle, 10 % when busy.
func (f *Fleet) cpuRate(i int) float64 {
	if f.State(i) == DatabaseBusy {
		return 0.4
	}
	return 0.002
}

const logicalCPUs = 4

// sample is one series of an exposition or of the backfill: its value at
// the time asked, growing by rate per second (counters).
type sample struct {
	family, labels string
	value, rate    float64
}

// at is the sample's value d after the time it was made for.
func (s sample) at(d time.Duration) float64 { return s.value + s.rate*d.Seconds() }

func quote(s string) string { return strconv.Quote(s) }

// ServerSeries are server i's officescan_* series at t, as its exporter
// exposes them (labels without instance and job).
func (f *Fleet) ServerSeries(i int, t time.Time) []sample {
	st := f.State(i)
	rate := f.cpuRate(i)
	cpu := rate * t.Sub(f.Epoch).Seconds()
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	out := []sample{
		{"officescan_dbserver_processes", "", 1, 0},
		{"officescan_dbserver_cpu_seconds_total", `mode="user"`, cpu * 0.8, rate * 0.8},
		{"officescan_dbserver_cpu_seconds_total", `mode="system"`, cpu * 0.2, rate * 0.2},
		{"officescan_dbserver_cpu_utilization_ratio", "", rate / logicalCPUs, 0},
		{"officescan_logical_cpus", "", logicalCPUs, 0},
		{"officescan_autopcc_processes", "", b(st == LoginScript), 0},
		{"officescan_share_login_script_open_files", "", 0, 0},
		{"officescan_share_login_script_users", "", 0, 0},
		{"officescan_share_open_files", "", 12, 0},
		{"officescan_setting_enabled", `setting="firewall"`, 1, 0},
		{"officescan_setting_enabled", `setting="firewall_driver_update_after_reboot"`, b(st != DriverNotDeferred), 0},
		{"officescan_setting_enabled", `setting="kernel_driver_restart_notification"`, 1, 0},
		{"officescan_server_info", `version="14.0",build="9725"`, 1, 0},
		{"officescan_exporter_build_info", `version="fleetbench",revision="none",goversion="go"`, 1, 0},
	}
	for _, a := range f.Addresses(i) {
		out = append(out, sample{"officescan_server_address_info", "address=" + quote(a), 1, 0})
	}
	for _, c := range []string{"addresses", "autopcc", "dbserver", "serverinfo", "settings", "share"} {
		out = append(out,
			sample{"officescan_scrape_collector_success", "collector=" + quote(c), 1, 0},
			sample{"officescan_scrape_collector_duration_seconds", "collector=" + quote(c), 0.01, 0})
	}
	return out
}

// AgentSeries are agent a's two series (with its own instance and job, as
// the agents' endpoint exposes them for honor_labels).
func (f *Fleet) AgentSeries(a int) []sample {
	target := "instance=" + quote(f.AgentInstance(a)) + `,job="officescan_agents"`
	pending := 0.0
	if f.Waiting(a) {
		pending = 1
	}
	return []sample{
		{"officescan_agent_reboot_pending", target, pending, 0},
		{"officescan_agent_info", target + `,version="14.0.12345",build="12345",server=` + quote(f.AgentServerName(a)), 1, 0},
	}
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteServer writes server i's exposition in the text format.
func (f *Fleet) WriteServer(w io.Writer, i int, t time.Time) {
	for _, s := range f.ServerSeries(i, t) {
		if s.labels == "" {
			fmt.Fprintf(w, "%s %s\n", s.family, formatValue(s.value))
		} else {
			fmt.Fprintf(w, "%s{%s} %s\n", s.family, s.labels, formatValue(s.value))
		}
	}
}

// WriteShard writes the agents of shard k.
func (f *Fleet) WriteShard(w io.Writer, k int) {
	for a := k * f.Shard; a < (k+1)*f.Shard && a < f.Agents; a++ {
		for _, s := range f.AgentSeries(a) {
			fmt.Fprintf(w, "%s{%s} %s\n", s.family, s.labels, formatValue(s.value))
		}
	}
}

// Backfill is the history written before Prometheus starts, in OpenMetrics
// for `promtool tsdb create-blocks-from openmetrics`.
type Backfill struct {
	// End is the last sample's time.
	End time.Time
	// Servers and Agents are how far back the servers' series (their raw
	// series, up and the recorded verdict) and the agents' go, at Step and
	// AgentStep.
	Servers, Agents time.Duration
	Step, AgentStep time.Duration
	// HourlyWeeks of officescan:upgrade_window_safe:avg1h, one sample an
	// hour, for the heatmaps.
	HourlyWeeks int
}

// omWriter counts the samples it writes.
type omWriter struct {
	w       *bufio.Writer
	buf     []byte
	samples int
}

func (o *omWriter) family(name string) { fmt.Fprintf(o.w, "# TYPE %s unknown\n", name) }

func (o *omWriter) sample(name, labels string, v float64, t time.Time) {
	o.samples++
	b := o.buf[:0]
	b = append(b, name...)
	if labels != "" {
		b = append(b, '{')
		b = append(b, labels...)
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(t.UnixMilli())/1000, 'f', 3, 64)
	b = append(b, '\n')
	o.buf = b
	o.w.Write(b)
}

// times lists the sample times from end-span (exclusive) to end, every step.
func times(end time.Time, span, step time.Duration) []time.Time {
	var out []time.Time
	for t := end.Add(-span).Add(step); !t.After(end); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

func (f *Fleet) target(i int) string {
	return `instance=` + quote(f.Instance(i)) + `,job="officescan"`
}

// WriteHistory writes the servers' and agents' history; each family's
// samples together, each series' in time order, as OpenMetrics wants.
func (f *Fleet) WriteHistory(out io.Writer, b Backfill) (int, error) {
	o := &omWriter{w: bufio.NewWriterSize(out, 1<<20)}
	ts := times(b.End, b.Servers, b.Step)
	// The servers' series, family by family: each server's series made
	// once, counters grown by their rate.
	series := make([][]sample, f.Servers)
	for i := range series {
		series[i] = f.ServerSeries(i, b.End)
	}
	var order []string
	byFamily := map[string][]int{}
	if len(series) > 0 {
		for k, x := range series[0] {
			if _, ok := byFamily[x.family]; !ok {
				order = append(order, x.family)
			}
			byFamily[x.family] = append(byFamily[x.family], k)
		}
	}
	o.family("up")
	for i := 0; i < f.Servers; i++ {
		v := 1.0
		if f.State(i) == Down {
			v = 0
		}
		for _, t := range ts {
			o.sample("up", f.target(i), v, t)
		}
	}
	for _, fam := range order {
		o.family(fam)
		for i := 0; i < f.Servers; i++ {
			if f.State(i) == Down {
				continue
			}
			for _, k := range byFamily[fam] {
				s := series[i][k]
				labels := join(f.target(i), s.labels)
				for _, t := range ts {
					o.sample(fam, labels, s.at(t.Sub(b.End)), t)
				}
			}
		}
	}
	// The verdict the rules would have recorded.
	o.family("officescan:upgrade_window_safe")
	for i := 0; i < f.Servers; i++ {
		v := 0.0
		if f.Safe(i) {
			v = 1
		}
		for _, t := range ts {
			o.sample("officescan:upgrade_window_safe", f.target(i), v, t)
		}
	}
	// The hourly shares of the same span, in the same blocks (WriteHourly
	// writes the older ones): blocks that overlap would make Prometheus
	// merge them while it is measured.
	f.writeHourly(o, b, b.End.Add(-b.Servers), b.End)
	// The agents, at their own interval.
	ats := times(b.End, b.Agents, b.AgentStep)
	for k, fam := range []string{"officescan_agent_reboot_pending", "officescan_agent_info"} {
		o.family(fam)
		for a := 0; a < f.Agents; a++ {
			s := f.AgentSeries(a)[k]
			for _, t := range ats {
				o.sample(fam, s.labels, s.value, t)
			}
		}
	}
	fmt.Fprintln(o.w, "# EOF")
	return o.samples, o.w.Flush()
}

// HourlyShare is the synthetic share of the clock hour starting at h that
// server i was safe: the safe servers are open at night and all weekend.
func (f *Fleet) HourlyShare(i int, h time.Time) float64 {
	if !f.Safe(i) {
		return 0
	}
	h = h.UTC()
	switch {
	case h.Weekday() == time.Saturday || h.Weekday() == time.Sunday:
		return 1
	case h.Hour() < 6:
		return 0.9
	case h.Hour() >= 20:
		return 0.5
	}
	return 0.1
}

// WriteHourly writes HourlyWeeks of officescan:upgrade_window_safe:avg1h,
// as the rules' officescan.history group would (each share written 10
// minutes past the hour after the hour it describes), up to the start of
// the servers' history; WriteHistory writes the rest.
func (f *Fleet) WriteHourly(out io.Writer, b Backfill) (int, error) {
	o := &omWriter{w: bufio.NewWriterSize(out, 1<<20)}
	f.writeHourly(o, b, time.Time{}, b.End.Add(-b.Servers))
	fmt.Fprintln(o.w, "# EOF")
	return o.samples, o.w.Flush()
}

// writeHourly writes the shares written in (from, to].
func (f *Fleet) writeHourly(o *omWriter, b Backfill, from, to time.Time) {
	const name = "officescan:upgrade_window_safe:avg1h"
	const written = time.Hour + 10*time.Minute      // after the start of the hour described
	last := b.End.Add(-written).Truncate(time.Hour) // the newest hour written by End
	first := last.Add(-time.Duration(b.HourlyWeeks) * 7 * 24 * time.Hour)
	o.family(name)
	for i := 0; i < f.Servers; i++ {
		for h := first.Add(time.Hour); !h.After(last); h = h.Add(time.Hour) {
			if at := h.Add(written); at.After(from) && !at.After(to) {
				o.sample(name, f.target(i), f.HourlyShare(i, h), at)
			}
		}
	}
}
