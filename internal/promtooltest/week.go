package promtooltest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The synthetic weeks of verdicts that the rules' history test
// (alerts/history_test.go) and the dashboard's heatmap test
// (grafana/history_test.go) feed promtool, minute by minute.

// Week is one week of promtool's clock.
const Week = 7 * 24 * time.Hour

// Clock returns the weekday, hour and week (0 first) of promtool's time t:
// its clock starts at 0, Thursday 1970-01-01 00:00 UTC.
func Clock(t time.Duration) (day time.Weekday, hour, week int) {
	u := time.Unix(0, 0).UTC().Add(t)
	return u.Weekday(), u.Hour(), int(t / Week)
}

// NoSample is a Pattern's minute without any verdict (Prometheus down).
const NoSample = -1

// Pattern is a synthetic verdict at promtool's time t, minute by minute: 1,
// 0, or NoSample.
type Pattern func(t time.Duration) int

// Values writes p's minutes from 0 to end in promtool's input notation,
// run-length encoded ("1x179" is 180 ones, "_x30" 30 minutes without a
// sample).
func Values(p Pattern, end time.Duration) string {
	var parts []string
	flush := func(v, n int) {
		switch {
		case n == 0:
		case v == NoSample:
			parts = append(parts, fmt.Sprintf("_x%d", n))
		case n == 1:
			parts = append(parts, strconv.Itoa(v))
		default:
			parts = append(parts, fmt.Sprintf("%dx%d", v, n-1))
		}
	}
	cur, n := p(0), 0
	for t := time.Duration(0); t <= end; t += time.Minute {
		if v := p(t); v != cur {
			flush(cur, n)
			cur, n = v, 0
		}
		n++
	}
	flush(cur, n)
	return strings.Join(parts, " ")
}

// HourShare is what the hourly history rule must record for the clock hour
// starting at h: the mean of the verdicts present in [h, h+1h); ok is false
// when the hour has none.
func HourShare(p Pattern, h time.Duration) (share float64, ok bool) {
	sum, n := 0, 0
	for t := h; t < h+time.Hour; t += time.Minute {
		if v := p(t); v != NoSample {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return float64(sum) / float64(n), true
}

// GroupOnly writes the group called name of the rule file rules alone to a
// file in dir, so that promtool evaluates weeks of minutes of it and
// nothing else, and returns that file and the group's interval.
func GroupOnly(rules, name, dir string) (path, interval string, err error) {
	data, err := os.ReadFile(rules)
	if err != nil {
		return "", "", fmt.Errorf("reading the rules: %w", err)
	}
	var doc struct {
		Groups []map[string]any `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", "", fmt.Errorf("%s: %w", rules, err)
	}
	for _, g := range doc.Groups {
		if g["name"] != name {
			continue
		}
		out, err := yaml.Marshal(map[string]any{"groups": []any{g}})
		if err != nil {
			return "", "", fmt.Errorf("%s: group %s: %w", rules, name, err)
		}
		path = filepath.Join(dir, "history.rules.yml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return "", "", fmt.Errorf("writing the group alone: %w", err)
		}
		interval, _ = g["interval"].(string)
		return path, interval, nil
	}
	return "", "", fmt.Errorf("%s has no group %q", rules, name)
}

// Write writes f to dir/name and returns the file's path.
func Write(f File, dir, name string) (string, error) {
	data, err := yaml.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("the promtool test file: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("writing the promtool test file: %w", err)
	}
	return path, nil
}
