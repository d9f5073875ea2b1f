package settings

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/officescan-exporter/officescan_exporter/collectors/serverinfo"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

type fakeServer struct {
	info serverinfo.Info
	err  error
}

func (f fakeServer) Read() (serverinfo.Info, error) { return f.info, f.err }

var noServer = fakeServer{err: errors.New("the registry must not be read when the flag is set")}

func setting(file, section, key string) config.Setting {
	return config.Setting{File: file, Section: section, Key: key, EnabledValues: []string{"1", "On"}, DisabledValues: []string{"0"}, Source: "test.yml:3"}
}

// update runs the collector once and returns its samples by setting.
func update(t *testing.T, c *Collector) (map[string]float64, error) {
	t.Helper()
	ch := make(chan prometheus.Metric, 10)
	err := c.Update(context.Background(), ch)
	close(ch)
	got := map[string]float64{}
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Desc().String(), "officescan_setting_enabled") {
			t.Fatalf("unexpected metric %s", m.Desc())
		}
		got[pb.GetLabel()[0].GetValue()] = pb.GetGauge().GetValue()
	}
	return got, err
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownSettingsHaveNoSampleAndNameFileSectionKeyValue: each setting
// is judged alone (the contract): one that cannot be read has no sample and
// its error, naming setting, file, section, key and value, is logged, while
// the collector succeeds and reports the other.
func TestUnknownSettingsHaveNoSampleAndNameFileSectionKeyValue(t *testing.T) {
	dir := testdir.New(t)
	writeFile(t, filepath.Join(dir, "Ofcscan.ini"), "[Example]\nGood=on\nOdd=2\n")
	for name, tc := range map[string]struct {
		s    config.Setting
		want []string
	}{
		"unlisted value":  {setting("Ofcscan.ini", "Example", "Odd"), []string{filepath.Join(dir, "Ofcscan.ini") + ":3", "[Example]", "Odd", `"2"`, `["1" "On"]`, "test.yml:3"}},
		"missing key":     {setting("Ofcscan.ini", "Example", "Gone"), []string{"Ofcscan.ini", "[Example]", "Gone", "no such key"}},
		"missing section": {setting("Ofcscan.ini", "Nowhere", "Good"), []string{"Ofcscan.ini", "[Nowhere]", "no such section"}},
		"missing file":    {setting("Other.ini", "Example", "Good"), []string{filepath.Join(dir, "Other.ini"), "[Example]", "Good"}},
	} {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			c := New(dir, noServer, map[string]config.Setting{
				"firewall":                           tc.s,
				"kernel_driver_restart_notification": setting("Ofcscan.ini", "example", "GOOD"),
			}, slog.New(slog.NewTextHandler(&log, nil)))
			got, err := update(t, c)
			if err != nil {
				t.Fatalf("one unknown setting failed the collector: %v", err)
			}
			for _, w := range append(tc.want, "setting firewall") {
				// The text log quotes the error: backslashes (Windows paths)
				// and quotes come escaped.
				plain := strings.ReplaceAll(strings.ReplaceAll(log.String(), `\\`, `\`), `\"`, `"`)
				if !strings.Contains(plain, w) {
					t.Errorf("log %q does not name %q", log.String(), w)
				}
			}
			if _, ok := got["firewall"]; ok {
				t.Errorf("an unknown setting has a sample: %v", got)
			}
			// The setting that could be read is still reported: "On" matches "on".
			if v, ok := got["kernel_driver_restart_notification"]; !ok || v != 1 {
				t.Errorf("the readable setting = %v, %v; want 1", v, ok)
			}
		})
	}
}

// TestEverySettingUnknownFailsTheCollector: when no mapped setting can be
// read at all, the collector cannot work, and says so for each.
func TestEverySettingUnknownFailsTheCollector(t *testing.T) {
	dir := testdir.New(t)
	got, err := update(t, New(dir, noServer, map[string]config.Setting{
		"firewall":                           setting("Missing.ini", "S", "A"),
		"kernel_driver_restart_notification": setting("Missing.ini", "S", "B"),
	}, nil))
	if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "setting firewall") || !strings.Contains(err.Error(), "setting kernel_driver_restart_notification") {
		t.Fatalf("got %v, error %v; want a failure naming both settings", got, err)
	}
}

func TestUnmappedSettingsHaveNoSampleAndDoNotFail(t *testing.T) {
	got, err := update(t, New("", noServer, nil, nil))
	if err != nil || len(got) != 0 {
		t.Fatalf("no mapping: %v, %v; want no sample and no error", got, err)
	}
	if u := Unmapped(map[string]config.Setting{"firewall": {}}); strings.Join(u, ",") != "firewall_driver_update_after_reboot,kernel_driver_restart_notification" {
		t.Errorf("Unmapped = %v", u)
	}
}

func TestServerDirComesFromTheRegistryWhenTheFlagIsEmpty(t *testing.T) {
	dir := testdir.New(t)
	writeFile(t, filepath.Join(dir, "Ofcscan.ini"), "[S]\nK=0\n")
	m := map[string]config.Setting{"firewall": setting("Ofcscan.ini", "S", "K")}
	got, err := update(t, New("", fakeServer{info: serverinfo.Info{Dir: dir}}, m, nil))
	if err != nil || got["firewall"] != 0 || len(got) != 1 {
		t.Fatalf("got %v, %v; want firewall=0", got, err)
	}
	_, err = update(t, New("", fakeServer{err: serverinfo.ErrNotSupported}, m, nil))
	if err == nil || !strings.Contains(err.Error(), "--officescan.server-dir") || !strings.Contains(err.Error(), "Ofcscan.ini") {
		t.Fatalf("no server folder: error %v does not say what to set and which file", err)
	}
	// An absolute file needs no server folder at all.
	abs := setting(filepath.Join(dir, "Ofcscan.ini"), "S", "K")
	if got, err := update(t, New("", noServer, map[string]config.Setting{"firewall": abs}, nil)); err != nil || len(got) != 1 {
		t.Fatalf("absolute path: %v, %v", got, err)
	}
}

func TestSpecLogsUnmappedSettingsAndHowToMapThem(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	dir := ""
	m := map[string]config.Setting{"firewall": setting("Ofcscan.ini", "S", "K")}
	if _, err := Spec(&dir, &m).New(context.Background(), logger); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, w := range []string{"setting=firewall_driver_update_after_reboot", "setting=kernel_driver_restart_notification", "settings diff", "docs/collector.settings.md", "--config.file"} {
		if !strings.Contains(log, w) {
			t.Errorf("start-up log does not contain %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, "setting=firewall ") {
		t.Errorf("the mapped setting is logged as unmapped:\n%s", log)
	}
}
