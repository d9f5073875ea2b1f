package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// handWritten is a config file as an admin keeps it: comments everywhere,
// blank lines, quoting of their own, a waiver, flags and one mapping.
const handWritten = `# officescan_exporter on SRV01 -- ask Jo before changing
server_dir: 'C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV'   # from the registry

web:
    listen-address: ":9745"   # the firewall opens this port

settings:
    # learned on 2024-03-02, ticket 4411
    firewall:
        file: Ofcscan.ini     # relative to server_dir
        section: "Global Setting"
        key: FW_On
        enabled_values: ["1"]
        disabled_values: ["0"]

# Waivers: see the runbook.
waivers:
    dbserver: "SQL Server"   # since 2023
# end of file
`

var kernel = Setting{File: "Ofcscan.ini", Section: "Global Setting", Key: "Kernel_Notify", EnabledValues: []string{"1"}, DisabledValues: []string{"0"}}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(testdir.New(t), "config.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustWrite writes s and checks the file is exactly want afterwards and
// loads with the mapping.
func mustWrite(t *testing.T, path, name string, s Setting, note, want string) Written {
	t.Helper()
	w, err := WriteSetting(path, name, s, note)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != want {
		t.Fatalf("file after writing %s:\n%s\nwant:\n%s", name, got, want)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("the file written does not load: %v", err)
	}
	if !sameSetting(cfg.Settings[name], s) || !sameSetting(w.File.Settings[name], s) {
		t.Fatalf("settings.%s loads as %+v", name, cfg.Settings[name])
	}
	return w
}

func TestWriteSettingAddsAnEntryAndKeepsEverythingElse(t *testing.T) {
	path := writeConfig(t, handWritten)
	want := strings.Replace(handWritten, "        disabled_values: [\"0\"]\n", `        disabled_values: ["0"]
    kernel_driver_restart_notification: # learned: [Global Setting] Kernel_Notify
        file: Ofcscan.ini
        section: Global Setting
        key: Kernel_Notify
        enabled_values: ["1"]
        disabled_values: ["0"]
`, 1)
	w := mustWrite(t, path, "kernel_driver_restart_notification", kernel, "learned: [Global Setting] Kernel_Notify", want)
	if w.Replaced || w.Created {
		t.Errorf("Written = %+v, want an added entry", w)
	}
	if b := read(t, w.Backup); b != handWritten {
		t.Errorf("backup %s holds:\n%s", w.Backup, b)
	}
	if filepath.Dir(w.Backup) != filepath.Dir(path) || !strings.HasSuffix(w.Backup, ".bak") {
		t.Errorf("backup %s is not a .bak beside the file", w.Backup)
	}
	cfg, _ := Load(path)
	if cfg.Settings["firewall"].Key != "FW_On" || len(cfg.Waivers) != 1 || cfg.ServerDir == "" || len(cfg.Flags) != 1 {
		t.Errorf("the rest of the file did not load as before: %+v", cfg)
	}
}

func TestWriteSettingReplacesTheSameSettingsEntryOnly(t *testing.T) {
	path := writeConfig(t, handWritten)
	fw := Setting{File: `Private\ofcserver.ini`, Section: "FW", Key: "Enable", EnabledValues: []string{"yes"}, DisabledValues: []string{"no", "off"}}
	// The entry's own comment above it stays; its lines are replaced.
	want := strings.Replace(handWritten, `    firewall:
        file: Ofcscan.ini     # relative to server_dir
        section: "Global Setting"
        key: FW_On
        enabled_values: ["1"]
        disabled_values: ["0"]
`, `    firewall:
        file: Private\ofcserver.ini
        section: FW
        key: Enable
        enabled_values: ["yes"]
        disabled_values: ["no", "off"]
`, 1)
	w := mustWrite(t, path, "firewall", fw, "", want)
	if !w.Replaced {
		t.Errorf("Written = %+v, want a replaced entry", w)
	}
	// And again, with the entry now the one before a comment and waivers.
	fw.Key = "Enable2"
	mustWrite(t, path, "firewall", fw, "", strings.Replace(want, "key: Enable\n", "key: Enable2\n", 1))
}

func TestWriteSettingTwiceGivesOneSettingsKey(t *testing.T) {
	const start = "# mine\nlog.level: info\n"
	path := writeConfig(t, start)
	fw := Setting{File: "Ofcscan.ini", Section: "S", Key: "FW", EnabledValues: []string{"1"}, DisabledValues: []string{"0"}}
	mustWrite(t, path, "firewall", fw, "", start+`
settings:
  firewall:
    file: Ofcscan.ini
    section: S
    key: FW
    enabled_values: ["1"]
    disabled_values: ["0"]
`)
	w := mustWrite(t, path, "kernel_driver_restart_notification", kernel, "", start+`
settings:
  firewall:
    file: Ofcscan.ini
    section: S
    key: FW
    enabled_values: ["1"]
    disabled_values: ["0"]
  kernel_driver_restart_notification:
    file: Ofcscan.ini
    section: Global Setting
    key: Kernel_Notify
    enabled_values: ["1"]
    disabled_values: ["0"]
`)
	if len(w.File.Settings) != 2 {
		t.Errorf("settings = %+v", w.File.Settings)
	}
}

func TestWriteSettingShapes(t *testing.T) {
	entry := func(indent string) string {
		return indent + "kernel_driver_restart_notification:\n" + indent + "  file: Ofcscan.ini\n" + indent + "  section: Global Setting\n" +
			indent + "  key: Kernel_Notify\n" + indent + "  enabled_values: [\"1\"]\n" + indent + "  disabled_values: [\"0\"]\n"
	}
	for name, tc := range map[string]struct{ in, want string }{
		"empty flow settings": {"settings: {}  # none yet\nlog.level: info\n",
			"settings: # none yet\n" + entry("  ") + "log.level: info\n"},
		"flow settings with an entry": {"settings: {firewall: {file: a.ini, section: S, key: K,\n    enabled_values: [on], disabled_values: [off]}}\nlog.level: info\n",
			"settings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n" + entry("  ") + "log.level: info\n"},
		"no line break at the end": {"log.level: info", "log.level: info\n\nsettings:\n" + entry("  ")},
		"settings last, no line break": {"settings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}",
			"settings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n" + entry("  ")},
		"document markers": {"---\nlog.level: info\n...\n# after\n", "---\nlog.level: info\n\nsettings:\n" + entry("  ") + "...\n# after\n"},
		"CRLF":             {"# c\r\nlog.level: info\r\n", strings.ReplaceAll("# c\nlog.level: info\n\nsettings:\n"+entry("  "), "\n", "\r\n")},
		"byte-order mark":  {"\xEF\xBB\xBFsettings: {}\n", "\xEF\xBB\xBFsettings:\n" + entry("  ")},
		// YAML counts lines at CR, NEL, LS and PS too: a comment holding
		// one must not shift the entry the writer finds.
		"line separator in a comment": {"# a\u2028# b\nsettings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n# tail\n",
			"# a\u2028# b\nsettings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n" + entry("  ") + "# tail\n"},
		"replaced flow entry": {"settings:\n  kernel_driver_restart_notification: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n",
			"settings:\n" + entry("  ") + "  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n"},
		"new file": {"", "settings:\n" + entry("  ")},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(testdir.New(t), "config.yml")
			if tc.in != "" {
				if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w := mustWrite(t, path, "kernel_driver_restart_notification", kernel, "", tc.want)
			if w.Created != (tc.in == "") || (w.Backup == "") != (tc.in == "") {
				t.Errorf("Written = %+v", w)
			}
		})
	}
}

