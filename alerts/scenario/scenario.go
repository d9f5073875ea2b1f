// Package scenario reads alerts/scenarios.yaml: upgrade-window cases over
// time, each a set of series (in promtool's notation) and the verdict
// expected at given moments. The same cases run through promtool against the
// rules, through the Go evaluator (package verdict) and through `check`, so
// all three provably agree.
package scenario

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
)

// Interval is the scrape interval of every scenario: one sample a minute,
// as the contract's cases assume.
const Interval = time.Minute

// Default target labels, added to every series that names no job.
const (
	Job      = "officescan"
	Instance = "srv1:9745"
)

// File is the whole scenarios file. Healthy is a set of series, referenced
// by YAML anchors from the scenarios, and not a case itself.
type File struct {
	Healthy   map[string]string `yaml:"healthy"`
	Scenarios []Scenario        `yaml:"scenarios"`
}

// Scenario is one case.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Series maps a series (metric{labels}) to its samples in promtool's
	// notation: "1x10", "0+3x20", "_x3" (three missed scrapes), "stale",
	// "NaN". Sample i is at i minutes.
	Series map[string]string `yaml:"series"`
	Expect []Expect          `yaml:"expect"`
}

// Expect is the verdict of one target at one moment.
type Expect struct {
	At string `yaml:"at"`
	// Instance is the target's instance label; empty means Instance.
	Instance string `yaml:"instance"`
	Safe     int    `yaml:"safe"`
	// Blockers are the officescan:upgrade_blocker series of the target,
	// each as its labels besides the target's own (hazard, reason and the
	// reason's extra label). Nil means "not checked"; an empty list means
	// none.
	Blockers []Blocker `yaml:"blockers"`
	// WindowOpen, when set, says whether OfficeScanUpgradeWindowOpen fires.
	WindowOpen *bool `yaml:"window_open"`
}

// Time returns At as a duration from the scenario's start.
func (e Expect) Time() time.Duration {
	d, _ := time.ParseDuration(e.At) // validated by Parse
	return d
}

// Target returns the expected target's instance.
func (e Expect) Target() string {
	if e.Instance == "" {
		return Instance
	}
	return e.Instance
}

// Blocker is the label set of one blocker besides the target's labels.
type Blocker map[string]string

// String renders b as sorted PromQL labels: {hazard="x",reason="y"}.
func (b Blocker) String() string { return promfmt.Labels(b) }

// Series is one expanded input series.
type Series struct {
	Metric string
	Labels map[string]string // including job and instance, without __name__
	Values string            // promtool notation, as written
	Points []Point
}

// Point is one sample; missed scrapes have no point.
type Point struct {
	At    time.Duration
	Value float64
	// Stale is Prometheus' staleness marker: the series ended here.
	Stale bool
}

// Selector renders the series as metric{labels}, labels sorted.
func (s Series) Selector() string { return s.Metric + promfmt.Labels(s.Labels) }

// Load reads and validates a scenarios file.
func Load(path string) ([]Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenarios: %w", err)
	}
	return Parse(path, data)
}

// Parse validates scenario data read from path: unknown keys, duplicate
// names, bad series and bad expectations are errors naming the scenario.
func Parse(path string, data []byte) ([]Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("scenarios %s: %w", path, err)
	}
	if len(f.Scenarios) == 0 {
		return nil, fmt.Errorf("scenarios %s: no scenario", path)
	}
	seen := map[string]bool{}
	for i, s := range f.Scenarios {
		if s.Name == "" {
			return nil, fmt.Errorf("scenarios %s: entry %d has no name", path, i+1)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("scenarios %s: name %q used twice", path, s.Name)
		}
		seen[s.Name] = true
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("scenarios %s: scenario %q: %w", path, s.Name, err)
		}
	}
	return f.Scenarios, nil
}

