package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

const valid = `server_dir: 'C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV'
settings:
  firewall:
    file: Ofcscan.ini
    section: Example Section
    key: Example_Key
    enabled_values: ["1", " yes "]
    disabled_values: ["0"]
`

func TestParseSettings(t *testing.T) {
	cfg, err := Parse("c.yml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cfg.Settings["firewall"]
	if !ok || len(cfg.Settings) != 1 {
		t.Fatalf("settings = %+v", cfg.Settings)
	}
	if s.File != "Ofcscan.ini" || s.Section != "Example Section" || s.Key != "Example_Key" ||
		strings.Join(s.EnabledValues, "|") != "1|yes" || strings.Join(s.DisabledValues, "|") != "0" || s.Source != "c.yml:3" {
		t.Errorf("firewall = %+v", s)
	}
	if cfg.ServerDir != `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV` {
		t.Errorf("server_dir = %q", cfg.ServerDir)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"empty":             {"  \n", "c.yml: file is empty"},
		"comments only":     {"# nothing\n", "no YAML document"},
		"not a mapping":     {"- a\n", "c.yml:1: the config file must be a mapping"},
		"unknown setting":   {"settings:\n  firewal:\n    file: x\n", `c.yml:2: unknown setting "firewal"`},
		"unknown field":     {strings.Replace(valid, "    key:", "    kee:", 1), `c.yml:6: unknown key "kee"`},
		"missing field":     {strings.Replace(valid, "    section: Example Section\n", "", 1), "c.yml:3: settings.firewall: section is missing"},
		"empty key":         {strings.Replace(valid, "key: Example_Key", "key: ''", 1), "file and key must not be empty"},
		"blank key":         {strings.Replace(valid, "key: Example_Key", "key: '  '", 1), "file and key must not be empty"},
		"values not list":   {strings.Replace(valid, `["0"]`, `"0"`, 1), `c.yml:8: settings.firewall.disabled_values must be a list`},
		"no values":         {strings.Replace(valid, `["0"]`, `[]`, 1), "at least one value"},
		"both lists":        {strings.Replace(valid, `["0"]`, `["YES"]`, 1), `value "yes" is both enabled and disabled`},
		"duplicate key":     {valid + "server_dir: x\n", `c.yml:9: key "server_dir" given twice (first on line 1)`},
		"null server_dir":   {"server_dir:\n", "c.yml:1: server_dir must be a single value"},
		"bad yaml":          {"settings: [\n", "c.yml"},
		"setting not a map": {"settings:\n  firewall: 1\n", "c.yml:2: settings.firewall must be a mapping"},
	} {
		_, err := Parse("c.yml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(path, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path); err != nil || cfg.Path != path || len(cfg.Settings) != 1 {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, []byte("#"+strings.Repeat("x", MaxSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{big: "larger than", dir: "is a directory", filepath.Join(dir, "none.yml"): "none.yml"} {
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want an error containing %q", p, err, want)
		}
	}
}

func TestSourcesSayWhereEachSettingIsRead(t *testing.T) {
	got := Sources(map[string]Setting{
		"firewall":                            {File: "Ofcscan.ini", Section: "Global Setting", Key: "FW", Source: "c.yml:3"},
		"firewall_driver_update_after_reboot": {File: `C:\PCCSRV\Private\ofcserver.ini`, Section: "S", Key: "K"},
	}, []string{"firewall", "firewall_driver_update_after_reboot", "kernel_driver_restart_notification"}, "/srv/PCCSRV")
	for name, want := range map[string]string{
		"firewall":                            "read from " + filepath.Join("/srv/PCCSRV", "Ofcscan.ini") + " [Global Setting] FW (mapping at c.yml:3)",
		"firewall_driver_update_after_reboot": `read from C:\PCCSRV\Private\ofcserver.ini [S] K`,
		"kernel_driver_restart_notification":  "has no mapping in the config file",
	} {
		if !strings.HasPrefix(got[name], want) {
			t.Errorf("%s: %q, want it to start with %q", name, got[name], want)
		}
	}
}
