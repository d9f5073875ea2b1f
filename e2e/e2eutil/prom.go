package e2eutil

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/alerts"
	"github.com/officescan-exporter/officescan_exporter/internal/promfmt"
)

// Prometheus is a real Prometheus server run by a test. Stop and Start
// again keep its storage, as a restarted server would.
type Prometheus struct {
	// URL is the running server's base URL; it changes on every Start.
	URL string
	// Bin, Config and Data are the binary, its config file and its TSDB folder.
	Bin, Config, Data string
	cmd               *exec.Cmd
	log               *os.File
	name              string
}

// NewPrometheus writes config (a prometheus.yml) and returns a server that
// Start runs on a fresh storage folder; name tells its log apart.
func NewPrometheus(t testing.TB, name, bin, config string) *Prometheus {
	t.Helper()
	dir := t.TempDir()
	p := &Prometheus{Bin: bin, Config: filepath.Join(dir, "prometheus.yml"), Data: filepath.Join(dir, "data"), name: name}
	if err := os.WriteFile(p.Config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// The log's cleanup is registered first, so it runs after the server
	// has been killed and shows all it wrote.
	p.log = toolLog(t, name)
	t.Cleanup(p.kill)
	return p
}

// RulesFile writes the rules alerts.Render makes of c, as a test's
// Prometheus loads them, and returns the file's absolute path.
func RulesFile(t testing.TB, c alerts.Config) string {
	t.Helper()
	b, err := alerts.Render(c)
	if err != nil {
		t.Fatalf("rendering the rules: %v", err)
	}
	path := filepath.Join(t.TempDir(), "officescan.rules.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// toolLog is a file for a tool's output, shown when the test fails and
// closed when it ends.
func toolLog(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("%s log:\n%s", name, b)
		}
		f.Close()
	})
	return f
}

// StartAlertmanager runs the Alertmanager at bin with config (an
// alertmanager.yml) on a free port, alone (no cluster), until the test
// ends, and returns its base URL once it is ready; name tells its log
// apart.
func StartAlertmanager(t testing.TB, name, bin string, config []byte) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, config, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+path, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	log := toolLog(t, name)
	cmd.Stdout, cmd.Stderr = log, log
	Start(t, cmd)
	WaitHTTP(t, "http://"+addr+"/-/ready", 30*time.Second)
	return "http://" + addr
}

// Start runs the server on a free port and waits until it is ready.
func (p *Prometheus) Start(t testing.TB) {
	t.Helper()
	if p.cmd != nil {
		t.Fatalf("%s: already running", p.name)
	}
	addr := FreeAddr(t)
	cmd := exec.Command(p.Bin, "--config.file="+p.Config, "--storage.tsdb.path="+p.Data,
		"--web.listen-address="+addr, "--log.level=warn")
	fmt.Fprintf(p.log, "--- %s: starting %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.Bin, err)
	}
	p.cmd, p.URL = cmd, "http://"+addr
	WaitHTTP(t, p.URL+"/-/ready", 60*time.Second)
}

