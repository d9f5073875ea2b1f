package exporter

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
)

var okDesc = prometheus.NewDesc("officescan_test_value", "test", nil, nil)

type fn func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f fn) Update(ctx context.Context, ch chan<- prometheus.Metric) error { return f(ctx, ch) }

func spec(name string, on bool, c Collector) Spec {
	return Spec{Name: name, Help: name, DefaultEnabled: on, New: func(context.Context, *slog.Logger) (Collector, error) { return c, nil }}
}

func value(v float64) fn {
	return func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- prometheus.MustNewConstMetric(okDesc, prometheus.GaugeValue, v)
		return nil
	}
}

func scrapeText(t *testing.T, s *Scraper, timeout time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(Handler(s, promslog.NewNopLogger(), HandlerOptions{}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if timeout > 0 {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 whatever the collectors do", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestFailingCollectorDoesNotFailTheScrape(t *testing.T) {
	reg := NewRegistry(
		spec("good", true, value(7)),
		spec("bad", true, fn(func(context.Context, chan<- prometheus.Metric) error { return errors.New("broken source") })),
		spec("panics", true, fn(func(context.Context, chan<- prometheus.Metric) error { panic("boom") })),
	)
	out := scrapeText(t, reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{Timeout: time.Second}), 0)
	for _, want := range []string{
		"officescan_test_value 7",
		`officescan_scrape_collector_success{collector="good"} 1`,
		`officescan_scrape_collector_success{collector="bad"} 0`,
		`officescan_scrape_collector_success{collector="panics"} 0`,
		`officescan_scrape_collector_duration_seconds{collector="bad"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q:\n%s", want, out)
		}
	}
}

func TestFailedCollectorSendsNoPartialData(t *testing.T) {
	reg := NewRegistry(spec("half", true, fn(func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- prometheus.MustNewConstMetric(okDesc, prometheus.GaugeValue, 1)
		return errors.New("second read failed")
	})))
	out := scrapeText(t, reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{}), 0)
	if strings.Contains(out, "officescan_test_value") {
		t.Fatalf("a failed collector's partial metrics were exposed:\n%s", out)
	}
}

func TestHungCollectorTimesOutAndIsNotStartedTwice(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	starts := 0
	hung := fn(func(ctx context.Context, ch chan<- prometheus.Metric) error {
		mu.Lock()
		starts++
		mu.Unlock()
		<-release // ignores ctx, like a stuck system call
		ch <- prometheus.MustNewConstMetric(okDesc, prometheus.GaugeValue, 1)
		return nil
	})
	reg := NewRegistry(spec("hung", true, hung), spec("good", true, value(1)))
	s := reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{Timeout: 10 * time.Second})

	start := time.Now()
	out := scrapeText(t, s, 300*time.Millisecond) // Prometheus' header wins over the 10 s option
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("scrape took %s; the scrape timeout header was not honoured", d)
	}
	if !strings.Contains(out, `officescan_scrape_collector_success{collector="hung"} 0`) ||
		!strings.Contains(out, `officescan_scrape_collector_success{collector="good"} 1`) {
		t.Fatalf("want hung failed and good succeeded:\n%s", out)
	}
	out = scrapeText(t, s, 300*time.Millisecond)
	if !strings.Contains(out, `officescan_scrape_collector_success{collector="hung"} 0`) {
		t.Fatalf("second scrape: hung collector not reported failed:\n%s", out)
	}
	mu.Lock()
	n := starts
	mu.Unlock()
	if n != 1 {
		t.Fatalf("hung collector started %d times, want 1 while its first run has not returned", n)
	}
	close(release)
	// Once it returns, it runs again normally; its late metric never leaked.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out = scrapeText(t, s, 2*time.Second)
		if strings.Contains(out, `officescan_scrape_collector_success{collector="hung"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector never recovered:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCollectorFlags(t *testing.T) {
	reg := NewRegistry(spec("on", true, value(1)), spec("off", false, value(2)))
	app := kingpin.New("t", "")
	reg.AddFlags(app)
	if _, err := app.Parse([]string{"--no-collector.on", "--collector.off"}); err != nil {
		t.Fatal(err)
	}
	if reg.Enabled("on") || !reg.Enabled("off") {
		t.Fatalf("flags not applied: on=%v off=%v", reg.Enabled("on"), reg.Enabled("off"))
	}
	s := reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{})
	if got := s.Names(); len(got) != 1 || got[0] != "off" {
		t.Fatalf("enabled = %v, want [off]", got)
	}
}

func TestConstructorFailureIsReportedEveryScrape(t *testing.T) {
	reg := NewRegistry(Spec{Name: "broken", DefaultEnabled: true, New: func(context.Context, *slog.Logger) (Collector, error) {
		return nil, errors.New("no such OS")
	}})
	out := scrapeText(t, reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{}), 0)
	if !strings.Contains(out, `officescan_scrape_collector_success{collector="broken"} 0`) {
		t.Fatalf("a collector that cannot start must read as failed:\n%s", out)
	}
}

func TestMaxRequestsAnswers503(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := fn(func(ctx context.Context, ch chan<- prometheus.Metric) error {
		entered <- struct{}{}
		<-release
		return nil
	})
	reg := NewRegistry(spec("slow", true, slow))
	h := Handler(reg.Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{}), promslog.NewNopLogger(), HandlerOptions{MaxRequests: 1})
	srv := httptest.NewServer(h)
	defer srv.Close()
	done := make(chan int)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second concurrent scrape: status %d, want 503", resp.StatusCode)
	}
	close(release)
	if code := <-done; code != 200 {
		t.Fatalf("first scrape: status %d, want 200", code)
	}
}

func TestConcurrentScrapesShareOneRun(t *testing.T) {
	var mu sync.Mutex
	starts := 0
	gate := make(chan struct{})
	slow := fn(func(ctx context.Context, ch chan<- prometheus.Metric) error {
		mu.Lock()
		starts++
		mu.Unlock()
		<-gate
		ch <- prometheus.MustNewConstMetric(okDesc, prometheus.GaugeValue, 5)
		return nil
	})
	s := NewRegistry(spec("slow", true, slow)).Build(context.Background(), promslog.NewNopLogger(), ScrapeOptions{Timeout: 10 * time.Second})
	outs := make(chan string, 2)
	for range 2 {
		go func() { outs <- scrapeText(t, s, 0) }()
	}
	time.Sleep(200 * time.Millisecond) // both scrapes are waiting on the run
	close(gate)
	for range 2 {
		out := <-outs
		if !strings.Contains(out, `officescan_scrape_collector_success{collector="slow"} 1`) || !strings.Contains(out, "officescan_test_value 5") {
			t.Fatalf("an overlapping scrape did not get the shared result (an HA pair of Prometheus servers would see a failure):\n%s", out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if starts != 1 {
		t.Fatalf("collector ran %d times for two overlapping scrapes, want 1", starts)
	}
}
