package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/config"
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
