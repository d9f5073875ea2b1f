package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// serveMetrics parses args as `officescan_exporter serve` would and returns
// the body of one /metrics request, over the same exporter metrics serve
// registers.
func serveMetrics(t *testing.T, args ...string) (*app, string) {
	t.Helper()
	a := newApp()
	s := newServeCommand(a)
	cmd, err := a.parse(append([]string{"--log.level=error"}, args...))
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	if cmd != "serve" {
		t.Fatalf("parsed command %q, want serve", cmd)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logger := slog.New(slog.DiscardHandler)
	h := exporter.Handler(a.registry.Build(ctx, logger, exporter.ScrapeOptions{}), logger, exporter.HandlerOptions{ExporterMetrics: s.exporterMetrics()})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return a, string(body)
}

// noCollectors switches every collector off: a waiver must show whatever
// the collectors do.
func noCollectors() []string {
	var out []string
	for _, s := range newApp().registry.Specs() {
		out = append(out, "--no-collector."+s.Name)
	}
	return out
}

func TestServeExportsWaivers(t *testing.T) {
	path := filepath.Join(testdir.New(t), "officescan_exporter.yml")
	err := os.WriteFile(path, []byte("waivers:\n  dbserver: \"this server's database is SQL Server, not DbServer.exe\"\n  share: no client uses the Login Script\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"default collectors", nil},
		{"every collector off, exporter metrics off", append(noCollectors(), "--web.disable-exporter-metrics")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, body := serveMetrics(t, append([]string{"--config.file=" + path}, tc.args...)...)
			for _, line := range []string{
				`officescan_hazard_waived{hazard="dbserver",reason="this server's database is SQL Server, not DbServer.exe"} 1`,
				`officescan_hazard_waived{hazard="share",reason="no client uses the Login Script"} 1`,
			} {
				if !strings.Contains(body, "\n"+line+"\n") {
					t.Errorf("/metrics lacks %s:\n%s", line, body)
				}
			}
			if n := strings.Count(body, "\nofficescan_hazard_waived{"); n != 2 {
				t.Errorf("%d officescan_hazard_waived series, want 2", n)
			}
			want := []config.Waiver{
				{Hazard: "dbserver", Reason: "this server's database is SQL Server, not DbServer.exe", Source: path + ":2"},
				{Hazard: "share", Reason: "no client uses the Login Script", Source: path + ":3"},
			}
			if !reflect.DeepEqual(a.opts.Waivers, want) {
				t.Errorf("a.opts.Waivers = %+v, want %+v", a.opts.Waivers, want)
			}
		})
	}
}

func TestServeWithoutWaiversHasNone(t *testing.T) {
	_, body := serveMetrics(t, noCollectors()...)
	if strings.Contains(body, "officescan_hazard_waived{") {
		t.Fatalf("waived series without a config file:\n%s", body)
	}
	if !strings.Contains(body, "officescan_exporter_build_info{") {
		t.Fatalf("no build info beside the (absent) waivers:\n%s", body)
	}
}

func TestServeRefusesABadWaiver(t *testing.T) {
	path := filepath.Join(testdir.New(t), "c.yml")
	if err := os.WriteFile(path, []byte("log.level: info\nwaivers:\n  database: SQL Server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newApp().parse([]string{"--config.file", path})
	if err == nil || !strings.Contains(err.Error(), path+`:3: waivers: "database" is not a hazard that can be waived`) {
		t.Fatalf("parse error %v, want one naming %s:3 and the unknown hazard", err, path)
	}
}
