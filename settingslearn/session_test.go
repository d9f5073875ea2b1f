package settingslearn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// server is a server folder whose ini files the test changes as the
// console would.
type server struct {
	t   *testing.T
	dir string
	// keys are Ofcscan.ini's [Global Setting] values, written UTF-16LE
	// with a byte-order mark, in this order.
	names []string
	keys  map[string]string
}

func newServer(t *testing.T) *server {
	s := &server{t: t, dir: testdir.New(t), names: []string{"FW_On", "FW_Driver_Defer", "Kernel_Notify", "Save_Stamp"},
		keys: map[string]string{"FW_On": "1", "FW_Driver_Defer": "0", "Kernel_Notify": "1", "Save_Stamp": "100"}}
	s.save()
	// Another file, ANSI, that never changes.
	s.writeFile("ous.ini", []byte("[Update]\r\nServer=caf\xe9\r\n"))
	return s
}

func (s *server) writeFile(name string, data []byte) {
	s.t.Helper()
	path := filepath.Join(s.dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	// Saved a while ago: the ini reader does not wait for it to settle.
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(path, old, old); err != nil {
		s.t.Fatal(err)
	}
}

// set changes keys (name=value) and saves, as the console does.
func (s *server) set(kv ...string) {
	s.t.Helper()
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		s.keys[k] = v
	}
	s.save()
}

func (s *server) save() {
	s.t.Helper()
	var b strings.Builder
	b.WriteString("[Global Setting]\r\n")
	for _, k := range s.names {
		fmt.Fprintf(&b, "%s=%s\r\n", k, s.keys[k])
	}
	data, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(b.String()))
	if err != nil {
		s.t.Fatal(err)
	}
	s.writeFile("Ofcscan.ini", data)
}

// console is the admin's terminal: it collects what the session prints and
// types answers once the prompt it waits for is there.
type console struct {
	t    *testing.T
	mu   sync.Mutex
	out  bytes.Buffer
	in   *io.PipeWriter
	done chan struct{}
	res  Result
	err  error
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// start runs a session over srv, writing into the config file at cfgPath.
func start(t *testing.T, ctx context.Context, srv *server, cfgPath string, settings ...hazard.Setting) *console {
	r, w := io.Pipe()
	c := &console{t: t, in: w, done: make(chan struct{})}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Dir: srv.dir, DirSource: "test", ConfigPath: cfgPath, Settings: settings, Mapped: cfg.Settings, In: r, Out: c}
	go func() {
		defer close(c.done)
		c.res, c.err = s.Run(ctx)
	}()
	t.Cleanup(func() { w.Close() })
	return c
}

