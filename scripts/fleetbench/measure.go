package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/grafana/grafanatest"
)

// Report is what one run measured.
type Report struct {
	Config
	Fleet   *Fleet
	Version string
	// LoadStart and LoadEnd are the machine's load average around the run.
	LoadStart, LoadEnd string
	Rules              []byte
	RulesFile          string
	BackfillSamples    int
	BackfillTime       time.Duration
	ReadyAfter         time.Duration
	Groups             []GroupTiming
	SlowRules          []RuleTiming
	Queries            []QueryTiming
	Memory             []MemorySample
	Checks             []Check
	Total              time.Duration
	// Start is the backfill's end.
	Start time.Time
}

// GroupTiming is one rule group's evaluations.
type GroupTiming struct {
	Name      string
	Rules     int
	Durations []time.Duration
}

// RuleTiming is one rule's last evaluation.
type RuleTiming struct {
	Group, Name string
	Labels      map[string]string
	Time        time.Duration
	// RawAgents: the rule reads the agents' own series (not under the
	// target selector).
	RawAgents bool
}

// QueryTiming is one dashboard query.
type QueryTiming struct {
	Where   string
	Instant bool // Grafana runs it as an instant query
	// Times of the instant query (instant panels only) and of the range
	// query, median of the runs; Series they returned; Err if one failed.
	InstantTime, RangeTime     time.Duration
	InstantSeries, RangeSeries int
	InstantErr, RangeErr       string
	// Samples Prometheus touched for the range query (stats=all).
	RangeSamples int64
	// OneServer: the query follows the Server picker; OneTime is its range
	// query with one server picked (as the fleet row's links do) instead of
	// All.
	OneServer bool
	OneTime   time.Duration
	OneErr    string
}

// MemorySample is Prometheus' memory at one moment.
type MemorySample struct {
	When                string
	RSS, HeapInUse      float64
	HeadSeries, Samples float64
}

// Check compares what the rules computed with the simulated fleet.
type Check struct {
	What      string
	Got, Want float64
}

var client = &http.Client{Timeout: 5 * time.Minute}

type apiResult struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (p *prometheus) api(path string, params url.Values, out any) error {
	resp, err := client.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r apiResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: %s: %w", path, resp.Status, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

type queryData struct {
	Result []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
		Values [][2]any          `json:"values"`
	} `json:"result"`
	Stats struct {
		Samples struct {
			TotalQueryableSamples int64 `json:"totalQueryableSamples"`
		} `json:"samples"`
	} `json:"stats"`
}

// scalar runs an instant query whose answer is one number.
func (p *prometheus) scalar(q string) (float64, error) {
	var d queryData
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &d); err != nil {
		return 0, err
	}
	if len(d.Result) != 1 {
		return 0, fmt.Errorf("%s: %d series", q, len(d.Result))
	}
	return strconv.ParseFloat(fmt.Sprint(d.Result[0].Value[1]), 64)
}

// selfMetrics reads Prometheus' own metrics.
func (p *prometheus) selfMetrics() (map[string][]metricValue, error) {
	resp, err := client.Get(p.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string][]metricValue{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := metricValue{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				v.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Gauge != nil:
				v.value = m.GetGauge().GetValue()
			case m.Counter != nil:
				v.value = m.GetCounter().GetValue()
			case m.Untyped != nil:
				v.value = m.GetUntyped().GetValue()
			}
			out[name] = append(out[name], v)
		}
	}
	return out, nil
}

type metricValue struct {
	labels map[string]string
	value  float64
}

func first(ms map[string][]metricValue, name string) float64 {
	if v := ms[name]; len(v) > 0 {
		return v[0].value
	}
	return 0
}

func (r *Report) memory(p *prometheus, when string) error {
	ms, err := p.selfMetrics()
	if err != nil {
		return err
	}
	r.Memory = append(r.Memory, MemorySample{When: when,
		RSS: first(ms, "process_resident_memory_bytes"), HeapInUse: first(ms, "go_memstats_heap_inuse_bytes"),
		HeadSeries: first(ms, "prometheus_tsdb_head_series"), Samples: first(ms, "prometheus_tsdb_head_samples_appended_total")})
	return nil
}

