package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func TestParseWaivers(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []Waiver
	}{
		{"none", valid, nil},
		{"bare key waives nothing", "waivers:\n", nil},
		{"empty mapping waives nothing", "waivers: {}\n", nil},
		{"one, after the settings", valid + "waivers:\n  dbserver: \"this server's database is SQL Server, not DbServer.exe\"\n",
			[]Waiver{{Hazard: "dbserver", Reason: "this server's database is SQL Server, not DbServer.exe", Source: "c.yml:10"}}},
		{"every waivable hazard, in the file's order, reasons trimmed",
			"log.level: info\nwaivers:\n" +
				"  share: no client uses the Login Script\n" +
				"  dbserver: '  SQL Server  '\n" +
				"  autopcc: >\n    not a terminal server\n" +
				"  firewall_driver: \"the firewall is never used\"\n" +
				"  restart_notification: \"agents restart nightly\"\n",
			[]Waiver{
				{"share", "no client uses the Login Script", "c.yml:3"},
				{"dbserver", "SQL Server", "c.yml:4"},
				{"autopcc", "not a terminal server", "c.yml:5"},
				{"firewall_driver", "the firewall is never used", "c.yml:7"},
				{"restart_notification", "agents restart nightly", "c.yml:8"},
			}},
		// A quoted word that looks like a bool or number is a string.
		{"quoted yes", "waivers:\n  autopcc: \"yes\"\n", []Waiver{{"autopcc", "yes", "c.yml:2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("c.yml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Waivers, tc.want) {
				t.Errorf("waivers = %+v, want %+v", cfg.Waivers, tc.want)
			}
		})
	}
}

// The config file accepts a waiver for every hazard the table marks
// waivable, and for nothing else.
func TestWaivableHazardsAreTheTables(t *testing.T) {
	for _, h := range hazard.Table {
		_, err := Parse("c.yml", []byte("waivers:\n  "+h.Name+": because\n"))
		if h.Waivable && err != nil {
			t.Errorf("waiving %s: %v", h.Name, err)
		}
		if !h.Waivable && err == nil {
			t.Errorf("waiving %s, which the hazard table says cannot be waived, was accepted", h.Name)
		}
	}
}

func TestParseWaiverErrorsNameFileLineAndTheValidNames(t *testing.T) {
	names := strings.Join(hazard.WaivableNames(), ", ")
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown hazard", "server_dir: x\nwaivers:\n  database: SQL Server\n",
			`config file c.yml:3: waivers: "database" is not a hazard that can be waived; the hazards that can be waived are: ` + names},
		{"wrong case", "waivers:\n  DbServer: SQL Server\n",
			`config file c.yml:2: waivers: "DbServer" is not a hazard that can be waived (did you mean "dbserver"? hazard names are lower-case); the hazards that can be waived are: ` + names},
		{"a hazard that cannot be waived", "waivers:\n  agents: no agents\n",
			`config file c.yml:2: waivers: "agents" is not a hazard that can be waived; the hazards that can be waived are: ` + names},
		{"empty reason", "waivers:\n  dbserver: \"\"\n",
			"config file c.yml:2: waivers.dbserver: the reason is empty; say why this hazard does not apply to this server"},
		{"blank reason", "waivers:\n  share: '   '\n",
			"config file c.yml:2: waivers.share: the reason is empty"},
		{"no reason", "waivers:\n  dbserver:\n",
			`config file c.yml:2: waivers.dbserver must be the reason for the waiver, in quotes, like dbserver: "this server's database is SQL Server"`},
		{"bool", "waivers:\n  autopcc: true\n", "config file c.yml:2: waivers.autopcc must be the reason for the waiver"},
		{"number", "waivers:\n  autopcc: 1\n", "config file c.yml:2: waivers.autopcc must be the reason for the waiver"},
		{"list", "waivers:\n  autopcc:\n    - a\n", "config file c.yml:3: waivers.autopcc must be the reason for the waiver"},
		{"mapping", "waivers:\n  autopcc: {reason: x}\n", "config file c.yml:2: waivers.autopcc must be the reason for the waiver"},
		{"duplicate", "waivers:\n  dbserver: SQL Server\n  share: no clients\n  dbserver: again\n",
			`config file c.yml:4: key "dbserver" given twice (first on line 2)`},
		{"waivers given twice", "waivers:\n  dbserver: a\nwaivers:\n  share: b\n",
			`config file c.yml:3: key "waivers" given twice (first on line 1)`},
		{"a list of names", "waivers: [dbserver]\n",
			"config file c.yml:1: waivers must be a mapping of hazard name to reason, one per line like `dbserver: \"this server's database is SQL Server\"` (hazards that can be waived: " + names + ")"},
		{"a bare name", "waivers: dbserver\n", "config file c.yml:1: waivers must be a mapping of hazard name to reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("c.yml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed as %+v, want an error", cfg.Waivers)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant one starting\n  %s", err, tc.want)
			}
		})
	}
}

func TestLoadWaivers(t *testing.T) {
	path := filepath.Join(testdir.New(t), "officescan_exporter.yml")
	if err := os.WriteFile(path, []byte(valid+"waivers:\n  dbserver: SQL Server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{{Hazard: "dbserver", Reason: "SQL Server", Source: path + ":10"}}
	if !reflect.DeepEqual(cfg.Waivers, want) {
		t.Fatalf("waivers = %+v, want %+v", cfg.Waivers, want)
	}
}