// expect waits until the output holds want n times in all.
func (c *console) expect(want string, n int) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(c.text(), want) < n {
		if time.Now().After(deadline) {
			c.t.Fatalf("waited for %q (%d times); the session printed:\n%s", want, n, c.text())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *console) typeLine(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *console) wait() (Result, error) {
	c.t.Helper()
	select {
	case <-c.done:
		return c.res, c.err
	case <-time.After(10 * time.Second):
		c.t.Fatalf("the session did not end; it printed:\n%s", c.text())
	}
	return Result{}, nil
}

const enter = "Press Enter once it is saved"

func newConfig(t *testing.T, text string) string {
	path := filepath.Join(testdir.New(t), "config.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func setting(t *testing.T, name string) hazard.Setting {
	for _, s := range hazard.Settings {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no setting %s", name)
	return hazard.Setting{}
}

func TestLearnOneKeyToggledAndBack(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "# kept\nlog.level: info\n")
	set := setting(t, hazard.SettingRestartNotification)
	c := start(t, context.Background(), srv, cfgPath, set)
	c.expect(enter, 1)
	// The admin is told the option's words and where it is, as the table
	// quotes the vendor's note.
	for _, w := range []string{set.Option, set.ConsolePath, "Setting 1 of 1: kernel_driver_restart_notification"} {
		if !strings.Contains(c.text(), w) {
			t.Errorf("the session did not print %q:\n%s", w, c.text())
		}
	}
	srv.set("Kernel_Notify=0")
	c.typeLine("")
	c.expect(`One key changed value: Ofcscan.ini [Global Setting] Kernel_Notify: "1" -> "0"`, 1)
	c.expect("Type on or off", 1)
	c.typeLine("off")
	c.expect(enter, 2)
	srv.set("Kernel_Notify=1")
	c.typeLine("")
	res, err := c.wait()
	if err != nil || len(res.Learned) != 1 || len(res.Skipped) != 0 {
		t.Fatalf("Run = %+v, %v\n%s", res, err, c.text())
	}
	for _, w := range []string{`Confirmed: Ofcscan.ini [Global Setting] Kernel_Notify is back to "1".`, "Added settings.kernel_driver_restart_notification in " + cfgPath, "The previous file is kept as "} {
		if !strings.Contains(c.text(), w) {
			t.Errorf("the session did not print %q:\n%s", w, c.text())
		}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Settings[hazard.SettingRestartNotification]
	// On with "1", off with "0": the admin turned it off.
	if got.File != "Ofcscan.ini" || got.Section != "Global Setting" || got.Key != "Kernel_Notify" ||
		strings.Join(got.EnabledValues, ",") != "1" || strings.Join(got.DisabledValues, ",") != "0" {
		t.Errorf("mapping %+v", got)
	}
	if b, _ := os.ReadFile(cfgPath); !strings.HasPrefix(string(b), "# kept\nlog.level: info\n") {
		t.Errorf("the config file lost what it held:\n%s", b)
	}
}

func TestLearnSeveralKeysPickOne(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "log.level: info\n")
	c := start(t, context.Background(), srv, cfgPath, setting(t, hazard.SettingFirewall))
	c.expect(enter, 1)
	srv.set("FW_On=0", "Save_Stamp=101")
	c.typeLine("")
	c.expect("2 keys changed value:", 1)
	c.expect("  1) Ofcscan.ini [Global Setting] FW_On: \"1\" -> \"0\"\n  2) Ofcscan.ini [Global Setting] Save_Stamp: \"100\" -> \"101\"\n", 1)
	c.typeLine("3")
	c.expect(`"3" is none of these.`, 1)
	c.typeLine("1")
	c.expect("Type on or off", 1)
	c.typeLine("on")
	c.expect(enter, 2)
	// The stamp moves again; only the picked key must come back.
	srv.set("FW_On=1", "Save_Stamp=102")
	c.typeLine("")
	if res, err := c.wait(); err != nil || len(res.Learned) != 1 {
		t.Fatalf("Run = %+v, %v\n%s", res, err, c.text())
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Turned on by changing 1 to 0: this key is 0 when on.
	if got := cfg.Settings["firewall"]; got.Key != "FW_On" || got.EnabledValues[0] != "0" || got.DisabledValues[0] != "1" {
		t.Errorf("mapping %+v", got)
	}
}

func TestLearnNothingChangedThenRetry(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "log.level: info\n")
	c := start(t, context.Background(), srv, cfgPath, setting(t, hazard.SettingFirewallDriverDefer))
	c.expect(enter, 1)
	// Saved nothing; a key only added cannot be mapped either.
	srv.names = append(srv.names, "New_Key")
	srv.set("New_Key=1")
	c.typeLine("")
	c.expect("No key changed value in the 2 ini files under "+srv.dir, 1)
	c.expect(`Ofcscan.ini [Global Setting] New_Key = "1" was added`, 1)
	c.typeLine("r")
	c.expect(enter, 2)
	srv.set("FW_Driver_Defer=1")
	c.typeLine("")
	c.expect("Type on or off", 1)
	c.typeLine("on")
	c.expect(enter, 3)
	// Not changed back yet: the key did not return, nothing is written.
	c.typeLine("")
	c.expect(`Ofcscan.ini [Global Setting] FW_Driver_Defer did not return to "0": it is "1" now. Nothing was written.`, 1)
	if b, _ := os.ReadFile(cfgPath); string(b) != "log.level: info\n" {
		t.Fatalf("written before the key was confirmed:\n%s", b)
	}
	srv.set("FW_Driver_Defer=0")
	c.typeLine("")
	if res, err := c.wait(); err != nil || len(res.Learned) != 1 {
		t.Fatalf("Run = %+v, %v\n%s", res, err, c.text())
	}
	if cfg, err := config.Load(cfgPath); err != nil || cfg.Settings[hazard.SettingFirewallDriverDefer].EnabledValues[0] != "1" {
		t.Fatalf("%v %+v", err, cfg)
	}
}

func TestLearnSkipQuitAndTheSummary(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "settings:\n  kernel_driver_restart_notification: {file: Ofcscan.ini, section: S, key: K, enabled_values: [\"1\"], disabled_values: [\"0\"]}\n")
	c := start(t, context.Background(), srv, cfgPath, hazard.Settings...)
	c.expect(enter, 1)
	c.typeLine("s")
	c.expect("Skipped firewall: nothing written for it.", 1)
	c.expect(enter, 2)
	c.typeLine("q")
	res, err := c.wait()
	if err != nil || !res.Quit || len(res.Learned) != 0 || strings.Join(res.Skipped, ",") != "firewall,firewall_driver_update_after_reboot,kernel_driver_restart_notification" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	for _, w := range []string{"Not learned, mapping kept as it was: kernel_driver_restart_notification.", "Not learned: firewall, firewall_driver_update_after_reboot. Each stays unknown"} {
		if !strings.Contains(c.text(), w) {
			t.Errorf("the summary does not say %q:\n%s", w, c.text())
		}
	}
}

func TestLearnEndsOnEndOfInputAndInterrupt(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "log.level: info\n")
	c := start(t, context.Background(), srv, cfgPath, setting(t, hazard.SettingFirewall))
	c.expect(enter, 1)
	c.in.Close()
	if _, err := c.wait(); err == nil || !strings.Contains(err.Error(), "setting firewall: standard input ended") {
		t.Errorf("error %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	c = start(t, ctx, srv, cfgPath, setting(t, hazard.SettingFirewall))
	c.expect(enter, 1)
	cancel()
	if _, err := c.wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want interrupted", err)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != "log.level: info\n" {
		t.Errorf("the config file changed:\n%s", b)
	}
}

// A config file that cannot be written ends the session with the setting
// and the file named; what was written before stays.
func TestLearnConfigWriteErrorNamesSettingAndFile(t *testing.T) {
	srv := newServer(t)
	cfgPath := newConfig(t, "log.level: info\n")
	c := start(t, context.Background(), srv, cfgPath, setting(t, hazard.SettingRestartNotification))
	c.expect(enter, 1)
	srv.set("Kernel_Notify=0")
	c.typeLine("")
	c.typeLine("off")
	c.expect(enter, 2)
	srv.set("Kernel_Notify=1")
	// Someone breaks the file meanwhile.
	if err := os.WriteFile(cfgPath, []byte("log.level: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.typeLine("")
	_, err := c.wait()
	if err == nil || !strings.Contains(err.Error(), "setting kernel_driver_restart_notification") || !strings.Contains(err.Error(), cfgPath) {
		t.Fatalf("error %v, want the setting and %s named", err, cfgPath)
	}
}
