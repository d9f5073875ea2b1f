// Package readiness answers "may I upgrade now?" on the server itself: the
// landing page, /readiness (JSON) and the `check` command. It judges with
// package verdict, the Go mirror of the Prometheus rules, over a history
// the exporter records of its own scrapes, so the page, `check` and the
// rules give the same verdict on the same evidence, and neither says safe
// on less than one whole measured idle window.
package readiness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// Target is the label set the recorder gives the exporter's own series:
// the default selector of the rules, so the verdict reads them as Prometheus
// would read a scrape of this exporter.
var Target = map[string]string{"job": hazard.DefaultJob, "instance": "localhost"}

// DefaultInterval is how often the exporter records its own scrape.
const DefaultInterval = 15 * time.Second

// Recorder keeps the exporter's recent scrapes of itself as a
// verdict.History, the way Prometheus would store them: every series of a
// scrape stamped with the scrape's time, `up` for the scrape itself, and a
// staleness marker for a series that a scrape no longer has.
type Recorder struct {
	observe  Observer
	interval time.Duration
	// idleWindow is the verdict's idle window: hazard.IdleWindow unless a
	// test shortens it (SetIdleWindow).
	idleWindow time.Duration
	// keep is how much history the verdict can read: the idle window, a
	// lookback before it, and a margin.
	keep time.Duration

	mu     sync.Mutex
	series map[string]*verdict.Series
	order  []string
	// errors are the last recording's failed collectors, for the evidence.
	errors map[string]string
	// sources say where each console setting is read from.
	sources map[string]string
}

// Observer is one scrape of the exporter: its metric families and each
// failed collector's error. A non-nil error fails the whole scrape.
type Observer func(ctx context.Context) ([]*dto.MetricFamily, map[string]error, error)

// NewRecorder returns a recorder of observe every interval that keeps what
// a verdict over the last keep can read (KeepFor gives the usual keep).
func NewRecorder(observe Observer, interval, keep time.Duration) *Recorder {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Recorder{
		observe: observe, interval: interval, keep: keep, idleWindow: hazard.IdleWindow,
		series: map[string]*verdict.Series{},
	}
}

// SetIdleWindow shortens the verdict's idle window, for tests that cannot
// wait five minutes; the page and check then say which window they used.
func (r *Recorder) SetIdleWindow(d time.Duration) {
	if d > 0 {
		r.idleWindow = d
	}
}

// KeepFor returns how much history a verdict needs to tell whether it has
// been safe for settle: the settle time, the idle window and the lookback
// before it, and a margin.
func KeepFor(settle, interval time.Duration) time.Duration {
	return settle + hazard.IdleWindow + verdict.DefaultLookback + 2*interval
}

// Interval is the time between two recordings.
func (r *Recorder) Interval() time.Duration { return r.interval }

// Run records now and then every interval until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	r.Record(ctx, time.Now())
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Record(ctx, now)
		}
	}
}

// recorded reports whether a metric may feed the verdict: every officescan_
// metric but the exporter's own bookkeeping, so that a hazard added to the
// table is recorded with no change here. Go and process metrics are not kept.
func recorded(name string) bool {
	switch name {
	case "officescan_scrape_collector_duration_seconds", "officescan_exporter_build_info":
		return false
	}
	return strings.HasPrefix(name, "officescan_")
}

// Record observes once and stores the result at time at. A scrape that
// fails is a failed scrape: up is 0 and every series goes stale, as in
// Prometheus.
func (r *Recorder) Record(ctx context.Context, at time.Time) {
	fams, errs, err := r.observe(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = map[string]string{}
	for name, e := range errs {
		r.errors[name] = e.Error()
	}
	seen := map[string]bool{}
	up := 1.0
	if err != nil {
		up = 0
	} else {
		for _, f := range fams {
			if !recorded(f.GetName()) {
				continue
			}
			for _, m := range f.GetMetric() {
				v, ok := promfmt.Value(m)
				if !ok {
					continue
				}
				labels := map[string]string{}
				for k, val := range Target {
					labels[k] = val
				}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				seen[r.add(f.GetName(), labels, verdict.Sample{T: at, V: v})] = true
			}
		}
	}
	seen[r.add(hazard.MetricUp, copyOf(Target), verdict.Sample{T: at, V: up})] = true
	for key, s := range r.series {
		if !seen[key] && len(s.Samples) > 0 && !s.Samples[len(s.Samples)-1].Stale {
			s.Samples = append(s.Samples, verdict.Sample{T: at, Stale: true})
		}
	}
	r.trim(at)
}

func copyOf(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func seriesKey(metric string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(metric)
	for _, k := range keys {
		fmt.Fprintf(&b, "\xff%s\xfe%s", k, labels[k])
	}
	return b.String()
}

func (r *Recorder) add(metric string, labels map[string]string, s verdict.Sample) string {
	key := seriesKey(metric, labels)
	ser, ok := r.series[key]
	if !ok {
		ser = &verdict.Series{Metric: metric, Labels: labels}
		r.series[key] = ser
		r.order = append(r.order, key)
	}
	ser.Samples = append(ser.Samples, s)
	return key
}

// trim drops what no verdict at or after at can read, and series left with
// nothing.
func (r *Recorder) trim(at time.Time) {
	cut := at.Add(-r.keep)
	order := r.order[:0]
	for _, key := range r.order {
		s := r.series[key]
		i := 0
		for i < len(s.Samples) && s.Samples[i].T.Before(cut) {
			i++
		}
		s.Samples = append(s.Samples[:0], s.Samples[i:]...)
		if len(s.Samples) == 0 || (len(s.Samples) == 1 && s.Samples[0].Stale) {
			delete(r.series, key)
			continue
		}
		order = append(order, key)
	}
	r.order = order
}

// SetSettingSources tells the evidence where each console setting is read
// from, e.g. "read from C:\...\Ofcscan.ini [Global Setting] Key".
func (r *Recorder) SetSettingSources(sources map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sources = copyOf(sources)
}

// Context returns the last recording's collector errors and the setting
// sources.
func (r *Recorder) Context() Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Context{Errors: copyOf(r.errors), Sources: copyOf(r.sources)}
}

// History returns a copy of what has been recorded.
func (r *Recorder) History() verdict.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := verdict.History{Series: make([]verdict.Series, 0, len(r.order))}
	for _, key := range r.order {
		s := r.series[key]
		h.Series = append(h.Series, verdict.Series{
			Metric: s.Metric, Labels: copyOf(s.Labels), Samples: append([]verdict.Sample(nil), s.Samples...),
		})
	}
	return h
}
