// Package settingslearn drives `officescan_exporter settings learn`, the real
// binary, in a real terminal: tmux runs it in a pane, the test types into
// it with send-keys and reads the screen with capture-pane, and between the
// steps it changes the server folder's ini files as the web console would
// (Ofcscan.ini in UTF-16LE with a byte-order mark, Private\ofcserver.ini in
// ANSI). Then the exporter, started with the config file written, must read
// each setting's state through the learned mapping. It runs in
// scripts/test.d/25-e2e.sh (OSE_E2E=1); scripts/deps.sh installs tmux.
package settingslearn

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// terminal is one tmux server of the test's own (its own socket), with
// one pane running the command.
type terminal struct {
	t      *testing.T
	tmux   string
	socket string
}

const pane = "learn"

func startTerminal(t *testing.T, dir string, command ...string) *terminal {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux not found: scripts/deps.sh installs it (Debian package tmux)")
	}
	conf := filepath.Join(dir, "tmux.conf")
	// The pane stays after the program exits, so its last words can be read.
	if err := os.WriteFile(conf, []byte("set-option -g remain-on-exit on\nset-option -g history-limit 20000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, tmux: tmux, socket: filepath.Join(dir, "tmux.sock")}
	var quoted []string
	for _, a := range command {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	// The exit status is printed by the shell: tmux may see the pane's
	// end before it has reaped the program, and then knows no status.
	term.run("-f", conf, "new-session", "-d", "-s", pane, "-x", "250", "-y", "50", strings.Join(quoted, " ")+`; echo "[exit status $?]"`)
	t.Cleanup(func() { exec.Command(tmux, "-S", term.socket, "kill-server").Run() })
	return term
}

func (term *terminal) run(args ...string) string {
	term.t.Helper()
	cmd := exec.Command(term.tmux, append([]string{"-S", term.socket}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is everything the pane printed, long lines joined.
func (term *terminal) screen() string {
	return term.run("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", pane)
}

// expect waits until the screen shows want n times.
func (term *terminal) expect(want string, n int) {
	term.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := term.screen()
		if strings.Count(s, want) >= n {
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("waited for %q (%d times); the terminal shows:\n%s", want, n, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeLine types text and Enter, as the admin does.
func (term *terminal) typeLine(text string) {
	term.t.Helper()
	if text != "" {
		term.run("send-keys", "-t", pane, "-l", text)
	}
	term.run("send-keys", "-t", pane, "Enter")
}

// exitStatus waits for the program to end and returns its exit status.
func (term *terminal) exitStatus() int {
	term.t.Helper()
	term.expect("[exit status ", 1)
	s := term.screen()
	var status int
	if _, err := fmt.Sscanf(s[strings.LastIndex(s, "[exit status "):], "[exit status %d]", &status); err != nil {
		term.t.Fatalf("reading the exit status: %v\n%s", err, s)
	}
	return status
}

// console writes the server folder's files as the web console saves them.
type console struct {
	t                                *testing.T
	fwOn, stamp, driverDefer, kernOn string
	ofcscanPath, ofcserverPath       string
}

func newConsole(t *testing.T, dir string) *console {
	c := &console{t: t, fwOn: "1", stamp: "1700000000", driverDefer: "0", kernOn: "1",
		ofcscanPath: filepath.Join(dir, "Ofcscan.ini"), ofcserverPath: filepath.Join(dir, "Private", "ofcserver.ini")}
	if err := os.MkdirAll(filepath.Dir(c.ofcserverPath), 0o755); err != nil {
		t.Fatal(err)
	}
	c.save()
	return c
}

// save writes both files: Ofcscan.ini as UTF-16LE with a byte-order mark,
// ofcserver.ini as ANSI (Windows-1252, with a value no ASCII file holds).
func (c *console) save() {
	c.t.Helper()
	ofcscan := "; written by the OfficeScan console\r\n[INI_SERVER_SECTION]\r\nMaster_DomainPort=8080\r\n" +
		"[Global Setting]\r\nExample_FW_Enabled=" + c.fwOn + "\r\nExample_Kernel_Notify=" + c.kernOn + "\r\nExample_Last_Saved=" + c.stamp + "\r\n"
	data, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(ofcscan))
	if err != nil {
		c.t.Fatal(err)
	}
	ofcserver, err := charmap.Windows1252.NewEncoder().Bytes([]byte("[Example_Server]\r\nSite=Zürich\r\nExample_Driver_Defer=" + c.driverDefer + "\r\n"))
	if err != nil {
		c.t.Fatal(err)
	}
	for path, data := range map[string][]byte{c.ofcscanPath: data, c.ofcserverPath: ofcserver} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

const enter = "Press Enter once it is saved"

const startConfig = `# officescan_exporter on SRV01 (kept by the admin)
server_dir: %q

# Waived: this server's database is SQL Server.
waivers:
  dbserver: "SQL Server, not DbServer.exe"   # ticket 42
`

func TestSettingsLearnInATerminal(t *testing.T) {
	e2eutil.Require(t)
	bin := e2eutil.Build(t, "cmd/officescan_exporter")
	dir := t.TempDir()
	serverDir := filepath.Join(dir, "PCCSRV")
	con := newConsole(t, serverDir)
	cfgPath := filepath.Join(dir, "config.yml")
	start := fmt.Sprintf(startConfig, serverDir)
	if err := os.WriteFile(cfgPath, []byte(start), 0o640); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, dir, bin, "settings", "learn", "--config.file="+cfgPath)

	// 1. firewall: the console saves a time stamp too, so two keys change;
	// the admin picks the option's.
	term.expect(enter, 1)
	con.fwOn, con.stamp = "0", "1700000100"
	con.save()
	term.typeLine("")
	term.expect(`  1) Ofcscan.ini [Global Setting] Example_FW_Enabled: "1" -> "0"`, 1)
	term.expect(`  2) Ofcscan.ini [Global Setting] Example_Last_Saved: "1700000000" -> "1700000100"`, 1)
	term.typeLine("1")
	term.expect("Type on or off", 1)
	term.typeLine("off")
	term.expect(enter, 2)
	con.fwOn, con.stamp = "1", "1700000200"
	con.save()
	term.typeLine("")
	term.expect(`Confirmed: Ofcscan.ini [Global Setting] Example_FW_Enabled is back to "1".`, 1)
	term.expect("Added settings.firewall in "+cfgPath, 1)

	// 2. firewall_driver_update_after_reboot: Enter before the console
	// saved: nothing changed; start again; the key is in the ANSI file; the
	// first look after "changed back" finds it not back yet.
	term.expect(enter, 3)
	term.typeLine("")
	term.expect("No key changed value in the 2 ini files under "+serverDir, 1)
	term.typeLine("r")
	term.expect(enter, 4)
	con.driverDefer = "1"
	con.save()
	term.typeLine("")
	ofcserver := filepath.Join("Private", "ofcserver.ini")
	term.expect(`One key changed value: `+ofcserver+` [Example_Server] Example_Driver_Defer: "0" -> "1"`, 1)
	term.typeLine("on")
	term.expect(enter, 5)
	term.typeLine("")
	term.expect(`did not return to "0": it is "1" now. Nothing was written.`, 1)
	con.driverDefer = "0"
	con.save()
	term.typeLine("")
	term.expect("Added settings.firewall_driver_update_after_reboot in "+cfgPath, 1)

	// 3. kernel_driver_restart_notification: skipped.
	term.expect(enter, 6)
	term.typeLine("s")
	if code := term.exitStatus(); code != 1 {
		t.Fatalf("exit status %d, want 1 (one setting skipped); the terminal shows:\n%s", code, term.screen())
	}
	screen := term.screen()
	// Each setting's option and where it is in the console, in the
	// table's words (which quote the vendor's note for 10.6, 11.0 and XG).
	for i, s := range hazard.Settings {
		for _, w := range []string{fmt.Sprintf("== Setting %d of 3: %s", i+1, s.Name), "Option: " + s.Option, "Where:  " + s.ConsolePath} {
			if !strings.Contains(screen, w) {
				t.Errorf("the terminal does not show %q:\n%s", w, screen)
			}
		}
	}
	for _, w := range []string{"Server folder: " + serverDir + " (server_dir in the config file)", "Learned: firewall, firewall_driver_update_after_reboot",
		"Not learned: kernel_driver_restart_notification. Each stays unknown"} {
		if !strings.Contains(screen, w) {
			t.Errorf("the terminal does not show %q:\n%s", w, screen)
		}
	}

	// The config file: what the admin wrote, then one settings: key with
	// both mappings; the previous versions kept; it loads.
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, start) || strings.Count(text, "settings:") != 1 {
		t.Errorf("the config file lost what it held, or has settings: more than once:\n%s", text)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fw, drv := cfg.Settings[hazard.SettingFirewall], cfg.Settings[hazard.SettingFirewallDriverDefer]
	if fw.File != "Ofcscan.ini" || fw.Section != "Global Setting" || fw.Key != "Example_FW_Enabled" || fw.EnabledValues[0] != "1" || fw.DisabledValues[0] != "0" ||
		drv.File != ofcserver || drv.Key != "Example_Driver_Defer" || drv.EnabledValues[0] != "1" || drv.DisabledValues[0] != "0" || len(cfg.Settings) != 2 {
		t.Errorf("mappings %+v from:\n%s", cfg.Settings, text)
	}
	if len(cfg.Waivers) != 1 {
		t.Errorf("waivers %+v", cfg.Waivers)
	}
	backups, _ := filepath.Glob(cfgPath + ".*.bak")
	if len(backups) != 2 {
		t.Errorf("backups %v, want one per write", backups)
	}
	if st, err := os.Stat(cfgPath); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("config file mode: %v, %v", st, err)
	}

	// The exporter reads each setting through the learned mapping, and
	// follows the files.
	exp := e2eutil.StartExporter(t, "--config.file="+cfgPath)
	state := func(fwWant, drvWant float64) error {
		mfs := e2eutil.Metrics(t, exp.URL+"/metrics")
		got := map[string]float64{}
		for _, name := range []string{hazard.SettingFirewall, hazard.SettingFirewallDriverDefer} {
			v, ok := e2eutil.Value(mfs, hazard.MetricSettingEnabled, "setting="+name)
			if !ok {
				return e2eutil.Errorf("%s has no sample", name)
			}
			got[name] = v
		}
		if got[hazard.SettingFirewall] != fwWant || got[hazard.SettingFirewallDriverDefer] != drvWant {
			return e2eutil.Errorf("settings %v, want firewall %v and driver deferred %v", got, fwWant, drvWant)
		}
		return nil
	}
	e2eutil.Eventually(t, 10*time.Second, func() error { return state(1, 0) })
	con.fwOn, con.driverDefer = "0", "1"
	con.save()
	e2eutil.Eventually(t, 10*time.Second, func() error { return state(0, 1) })
}
