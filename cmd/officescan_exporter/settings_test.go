package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

const fixtures = "../../settingsdiff/testdata/"

// runSettingsDiff runs `officescan_exporter settings diff ARGS...` in-process.
func runSettingsDiff(t *testing.T, args ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	a := newApp()
	c := newSettingsDiffCommand(a)
	var out, errOut bytes.Buffer
	c.out, c.errOut = &out, &errOut
	cmd, err := a.parse(append([]string{"settings", "diff", "--log.level=error"}, args...))
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	if cmd != "settings diff" {
		t.Fatalf("parsed command %q", cmd)
	}
	code, err = c.run(context.Background())
	return code, out.String(), errOut.String(), err
}

func TestSettingsDiffNamesTheChangedKey(t *testing.T) {
	code, out, _, err := runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"after-windows1252.ini")
	if err != nil || code != 1 {
		t.Fatalf("exit %d, %v; want 1 (the files differ)", code, err)
	}
	var changes []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "~ ") || strings.HasPrefix(l, "+ ") || strings.HasPrefix(l, "- ") {
			changes = append(changes, l)
		}
	}
	if len(changes) != 1 || !strings.HasPrefix(changes[0], `~ Example_Kernel_Restart_Notify: "0" -> "1"`) {
		t.Fatalf("changes %q, want only Example_Kernel_Restart_Notify:\n%s", changes, out)
	}

	code, _, _, err = runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"before-utf8-lf.ini")
	if err != nil || code != 0 {
		t.Fatalf("same values in two encodings: exit %d, %v; want 0", code, err)
	}
}

func TestSettingsDiffPrintsAMappingTheConfigLoads(t *testing.T) {
	code, out, stderr, err := runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"after-utf16be.ini",
		"--setting", "kernel_driver_restart_notification")
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if !strings.Contains(stderr, "Example_Kernel_Restart_Notify") {
		t.Errorf("the comparison is not on standard error:\n%s", stderr)
	}
	cfg, err := config.Parse("pasted.yml", []byte(out))
	if err != nil {
		t.Fatalf("standard output does not load as a config file: %v\n%s", err, out)
	}
	got := cfg.Settings["kernel_driver_restart_notification"]
	if got.File != "Ofcscan.ini" || got.Section != "Example_Global_Setting" || got.Key != "Example_Kernel_Restart_Notify" ||
		strings.Join(got.EnabledValues, ",") != "1" || strings.Join(got.DisabledValues, ",") != "0" {
		t.Errorf("mapping loaded as %+v from:\n%s", got, out)
	}

	// The option was on in BEFORE: the values swap.
	_, out, _, err = runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"after-utf8bom.ini", "--setting=firewall", "--enabled-in=before")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = config.Parse("pasted.yml", []byte(out))
	if err != nil || strings.Join(cfg.Settings["firewall"].EnabledValues, ",") != "0" {
		t.Fatalf("--enabled-in=before: %v\n%s", err, out)
	}
}

func TestSettingsDiffErrors(t *testing.T) {
	code, _, _, err := runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"before-utf8-lf.ini", "--setting=firewall")
	if code != 2 || err == nil || !strings.Contains(err.Error(), "same values") {
		t.Errorf("nothing toggled: exit %d, %v", code, err)
	}
	code, _, _, err = runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"missing.ini")
	if code != 2 || err == nil || !strings.Contains(err.Error(), "missing.ini") {
		t.Errorf("missing file: exit %d, %v", code, err)
	}
}