func TestWriteSettingQuotesWhatYAMLWouldReadOtherwise(t *testing.T) {
	path := writeConfig(t, "log.level: info\n")
	odd := Setting{File: `C:\odd: dir\#1.ini`, Section: "null", Key: "- key", EnabledValues: []string{"true", "~"}, DisabledValues: []string{"'0'", ""}}
	if _, err := WriteSetting(path, "firewall", odd, "a note: with \"quotes\"\nand a line break"); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameSetting(cfg.Settings["firewall"], odd) {
		t.Errorf("loaded %+v from:\n%s", cfg.Settings["firewall"], read(t, path))
	}
}

func TestWriteSettingRefusesAndLeavesTheFile(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"does not load": {"settings:\n  firewal: {}\n", `config.yml:2: unknown setting "firewal"`},
		"flow mapping":  {"{log.level: info}\n", "one flow mapping"},
		// yaml.v3 lets a plain value of an indented mapping go on at a
		// lesser indent; a key added after it is read as more of it.
		"result would not load": {" log.level: debug\ninfo\n", "would not load as it should"},
		"settings twice":        {"settings: {}\nsettings: {}\n", `key "settings" given twice`},
		// The last value of the last entry is a literal block whose last
		// line looks like a comment: the new entry would cut it off. The
		// check of the result against the old file catches what the
		// line-based edit cannot see.
		"result would change another entry": {"settings:\n  firewall:\n    file: a.ini\n    section: S\n    key: K\n    enabled_values: [\"1\"]\n    disabled_values:\n      - |\n        0\n        # part of the value\n",
			"would not load as it should"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, tc.in)
			_, err := WriteSetting(path, "kernel_driver_restart_notification", kernel, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and %q", err, path, tc.want)
			}
			if got := read(t, path); got != tc.in {
				t.Errorf("the file changed:\n%s", got)
			}
			assertOnlyFile(t, path)
		})
	}
}