func (s Scenario) validate() error {
	if len(s.Series) == 0 {
		return fmt.Errorf("no series")
	}
	if _, err := s.Expand(); err != nil {
		return err
	}
	if len(s.Expect) == 0 {
		return fmt.Errorf("no expectation")
	}
	for _, e := range s.Expect {
		d, err := time.ParseDuration(e.At)
		if err != nil || d < 0 || d%Interval != 0 {
			return fmt.Errorf("expect at %q: want whole minutes such as 12m", e.At)
		}
		if e.Safe != 0 && e.Safe != 1 {
			return fmt.Errorf("expect at %s: safe must be 0 or 1", e.At)
		}
		if e.Safe == 1 && len(e.Blockers) > 0 {
			return fmt.Errorf("expect at %s: safe is 1 but blockers are listed", e.At)
		}
		for _, b := range e.Blockers {
			if b["hazard"] == "" || b["reason"] == "" {
				return fmt.Errorf("expect at %s: blocker %s needs hazard and reason", e.At, b)
			}
		}
	}
	return nil
}

// Expand returns the scenario's series with their points, sorted by
// selector.
func (s Scenario) Expand() ([]Series, error) {
	var out []Series
	for sel, values := range s.Series {
		metric, labels, err := parseSelector(sel)
		if err != nil {
			return nil, err
		}
		if _, ok := labels["job"]; !ok {
			if _, ok := labels["instance"]; ok {
				return nil, fmt.Errorf("series %s: an instance without a job; give both or neither", sel)
			}
			labels["job"], labels["instance"] = Job, Instance
		}
		points, err := ParseValues(values)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", sel, err)
		}
		out = append(out, Series{Metric: metric, Labels: labels, Values: values, Points: points})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Selector() < out[j].Selector() })
	return out, nil
}

var (
	selectorRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$`)
	matcherRE  = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)
)

func parseSelector(sel string) (string, map[string]string, error) {
	m := selectorRE.FindStringSubmatch(strings.TrimSpace(sel))
	if m == nil {
		return "", nil, fmt.Errorf("series %q: want metric{label=\"value\", ...}", sel)
	}
	labels := map[string]string{}
	if strings.TrimSpace(m[2]) != "" {
		for _, part := range strings.Split(m[2], ",") {
			lm := matcherRE.FindStringSubmatch(part)
			if lm == nil {
				return "", nil, fmt.Errorf("series %q: label %q: want name=\"value\"", sel, strings.TrimSpace(part))
			}
			v, err := strconv.Unquote(`"` + lm[2] + `"`)
			if err != nil {
				return "", nil, fmt.Errorf("series %q: label %s: %v", sel, lm[1], err)
			}
			labels[lm[1]] = v
		}
	}
	return m[1], labels, nil
}

const numberRE = `(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?`

var termRE = regexp.MustCompile(`^(_|stale|[-+]?(?:` + numberRE + `|NaN|Inf))(?:([-+])(` + numberRE + `))?(?:x([0-9]+))?$`)

// ParseValues expands promtool's notation: "a+bxn" is a, a+b, ... a+n*b
// (n+1 samples); "axn" is a repeated n+1 times; "_" is a missed sample and
// "_xn" n of them; "stale" is a staleness marker.
func ParseValues(s string) ([]Point, error) {
	var out []Point
	i := 0
	for _, term := range strings.Fields(s) {
		m := termRE.FindStringSubmatch(term)
		if m == nil {
			return nil, fmt.Errorf("value %q: want a number, a+bxn, _, _xn or stale", term)
		}
		n := 0
		if m[4] != "" {
			n, _ = strconv.Atoi(m[4])
		}
		switch m[1] {
		case "_":
			if m[2] != "" {
				return nil, fmt.Errorf("value %q: a missed sample cannot increase", term)
			}
			if m[4] == "" {
				n = 1
			}
			i += n
			continue
		case "stale":
			if m[2] != "" || m[4] != "" {
				return nil, fmt.Errorf("value %q: stale stands alone", term)
			}
			out = append(out, Point{At: time.Duration(i) * Interval, Stale: true})
			i++
			continue
		}
		start, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: %q is not a number", term, m[1])
		}
		step := 0.0
		if m[2] != "" {
			step, err = strconv.ParseFloat(m[3], 64)
			if err != nil {
				return nil, fmt.Errorf("value %q: %q is not a number", term, m[3])
			}
			if m[2] == "-" {
				step = -step
			}
		}
		// promtool adds the step again and again (a += b), not a + k*b;
		// the Go side must see the very same floats.
		v := start
		for k := 0; k <= n; k++ {
			out = append(out, Point{At: time.Duration(i) * Interval, Value: v})
			v += step
			i++
		}
	}
	return out, nil
}
