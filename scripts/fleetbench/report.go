package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Goals the report marks.
const (
	groupGoal = 200 * time.Millisecond
	queryGoal = time.Second
)

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

func mark(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// Write prints the report as Markdown.
func (r *Report) Write(w io.Writer) {
	f := r.Fleet
	fmt.Fprintf(w, "## Fleet benchmark: %d servers, %d agents\n\n", f.Servers, f.Agents)
	fmt.Fprintf(w, "%s; servers scraped every %s, agents every %s (%d scrape targets of %d agents, honor_labels), rules evaluated every %s; "+
		"%d samples of history backfilled with promtool in %s (servers %s every 1m, agents %s every 2m, %d weeks of hourly shares); "+
		"every target scraped %s after Prometheus was ready; measured from %s after the backfill's end; whole run %s; %d logical CPUs, load average %s at the start and %s at the end.\n\n",
		r.Version, r.Scrape, r.AgentScrape, f.Shards(), f.Shard, r.Eval,
		r.BackfillSamples, r.BackfillTime.Round(time.Second), r.History, r.AgentHistory, r.HourlyWeeks,
		r.ReadyAfter.Round(time.Second), r.Settle, r.Total.Round(time.Second), runtime.NumCPU(), r.LoadStart, r.LoadEnd)

	fmt.Fprintf(w, "| check (rules against the simulated fleet) | rules | fleet |\n|---|---:|---:|\n")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "| %s | %g | %g |\n", c.What, c.Got, c.Want)
	}

	fmt.Fprintf(w, "\n| rule group | rules | evaluations | median ms | max ms | under %s |\n|---|---:|---:|---:|---:|---|\n", groupGoal)
	for _, g := range r.Groups {
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s |\n", g.Name, g.Rules, len(g.Durations), ms(median(g.Durations)), ms(g.Durations[len(g.Durations)-1]),
			mark(g.Durations[len(g.Durations)-1] < groupGoal))
	}

	fmt.Fprintf(w, "\n| slowest rules (last evaluation) | group | ms | reads the agents' own series |\n|---|---|---:|---|\n")
	for i, ru := range r.SlowRules {
		if i == 8 {
			break
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", ruleName(ru), ru.Group, ms(ru.Time), yesNo(ru.RawAgents))
	}
	var agentRules []string
	var agentTime time.Duration
	for _, ru := range r.SlowRules {
		if ru.RawAgents {
			agentRules = append(agentRules, ruleName(ru))
			agentTime += ru.Time
		}
	}
	sort.Strings(agentRules)
	fmt.Fprintf(w, "\nRules that read the agents' own series: %d, %s ms together (%s); every per-server rule reads their per-server aggregates.\n",
		len(agentRules), ms(agentTime), strings.Join(agentRules, ", "))

	fmt.Fprintf(w, "\nServer picker at All (`.*`, every server) unless said; a query Grafana runs as an instant query is timed as one and, for comparison, over the range too.\n")
	fmt.Fprintf(w, "\n| dashboard query | Grafana runs it | instant ms | %s range ms (step %s) | the range, one server picked, ms | series | samples (range) | under %s as Grafana runs it |\n|---|---|---:|---:|---:|---:|---:|---|\n",
		r.Range, r.Step, queryGoal)
	for _, q := range r.Queries {
		kind, inst, series := "range", "", q.RangeSeries
		if q.Instant {
			kind, inst, series = "instant", ms(q.InstantTime), q.InstantSeries
			if q.InstantErr != "" {
				inst = "error: " + short(q.InstantErr)
			}
		}
		rng := ms(q.RangeTime)
		switch {
		case q.RangeErr != "":
			rng = "error: " + short(q.RangeErr)
		case q.RangeTime == 0:
			rng = "-"
		}
		one := "-"
		switch {
		case q.OneErr != "":
			one = "error: " + short(q.OneErr)
		case q.OneServer:
			one = ms(q.OneTime)
		}
		goal := mark(q.InstantErr == "" && q.InstantTime < queryGoal)
		if !q.Instant {
			goal = mark(q.RangeErr == "" && q.RangeTime < queryGoal)
			if q.RangeTime >= queryGoal && q.OneServer && q.OneErr == "" && q.OneTime < queryGoal {
				goal = "**no** at All, yes for one server"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %d | %s |\n", strings.ReplaceAll(q.Where, "|", "\\|"), kind, inst, rng, one, series, q.RangeSamples, goal)
	}

	fmt.Fprintf(w, "\n| Prometheus memory | resident (RSS) | Go heap in use | head series |\n|---|---:|---:|---:|\n")
	for _, m := range r.Memory {
		fmt.Fprintf(w, "| %s | %s | %s | %.0f |\n", m.When, mib(m.RSS), mib(m.HeapInUse), m.HeadSeries)
	}
}

func ruleName(r RuleTiming) string {
	name := r.Name
	var extra []string
	for _, k := range []string{"hazard", "reason"} {
		if v := r.Labels[k]; v != "" {
			extra = append(extra, v)
		}
	}
	if len(extra) > 0 {
		name += "{" + strings.Join(extra, ",") + "}"
	}
	return name
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func short(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