// assertOnlyFile checks that path's folder holds path and nothing else: no
// temporary file, no backup.
func assertOnlyFile(t *testing.T, path string, also ...string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) && !strings.Contains(strings.Join(also, "\n"), e.Name()) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// Each step of the write fails in turn: the file keeps its content and
// nothing is left beside it but the backup, once the backup was made.
func TestWriteSettingFailingStepLeavesTheOriginal(t *testing.T) {
	for _, step := range []string{"backup", "write", "sync", "permissions", "close", "rename", "load back"} {
		t.Run(step, func(t *testing.T) {
			path := writeConfig(t, handWritten)
			faultAt = func(s string) error {
				if s == step {
					return errors.New("injected fault")
				}
				return nil
			}
			defer func() { faultAt = nil }()
			w, err := WriteSetting(path, "kernel_driver_restart_notification", kernel, "")
			if err == nil || !strings.Contains(err.Error(), "injected fault") || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want the fault and the file named", err)
			}
			if got := read(t, path); got != handWritten {
				t.Errorf("the file changed:\n%s", got)
			}
			if step == "load back" && !strings.Contains(err.Error(), "the old file was put back") {
				t.Errorf("error %v does not say the old file was put back", err)
			}
			assertOnlyFile(t, path, w.Backup)
		})
	}
}

func TestWriteSettingUnknownSetting(t *testing.T) {
	path := writeConfig(t, handWritten)
	if _, err := WriteSetting(path, "firewal", kernel, ""); err == nil || !strings.Contains(err.Error(), "firewal") {
		t.Fatalf("error %v", err)
	}
	assertOnlyFile(t, path)
}

// FuzzWriteSetting edits whatever the loader accepts. The edit must never
// panic, and must not be refused for a file whose mapping is a block
// starting at the first column, with no literal or folded block (| or >)
// and no mapping whose keys sit at different columns (which yaml.v3
// accepts). In those shapes the line-based edit can produce a file that does
// not load as it should, which WriteSetting then refuses (see
// TestWriteSettingRefusesAndLeavesTheFile).
func FuzzWriteSetting(f *testing.F) {
	f.Add([]byte(handWritten))
	f.Add([]byte("settings: {}\n"))
	f.Add([]byte("# c\r\nlog.level: info"))
	f.Add([]byte("settings:\n  firewall: {file: a.ini, section: S, key: K, enabled_values: [on], disabled_values: [off]}\n---\n"))
	f.Add([]byte("settings:\n  kernel_driver_restart_notification:\n    file: a.ini\n    section: >\n      S\n    key: K # k\n    enabled_values:\n    - on\n    disabled_values: [off]\n# c\nwaivers: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		was, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		out, err := withSetting(data, "kernel_driver_restart_notification", kernel, "note")
		if err == nil {
			var now *File
			if now, err = Parse("fuzz.yml", out); err == nil {
				err = changedOnly(was, now, "kernel_driver_restart_notification", kernel)
			}
		}
		if err != nil && !oddShape(data) {
			t.Fatalf("refused: %v\n%q\n->\n%q", err, data, out)
		}
	})
}

// oddShape: the file's mapping is indented or a flow mapping, or it holds
// a block scalar or a mapping whose keys YAML found at different columns.
func oddShape(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Column != 1 || doc.Content[0].Style&yaml.FlowStyle != 0 {
		return true
	}
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return true
		}
		for i := 0; n.Kind == yaml.MappingNode && i < len(n.Content); i += 2 {
			if n.Content[i].Column != n.Content[0].Column {
				return true
			}
		}
		for _, c := range n.Content {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(&doc)
}