// Stop ends the server as an administrator would, with SIGTERM, and waits
// until it has exited (its storage closed).
func (p *Prometheus) Stop(t testing.TB) {
	t.Helper()
	if p.cmd == nil {
		t.Fatalf("%s: not running", p.name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: exit after SIGTERM: %v", p.name, err)
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("%s: still running 30s after SIGTERM", p.name)
	}
	fmt.Fprintf(p.log, "--- %s: stopped\n", time.Now().Format(time.RFC3339Nano))
	p.cmd = nil
}

// Signal sends sig to the running server (SIGHUP reloads its config).
func (p *Prometheus) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if p.cmd == nil {
		t.Fatalf("%s: not running", p.name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func (p *Prometheus) kill() {
	if p.cmd != nil {
		Stop(p.cmd)
		p.cmd = nil
	}
}

// Sample is one series' value at one time.
type Sample struct {
	Metric map[string]string
	T      time.Time
	V      float64
}

// Series is one series' samples over a range.
type Series struct {
	Metric  map[string]string
	Samples []Sample
}

// Query evaluates q at time at (now when at is zero); an error fails the
// test.
func (p *Prometheus) Query(t testing.TB, q string, at time.Time) []Sample {
	t.Helper()
	out, err := p.Instant(q, at)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Instant evaluates q at time at (now when at is zero), an instant vector's
// samples or every sample of a range vector.
func (p *Prometheus) Instant(q string, at time.Time) ([]Sample, error) {
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", promTime(at))
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  *[2]any           `json:"value"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := p.post("query", v, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" && data.ResultType != "matrix" {
		return nil, fmt.Errorf("%s: query %q: result type %s", p.name, q, data.ResultType)
	}
	var out []Sample
	for _, r := range data.Result {
		pairs := r.Values
		if r.Value != nil {
			pairs = [][2]any{*r.Value}
		}
		for _, pair := range pairs {
			s, err := sample(r.Metric, pair)
			if err != nil {
				return nil, fmt.Errorf("%s: query %q: %w", p.name, q, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// QueryRange evaluates q at every step from start to end; an error fails
// the test.
func (p *Prometheus) QueryRange(t testing.TB, q string, start, end time.Time, step time.Duration) []Series {
	t.Helper()
	out, err := p.Range(q, start, end, step)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Range evaluates q at every step from start to end, as Grafana's range
// queries do.
func (p *Prometheus) Range(q string, start, end time.Time, step time.Duration) ([]Series, error) {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := p.post("query_range", url.Values{"query": {q}, "start": {promTime(start)}, "end": {promTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}, &data); err != nil {
		return nil, err
	}
	var out []Series
	for _, r := range data.Result {
		s := Series{Metric: r.Metric}
		for _, pair := range r.Values {
			smp, err := sample(r.Metric, pair)
			if err != nil {
				return nil, fmt.Errorf("%s: range query %q: %w", p.name, q, err)
			}
			s.Samples = append(s.Samples, smp)
		}
		out = append(out, s)
	}
	return out, nil
}

// Show formats samples for a message, one series a line.
func Show(samples []Sample) string {
	var lines []string
	for _, s := range samples {
		lines = append(lines, fmt.Sprintf("%s %v @%s", labelString(s.Metric), s.V, s.T.Format("15:04:05.000")))
	}
	return strings.Join(lines, "\n")
}

func labelString(m map[string]string) string { return promfmt.Labels(m) }

// apiClient bounds every API call: a server that hangs fails the test
// instead of holding it until the go test timeout.
var apiClient = &http.Client{Timeout: 30 * time.Second}

// API GETs a path of Prometheus' HTTP API (below /api/v1/, as "rules" or
// "label/instance/values") with params and decodes its data into out.
func (p *Prometheus) API(path string, params url.Values, out any) error {
	u := p.URL + "/api/v1/" + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := apiClient.Get(u)
	if err != nil {
		return fmt.Errorf("%s: GET %s: %w", p.name, path, err)
	}
	return decodeAPI(resp, fmt.Sprintf("%s: GET %s %v", p.name, path, params), out)
}

// post sends a query as a form, so that no expression is too long for a
// URL.
func (p *Prometheus) post(endpoint string, v url.Values, out any) error {
	resp, err := apiClient.PostForm(p.URL+"/api/v1/"+endpoint, v)
	if err != nil {
		return fmt.Errorf("%s %s: %w", p.name, endpoint, err)
	}
	return decodeAPI(resp, fmt.Sprintf("%s %s %v", p.name, endpoint, v), out)
}

// decodeAPI reads an API answer's data into out. A warning is an error: a
// query Prometheus warns about is one the dashboard or the rules must not
// ship.
func decodeAPI(resp *http.Response, what string, out any) error {
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: %s: decoding the answer: %w", what, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s: %s: %s", what, resp.Status, body.ErrorType, body.Error)
	}
	if len(body.Warnings) > 0 {
		return fmt.Errorf("%s: warnings %v", what, body.Warnings)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		return fmt.Errorf("%s: decoding the data: %w", what, err)
	}
	return nil
}

// sample reads one [time, "value"] pair of an API answer.
func sample(m map[string]string, pair [2]any) (Sample, error) {
	ts, ok := pair[0].(float64)
	s, ok2 := pair[1].(string)
	if !ok || !ok2 {
		return Sample{}, fmt.Errorf("unexpected sample %v", pair)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Sample{}, fmt.Errorf("sample %v: %w", pair, err)
	}
	return Sample{Metric: m, T: time.UnixMilli(int64(ts*1000 + 0.5)), V: v}, nil
}

// promTime keeps the milliseconds: a time cut to the second could end a
// range before the newest evaluation a test has just waited for.
func promTime(at time.Time) string {
	return strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)
}
