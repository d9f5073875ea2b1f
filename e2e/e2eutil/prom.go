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
	f, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.log = f
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("%s log:\n%s", name, b)
		}
		f.Close()
	})
	return p
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

// Query evaluates q at time at (now when at is zero).
func (p *Prometheus) Query(t testing.TB, q string, at time.Time) []Sample {
	t.Helper()
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", promTime(at))
	}
	var data struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	}
	p.api(t, "query", v, &data)
	var out []Sample
	for _, raw := range data.Result {
		switch data.ResultType {
		case "vector":
			var r struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, sample(t, r.Metric, r.Value))
		case "matrix":
			var r struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			for _, pair := range r.Values {
				out = append(out, sample(t, r.Metric, pair))
			}
		default:
			t.Fatalf("query %q: result type %s", q, data.ResultType)
		}
	}
	return out
}

// QueryRange evaluates q at every step from start to end.
func (p *Prometheus) QueryRange(t testing.TB, q string, start, end time.Time, step time.Duration) []Series {
	t.Helper()
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	p.api(t, "query_range", url.Values{"query": {q}, "start": {promTime(start)}, "end": {promTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}, &data)
	var out []Series
	for _, r := range data.Result {
		s := Series{Metric: r.Metric}
		for _, pair := range r.Values {
			s.Samples = append(s.Samples, sample(t, r.Metric, pair))
		}
		out = append(out, s)
	}
	return out
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

func (p *Prometheus) api(t testing.TB, endpoint string, v url.Values, data any) {
	t.Helper()
	resp, err := http.PostForm(p.URL+"/api/v1/"+endpoint, v)
	if err != nil {
		t.Fatalf("%s %s: %v", p.name, endpoint, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s %v: %v", p.name, endpoint, v, err)
	}
	if body.Status != "success" {
		t.Fatalf("%s %s %v: %s: %s", p.name, endpoint, v, body.Status, body.Error)
	}
	if err := json.Unmarshal(body.Data, data); err != nil {
		t.Fatal(err)
	}
}

func sample(t testing.TB, m map[string]string, pair [2]any) Sample {
	t.Helper()
	ts, ok := pair[0].(float64)
	s, ok2 := pair[1].(string)
	if !ok || !ok2 {
		t.Fatalf("unexpected sample %v", pair)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return Sample{Metric: m, T: time.UnixMilli(int64(ts*1000 + 0.5)), V: v}
}

func promTime(at time.Time) string {
	return strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)
}
