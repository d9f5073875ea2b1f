package settings_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/collectors/autopcc"
	"github.com/officescan-exporter/officescan_exporter/collectors/dbserver"
	"github.com/officescan-exporter/officescan_exporter/collectors/settings"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/exporter"
	"github.com/officescan-exporter/officescan_exporter/ini"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// syncBuffer collects the exporter's log lines across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is the exporter built as main builds it, over a copy of the
// fixture server folder and a fake process table with one DbServer.exe.
type fixture struct {
	t       *testing.T
	ini     string
	scraper *exporter.Scraper
	log     *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	serverDir := testdir.New(t)
	data, err := os.ReadFile("testdata/pccsrv/Ofcscan.ini")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ini: filepath.Join(serverDir, "Ofcscan.ini"), log: &syncBuffer{}}
	if err := os.WriteFile(f.ini, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("testdata/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	table := &procstest.Table{}
	table.Set(procs.Process{PID: 42, Name: "DbServer.exe", Started: 1})
	src := func() (procs.Source, error) { return table, nil }
	// A window well above the interval: a stalled test machine must not reset
	// the sampler's window between the recordings of one verdict.
	sampler := procs.SamplerConfig{Interval: 10 * time.Millisecond, Rediscover: 50 * time.Millisecond, Window: 500 * time.Millisecond, NumCPU: 1}
	reg := exporter.NewRegistry(dbserver.Spec(src, &sampler), autopcc.Spec(src), settings.Spec(&serverDir, &cfg.Settings))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(f.log, nil))
	f.scraper = reg.Build(ctx, logger, exporter.ScrapeOptions{Timeout: 5 * time.Second})
	// The dbserver collector reports once its sampler has sampled.
	deadline := time.Now().Add(5 * time.Second)
	for f.scrape()["success/dbserver"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the dbserver collector never succeeded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return f
}

// scrape returns officescan_setting_enabled by setting, as "setting/NAME",
// and collector success, as "success/NAME".
func (f *fixture) scrape() map[string]float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.scraper.Collector(context.Background()))
	mfs, err := reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		prefix := map[string]string{"officescan_setting_enabled": "setting/", "officescan_scrape_collector_success": "success/"}[mf.GetName()]
		if prefix == "" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[prefix+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}

func (f *fixture) write(data []byte) {
	if err := os.WriteFile(f.ini, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func utf16le(t *testing.T, text string) []byte {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExporterReadsUTF16FixtureAndRereadsEdits(t *testing.T) {
	f := newFixture(t)
	got := f.scrape()
	want := map[string]float64{
		"setting/firewall": 1, // the first of two Example_Firewall_Enabled lines
		"setting/firewall_driver_update_after_reboot": 1,
		"setting/kernel_driver_restart_notification":  0,
		"success/settings":                            1, "success/dbserver": 1, "success/autopcc": 1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}

	// The admin turns the notification on: the next scrape shows it.
	f.write(utf16le(t, "[Example_Global_Setting]\r\nExample_Firewall_Enabled=0\r\nExample_FW_Driver_Update_After_Reboot=1\r\nExample_Kernel_Restart_Notify=yes\r\n"))
	got = f.scrape()
	if got["setting/kernel_driver_restart_notification"] != 1 || got["setting/firewall"] != 0 || got["success/settings"] != 1 {
		t.Errorf("after the edit: %v", got)
	}
}

func TestExporterGarbageFailsOnlyTheSettingsCollectorOrSetting(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	garbage := make([]byte, 3<<20)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	for name, data := range map[string][]byte{
		"3 MB of random bytes": garbage,
		"oversized":            bytes.Repeat([]byte("[Example_Global_Setting]\r\n"), ini.MaxSize/26+1),
		"unlisted value":       []byte("[Example_Global_Setting]\r\nExample_Firewall_Enabled=1\r\nExample_FW_Driver_Update_After_Reboot=1\r\nExample_Kernel_Restart_Notify=maybe\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.write(data)
			got := f.scrape()
			// Each setting is judged alone: a bad value leaves only its
			// setting unknown; a file that cannot be read at all fails the
			// collector.
			if whole := name != "unlisted value"; whole && got["success/settings"] != 0 {
				t.Errorf("settings collector succeeded over %s", name)
			} else if !whole && (got["success/settings"] != 1 || got["setting/firewall"] != 1 || got["setting/firewall_driver_update_after_reboot"] != 1) {
				t.Errorf("one unknown setting failed the collector or hid the others: %v", got)
			}
			if got["success/dbserver"] != 1 || got["success/autopcc"] != 1 {
				t.Errorf("another collector failed with the settings file: %v", got)
			}
			for k := range got {
				if strings.HasPrefix(k, "setting/kernel_driver_restart_notification") {
					t.Errorf("a setting that could not be read has a sample: %v", got)
				}
			}
			log := f.log.String()
			// The text log quotes the error, doubling a Windows path's backslashes.
			quotedPath := strings.Trim(strconv.Quote(f.ini), `"`)
			for _, w := range []string{"collector=settings", quotedPath, "kernel_driver_restart_notification", "Example_Kernel_Restart_Notify", "Example_Global_Setting"} {
				if !strings.Contains(log, w) {
					t.Errorf("the log does not name %q:\n%.2000s", w, log)
				}
			}
			if name == "unlisted value" && !strings.Contains(log, `maybe`) {
				t.Errorf("the log does not name the value:\n%s", log)
			}
		})
	}
}