// waitFor polls until q answers want.
func (p *prometheus) waitFor(ctx context.Context, q string, want float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		v, err := p.scalar(q)
		if err == nil && v == want {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("%s = %g, want %g", q, v, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return fmt.Errorf("after %s: %v", timeout, last)
}

func (r *Report) measure(ctx context.Context, p *prometheus) error {
	f, c := r.Fleet, r.Config
	up := 0
	for i := 0; i < f.Servers; i++ {
		if f.State(i) != Down {
			up++
		}
	}
	t := time.Now()
	timeout := 3*max(c.Scrape, c.AgentScrape) + 2*time.Minute
	for _, w := range []struct {
		q    string
		want float64
	}{
		{`count(up{job="officescan"}) or vector(0)`, float64(f.Servers)},
		{`count(up{job="officescan"} == 1) or vector(0)`, float64(up)},
		{`count(up{job="officescan_agents"} == 1) or vector(0)`, float64(f.Shards())},
		{`count(officescan_agent_info) or vector(0)`, float64(f.Agents)},
		{`count(officescan_agent_reboot_pending) or vector(0)`, float64(f.Agents)},
	} {
		if err := p.waitFor(ctx, w.q, w.want, timeout); err != nil {
			return fmt.Errorf("waiting for the targets: %w", err)
		}
	}
	ready := time.Now()
	r.ReadyAfter = ready.Sub(t)
	c.logf("every target scraped after %s", r.ReadyAfter.Round(time.Second))
	if settled := r.Start.Add(c.Settle); settled.After(ready) {
		c.logf("waiting %s, until the backfill ends %s back", time.Until(settled).Round(time.Second), c.Settle)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(settled)):
		}
		ready = settled
	}

	// Each group's evaluations that started after every target was scraped.
	seen := map[string]map[float64]time.Duration{}
	deadline := time.Now().Add(time.Duration(c.Evals+3)*c.Eval + 5*time.Minute)
	for {
		ms, err := p.selfMetrics()
		if err != nil {
			return err
		}
		last := map[string]float64{}
		for _, m := range ms["prometheus_rule_group_last_evaluation_timestamp_seconds"] {
			last[m.labels["rule_group"]] = m.value
		}
		done := len(last) > 0
		for _, m := range ms["prometheus_rule_group_last_duration_seconds"] {
			g := m.labels["rule_group"]
			if seen[g] == nil {
				seen[g] = map[float64]time.Duration{}
			}
			if ts := last[g]; ts > float64(ready.Unix()) {
				seen[g][ts] = time.Duration(m.value * float64(time.Second))
			}
			if len(seen[g]) < c.Evals {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rule groups not evaluated %d times in time: %v", c.Evals, seen)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	groups := make([]string, 0, len(seen))
	for g := range seen {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	rulesPerGroup, err := r.ruleTimings(p)
	if err != nil {
		return err
	}
	for _, g := range groups {
		gt := GroupTiming{Name: g[strings.LastIndex(g, ";")+1:]}
		gt.Rules = rulesPerGroup[gt.Name]
		for _, d := range seen[g] {
			gt.Durations = append(gt.Durations, d)
		}
		sort.Slice(gt.Durations, func(i, j int) bool { return gt.Durations[i] < gt.Durations[j] })
		r.Groups = append(r.Groups, gt)
	}
	if err := r.memory(p, "after the rule evaluations"); err != nil {
		return err
	}
	r.check(p)
	if err := r.queries(p); err != nil {
		return err
	}
	return r.memory(p, "after the dashboard queries")
}

// ruleTimings reads every rule's last evaluation time, and returns the
// number of rules per group.
func (r *Report) ruleTimings(p *prometheus) (map[string]int, error) {
	var d struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name           string            `json:"name"`
				Query          string            `json:"query"`
				Labels         map[string]string `json:"labels"`
				EvaluationTime float64           `json:"evaluationTime"`
				Health         string            `json:"health"`
				LastError      string            `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := p.api("/api/v1/rules", nil, &d); err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, g := range d.Groups {
		count[g.Name] = len(g.Rules)
		for _, ru := range g.Rules {
			if ru.Health != "ok" {
				return nil, fmt.Errorf("rule %s of %s: health %s %s", ru.Name, g.Name, ru.Health, ru.LastError)
			}
			r.SlowRules = append(r.SlowRules, RuleTiming{Group: g.Name, Name: ru.Name, Labels: ru.Labels,
				Time: time.Duration(ru.EvaluationTime * float64(time.Second)), RawAgents: readsRawAgents(ru.Query)})
		}
	}
	sort.Slice(r.SlowRules, func(i, j int) bool { return r.SlowRules[i].Time > r.SlowRules[j].Time })
	return count, nil
}

var agentMetrics = map[string]bool{"officescan_agent_reboot_pending": true, "officescan_agent_info": true}

// readsRawAgents tells whether an expression selects the agents' series
// other than under the servers' job.
func readsRawAgents(q string) bool {
	expr, err := promql.NewParser(promql.Options{}).ParseExpr(q)
	if err != nil {
		return false
	}
	found := false
	promql.Inspect(expr, func(n promql.Node, _ []promql.Node) error {
		vs, ok := n.(*promql.VectorSelector)
		if !ok || !agentMetrics[vs.Name] {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == "job" && m.Value == "officescan" {
				return nil
			}
		}
		found = true
		return nil
	})
	return found
}

// check compares the rules' verdicts and agent counts with the fleet.
func (r *Report) check(p *prometheus) {
	f := r.Fleet
	safe, blocked := 0, 0
	for i := 0; i < f.Servers; i++ {
		if f.Safe(i) {
			safe++
		} else {
			blocked++
		}
	}
	for _, c := range []Check{
		{What: "servers SAFE", Want: float64(safe)},
		{What: "servers BLOCKED", Want: float64(blocked)},
		{What: "agents waiting", Want: float64(f.WaitingAgents())},
		{What: "waiting agents matched to no server", Want: 0},
	} {
		q := map[string]string{
			"servers SAFE":                        `count(officescan:upgrade_window_safe == 1) or vector(0)`,
			"servers BLOCKED":                     `count(officescan:upgrade_window_safe == 0) or vector(0)`,
			"agents waiting":                      `officescan:agent_reboot_pending:waiting`,
			"waiting agents matched to no server": `officescan:agent_reboot_pending:waiting_unmatched`,
		}[c.What]
		v, err := p.scalar(q)
		if err != nil {
			v = -1
		}
		c.Got = v
		r.Checks = append(r.Checks, c)
	}
}

// dashboardQuery is one query of the dashboard.
type dashboardQuery struct {
	where   string
	expr    string
	instant bool
	// label: a label_values() variable: the label whose values it lists.
	label string
	step  time.Duration
	// extra: not the dashboard's; timed as an instant query only.
	extra bool
}

// dashboardQueries are the dashboard's queries as grafanatest reads them for
// the dashboard's own tests, each with the step it runs at here.
func (r *Report) dashboardQueries() ([]dashboardQuery, error) {
	qs, err := grafanatest.ReadQueries(r.Dashboard)
	if err != nil {
		return nil, err
	}
	var out []dashboardQuery
	for _, q := range qs {
		switch {
		case q.Variable != "":
			out = append(out, dashboardQuery{where: "variable " + q.Variable, expr: q.Expr, label: q.Label})
		case q.Annotation != "":
			step, err := time.ParseDuration(q.Step)
			if err != nil {
				step = r.Step
			}
			out = append(out, dashboardQuery{where: "annotation " + q.Annotation, expr: q.Expr, step: step})
		default:
			out = append(out, dashboardQuery{where: fmt.Sprintf("%s (%s)", q.Panel, q.RefID), expr: q.Expr, instant: q.Instant, step: r.Step})
		}
	}
	return out, nil
}

var templateVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// substitute puts in what Grafana would for the servers' "All" and a
// 6-hour range at the step.
func (r *Report) substitute(expr string, step time.Duration) string {
	return r.substituteFor(expr, step, ".*")
}

// substituteFor puts instance in for the Server picker.
func (r *Report) substituteFor(expr string, step time.Duration, instance string) string {
	values := map[string]string{
		"instance":        instance,
		"utc_offset":      "0",
		"__interval":      promDuration(step),
		"__rate_interval": promDuration(max(4*r.Scrape, step+r.Scrape)),
		"__range":         promDuration(r.Range),
	}
	return templateVarRe.ReplaceAllStringFunc(expr, func(m string) string {
		s := templateVarRe.FindStringSubmatch(m)
		if v, ok := values[s[1]+s[2]]; ok {
			return v
		}
		return m
	})
}

func promDuration(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// timed runs a query repeat times and returns the median time.
func (r *Report) timed(run func() (queryData, error)) (time.Duration, queryData, error) {
	var times []time.Duration
	var d queryData
	var err error
	for i := 0; i < max(1, r.Repeat); i++ {
		t := time.Now()
		d, err = run()
		if err != nil {
			return 0, d, err
		}
		times = append(times, time.Since(t))
	}
	return median(times), d, nil
}

func (r *Report) queries(p *prometheus) error {
	qs, err := r.dashboardQueries()
	if err != nil {
		return err
	}
	end := time.Now()
	unix := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
	for _, e := range r.Extra {
		qs = append(qs, dashboardQuery{where: "extra: " + e, expr: e, instant: true, step: r.Step, extra: true})
	}
	for _, q := range qs {
		expr := r.substitute(q.expr, q.step)
		qt := QueryTiming{Where: q.where, Instant: q.instant}
		if q.label != "" {
			qt.Instant = true
			var values []string
			t := time.Now()
			err := p.api("/api/v1/label/"+q.label+"/values", url.Values{"match[]": {expr}, "start": {unix(end.Add(-r.Range))}, "end": {unix(end)}}, &values)
			qt.InstantTime, qt.InstantSeries = time.Since(t), len(values)
			if err != nil {
				qt.InstantErr = err.Error()
			}
			r.Queries = append(r.Queries, qt)
			continue
		}
		if q.instant {
			d, data, err := r.timed(func() (queryData, error) {
				var d queryData
				err := p.api("/api/v1/query", url.Values{"query": {expr}, "time": {unix(end)}}, &d)
				return d, err
			})
			qt.InstantTime, qt.InstantSeries = d, len(data.Result)
			if err != nil {
				qt.InstantErr = err.Error()
			}
		}
		if q.extra {
			r.Queries = append(r.Queries, qt)
			continue
		}
		d, data, err := r.timed(func() (queryData, error) {
			var d queryData
			err := p.api("/api/v1/query_range", url.Values{"query": {expr}, "start": {unix(end.Add(-r.Range))}, "end": {unix(end)},
				"step": {promDuration(q.step)}, "stats": {"all"}}, &d)
			return d, err
		})
		qt.RangeTime, qt.RangeSeries, qt.RangeSamples = d, len(data.Result), data.Stats.Samples.TotalQueryableSamples
		if err != nil {
			qt.RangeErr = err.Error()
		}
		if strings.Contains(q.expr, "$instance") {
			qt.OneServer = true
			// As Grafana writes a picked value into a PromQL string: a regex, its
			// backslashes escaped.
			one := r.substituteFor(q.expr, q.step, strings.ReplaceAll(regexp.QuoteMeta(r.Fleet.Instance(0)), `\`, `\\`))
			d, _, err := r.timed(func() (queryData, error) {
				var d queryData
				err := p.api("/api/v1/query_range", url.Values{"query": {one}, "start": {unix(end.Add(-r.Range))}, "end": {unix(end)},
					"step": {promDuration(q.step)}}, &d)
				return d, err
			})
			qt.OneTime = d
			if err != nil {
				qt.OneErr = err.Error()
			}
		}
		r.Queries = append(r.Queries, qt)
		r.logf("%-70s instant %8s  range %8s", q.where, qt.InstantTime.Round(time.Millisecond), qt.RangeTime.Round(time.Millisecond))
	}
	return nil
}