// Two settings found with `settings diff --write` go into the one
// settings: mapping of the same config file, which keeps its comments; a
// second write of the same setting replaces its entry.
func TestSettingsDiffWriteTwiceIntoOneConfig(t *testing.T) {
	dir := testdir.New(t)
	cfgPath := filepath.Join(dir, "config.yml")
	const start = "# the admin's notes\nlog.level: info\n"
	if err := os.WriteFile(cfgPath, []byte(start), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{fixtures + "before-utf16le.ini", fixtures + "after-windows1252.ini", "--setting=kernel_driver_restart_notification", "--write=" + cfgPath},
		{fixtures + "before-utf16le.ini", fixtures + "after-utf16be.ini", "--setting=firewall", "--enabled-in=before", "--file=Private/ofcserver.ini", "--write", cfgPath},
		{fixtures + "before-utf16le.ini", fixtures + "after-utf16be.ini", "--setting=firewall", "--write", cfgPath},
	} {
		code, out, stderr, err := runSettingsDiff(t, args...)
		if err != nil || code != 0 {
			t.Fatalf("%q: exit %d, %v", args, code, err)
		}
		if !strings.Contains(stderr, "Example_Kernel_Restart_Notify") || !strings.Contains(out, "in "+cfgPath) || !strings.Contains(out, "previous file kept as "+cfgPath+".") {
			t.Errorf("%q: stdout %q, stderr %q", args, out, stderr)
		}
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if n := strings.Count(text, "\nsettings:"); n != 1 || !strings.HasPrefix(text, start) {
		t.Fatalf("%d settings: keys, or the start is lost:\n%s", n, text)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if k, fw := cfg.Settings["kernel_driver_restart_notification"], cfg.Settings["firewall"]; k.Key != "Example_Kernel_Restart_Notify" ||
		fw.Key != "Example_Kernel_Restart_Notify" || fw.File != "Ofcscan.ini" || fw.EnabledValues[0] != "1" || len(cfg.Settings) != 2 {
		t.Errorf("settings %+v from:\n%s", cfg.Settings, text)
	}
	st, err := os.Stat(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Windows has only the read-only attribute for a mode.
	if st.Mode().Perm() != 0o640 && runtime.GOOS != "windows" {
		t.Errorf("mode %v; want it kept (-rw-r-----)", st.Mode())
	}
}

func TestSettingsDiffWriteErrors(t *testing.T) {
	cfgPath := filepath.Join(testdir.New(t), "config.yml")
	code, _, _, err := runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"after-utf16be.ini", "--write="+cfgPath)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "--write needs --setting") {
		t.Errorf("--write without --setting: exit %d, %v", code, err)
	}
	if err := os.WriteFile(cfgPath, []byte("settings: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, _, err = runSettingsDiff(t, fixtures+"before-utf16le.ini", fixtures+"after-utf16be.ini", "--setting=firewall", "--write="+cfgPath)
	if code != 2 || err == nil || !strings.Contains(err.Error(), cfgPath) {
		t.Errorf("a config file that does not load: exit %d, %v", code, err)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != "settings: [\n" {
		t.Errorf("the file changed: %q", b)
	}
}

func TestSettingsLearnNeedsAConfigFile(t *testing.T) {
	a := newApp()
	c := newSettingsLearnCommand(a)
	newSettingsDiffCommand(a) // both under one settings command
	cmd, err := a.parse([]string{"settings", "learn", "--officescan.server-dir=" + testdir.New(t)})
	if err != nil || cmd != "settings learn" {
		t.Fatalf("parsed %q, %v", cmd, err)
	}
	if code, err := c.run(context.Background()); code != 2 || err == nil || !strings.Contains(err.Error(), "--config.file") {
		t.Errorf("exit %d, %v", code, err)
	}
}

// Every `settings` command line of docs/collector.settings.md parses with
// the binary's own flags, split as PowerShell splits it.
func TestDocsSettingsCommandsParse(t *testing.T) {
	data, err := os.ReadFile("../../docs/collector.settings.md")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		_, rest, ok := strings.Cut(line, `officescan_exporter.exe' settings `)
		if !ok {
			_, rest, ok = strings.Cut(line, "officescan_exporter settings ")
		}
		if !ok || strings.Contains(line, "`") {
			continue // not a command, or one quoted in the text
		}
		args, err := psArgs("settings " + rest)
		if err != nil {
			t.Errorf("collector.settings.md:%d: %v: %s", n+1, err, line)
			continue
		}
		a := newApp()
		newSettingsDiffCommand(a)
		newSettingsLearnCommand(a)
		// Parsed without loading the config file, which is not here.
		cmd, err := a.kp.Parse(args)
		if err != nil {
			t.Errorf("collector.settings.md:%d: %q: %v", n+1, args, err)
		}
		found[cmd]++
	}
	if found["settings learn"] < 1 || found["settings diff"] < 3 {
		t.Errorf("found %v command lines in the doc; want learn and diff (the format changed?)", found)
	}
}
