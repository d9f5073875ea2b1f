package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Scenario drives the demo's walk-through against a running stack.
type Scenario struct {
	Prometheus string // base URL
	Control    string // simulator control URL
	Webhook    string // receiver base URL
	Out        io.Writer
	// Steps limits how many steps run (0: all); CI runs the first only.
	Steps int
}

type step struct {
	title   string
	explain string
	change  url.Values
	// wait until the verdict is safe (1) or blocked (0) with this blocker.
	safe    bool
	blocker string
	alert   string
	timeout time.Duration
}

var steps = []step{
	{
		title:   "A client runs the Login Script",
		explain: "Two AutoPcc.exe processes start. The server cannot be upgraded while any client runs the Login Script.",
		change:  url.Values{"login_scripts": {"2"}},
		blocker: "login_script_running", alert: "OfficeScanLoginScriptRunning", timeout: 2 * time.Minute,
	},
	{
		title:   "The Login Script ends; the database gets busy",
		explain: "DbServer.exe now keeps one core busy. The vendor note says to wait until Task Manager shows its CPU as 00.",
		change:  url.Values{"login_scripts": {"0"}, "database": {"busy"}},
		blocker: "database_busy", alert: "OfficeScanDatabaseBusy", timeout: 2 * time.Minute,
	},
	{
		title: "Everything clear",
		explain: "DbServer.exe goes idle. The database counts as idle once its CPU counter shows under 0.5 % of all\n" +
			"CPUs over a whole 5-minute window, so the busy minutes must leave the window first: the verdict turns\n" +
			"SAFE about 5 minutes from now, and the window-open notification follows after the alert's `for`\n" +
			"(15m in the shipped rules, 1m in this demo's copy). The share hazard is waived in the demo's config\n" +
			"(officescan_exporter.yml): the simulator serves no SMB share.",
		change: url.Values{"database": {"idle"}},
		safe:   true, alert: "OfficeScanUpgradeWindowOpen", timeout: 9 * time.Minute,
	},
}

// Run walks through the scenario, printing what changes.
func (s Scenario) Run(ctx context.Context) error {
	n := len(steps)
	if s.Steps > 0 && s.Steps < n {
		n = s.Steps
	}
	for i, st := range steps[:n] {
		fmt.Fprintf(s.Out, "\n== Step %d/%d: %s\n%s\n", i+1, len(steps), st.title, st.explain)
		resp, err := http.PostForm(s.Control, st.change)
		if err != nil {
			return fmt.Errorf("changing the simulated server: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("simulator refused %v: %s", st.change, resp.Status)
		}
		since := time.Now()
		deadline := time.Now().Add(st.timeout)
		last := ""
		for {
			verdict, blockers, err := s.verdict()
			if err == nil {
				line := fmt.Sprintf("verdict %s; blockers: %s", verdict, strings.Join(blockers, ", "))
				if line != last {
					fmt.Fprintf(s.Out, "  [%3.0fs] %s\n", time.Since(since).Seconds(), line)
					last = line
				}
				if st.safe && verdict == "SAFE" || !st.safe && verdict == "BLOCKED" && slices.Contains(blockers, st.blocker) {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("step %d: the verdict did not change as expected within %s (last: %s, %v)", i+1, st.timeout, last, err)
			}
			if err := sleep(ctx, 2*time.Second); err != nil {
				return err
			}
		}
		fmt.Fprintf(s.Out, "  waiting for Alertmanager to deliver %s ...\n", st.alert)
		for {
			n, err := s.notified(st.alert)
			if err == nil && n != nil {
				fmt.Fprintf(s.Out, "  [%3.0fs] notification to %q: %s %s (%s)\n", time.Since(since).Seconds(), n.Receiver, n.AlertName, n.Status, n.Summary)
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("step %d: no %s notification within %s", i+1, st.alert, st.timeout)
			}
			if err := sleep(ctx, 2*time.Second); err != nil {
				return err
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

type promVector struct {
	Status string `json:"status"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func (s Scenario) query(q string) (promVector, error) {
	var v promVector
	resp, err := http.Get(s.Prometheus + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return v, err
	}
	if v.Status != "success" {
		return v, fmt.Errorf("query %q: %s", q, v.Status)
	}
	return v, nil
}

// verdict reads the rules' verdict and blocker reasons for the demo server.
func (s Scenario) verdict() (string, []string, error) {
	v, err := s.query("officescan:upgrade_window_safe")
	if err != nil {
		return "", nil, err
	}
	if len(v.Data.Result) == 0 {
		return "NO VERDICT YET", nil, nil
	}
	verdict := "BLOCKED"
	if v.Data.Result[0].Value[1] == "1" {
		verdict = "SAFE"
	}
	b, err := s.query("officescan:upgrade_blocker")
	if err != nil {
		return "", nil, err
	}
	var reasons []string
	for _, r := range b.Data.Result {
		reasons = append(reasons, r.Metric["reason"])
	}
	sort.Strings(reasons)
	if len(reasons) == 0 {
		reasons = []string{"none"}
	}
	return verdict, reasons, nil
}

// notified returns the first firing notification for alert.
func (s Scenario) notified(alert string) (*Notification, error) {
	resp, err := http.Get(s.Webhook)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var got []Notification
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return nil, err
	}
	for i := range got {
		if got[i].AlertName == alert && got[i].Status == "firing" {
			return &got[i], nil
		}
	}
	return nil, nil
}
