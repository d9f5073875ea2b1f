package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// installExeEnv names the Windows path of an officescan_exporter.exe to
// install for real. scripts/test.d/36-windows-install.sh builds it and runs
// this test under Wine in a private prefix of its own: the test registers
// the service officescan_exporter and writes C:\ProgramData, which must not
// touch a prefix other tests share.
const installExeEnv = "OSE_INSTALL_EXE"

// wineInstall runs the exporter's install or uninstall as an administrator
// would, with the test firewall.
type wineInstall struct {
	t        *testing.T
	exe      string
	firewall string
}

func (w wineInstall) run(args ...string) (string, int) {
	w.t.Helper()
	cmd := exec.Command(w.exe, args...)
	cmd.Env = append(os.Environ(), TestFirewallEnv+"="+w.firewall)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	w.t.Fatalf("running %s %q: %v\n%s", w.exe, args, err, out)
	return "", -1
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// serviceConfig reads what the service manager holds, with the calls that
// work under Wine (QueryServiceConfig and the description; mgr's Config
// also asks for the delayed start, which Wine does not know).
func serviceConfig(t *testing.T, m *mgr.Mgr) (windows.QUERY_SERVICE_CONFIG, string, string, svc.Status) {
	t.Helper()
	s, err := m.OpenService(ServiceName)
	if err != nil {
		t.Fatalf("opening the service: %v", err)
	}
	defer s.Close()
	b := make([]byte, 8192)
	var n uint32
	qc := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
	if err := windows.QueryServiceConfig(s.Handle, qc, uint32(len(b)), &n); err != nil {
		t.Fatal(err)
	}
	d, err := queryConfig2(s.Handle, windows.SERVICE_CONFIG_DESCRIPTION)
	if err != nil {
		t.Fatal(err)
	}
	desc := windows.UTF16PtrToString((*windows.SERVICE_DESCRIPTION)(unsafe.Pointer(&d[0])).Description)
	st, err := s.Query()
	if err != nil {
		t.Fatal(err)
	}
	return *qc, windows.UTF16PtrToString(qc.BinaryPathName), desc, st
}

func get(t *testing.T, url string) (string, error) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	p, err := portOf(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func eventSourceRegistered(t *testing.T) bool {
	t.Helper()
	has, err := winEvents{}.Has(EventSource)
	if err != nil {
		t.Fatal(err)
	}
	return has
}

// The Windows build's install and uninstall against Wine's service manager
// and registry, with the test firewall: install registers and starts a
// service that answers, writes the skeleton, a second install changes
// nothing, a third with another port updates and restarts, uninstall
// removes the service, the event source and the rule and keeps the config.
func TestInstallUnderWine(t *testing.T) {
	exe := os.Getenv(installExeEnv)
	if exe == "" {
		t.Skipf("%s unset: scripts/test.d/36-windows-install.sh builds the exporter and runs this test under Wine in a private prefix", installExeEnv)
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(ServiceName); err == nil {
		s.Close()
		t.Fatalf("a service %s exists before the test: this test needs a prefix of its own", ServiceName)
	}
	t.Cleanup(func() {
		// Whatever a failed run left behind, in this private prefix.
		if s, err := m.OpenService(ServiceName); err == nil {
			s.Control(svc.Stop)
			time.Sleep(time.Second)
			s.Delete()
			s.Close()
		}
		eventlog.Remove(EventSource)
	})

	// The server folder the skeleton takes from the registry.
	const serverDir = `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, `SOFTWARE\WOW6432Node\TrendMicro\OfficeScan\service\Information`, registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetStringValue("Local_Path", serverDir); err != nil {
		t.Fatal(err)
	}
	k.Close()

	programData, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(programData, "officescan_exporter", "config.yml")
	stateFile := filepath.Join(programData, "officescan_exporter", StateFileName)
	if _, err := os.Stat(cfgPath); err == nil {
		t.Fatalf("%s exists before the test: this test needs a prefix of its own", cfgPath)
	}
	w := wineInstall{t: t, exe: exe, firewall: filepath.Join(testdir.New(t), "firewall.json")}
	fw := FileFirewall{Path: w.firewall}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)

	// 1. A first install does everything.
	out, code := w.run("install", "--web.listen-address="+addr, "--firewall")
	if code != 0 {
		t.Fatalf("install exited %d:\n%s", code, out)
	}
	t.Logf("first install:\n%s", out)
	mustContain(t, "first install", out,
		cfgPath+": written, a commented skeleton; server_dir from the registry",
		EventSource+": registered in the Application log",
		ServiceName+": created, delayed automatic start",
		"runs as LocalSystem",
		"a test stand-in ("+TestFirewallEnv,
		`rule "officescan_exporter" (inbound TCP `+port+` from any address) added`,
		ServiceName+" is running",
		"answering:    on "+addr,
		"The readiness page: http://"+addr+"/",
		"Next: map the console settings")

	qc, cmdline, desc, st := serviceConfig(t, m)
	wantCmd := CommandLine(exe, "--config.file="+cfgPath, "--web.listen-address="+addr)
	if cmdline != wantCmd {
		t.Errorf("binary path\n%s\nwant\n%s", cmdline, wantCmd)
	}
	if !strings.HasPrefix(cmdline, `"`+exe+`" `) {
		t.Errorf("binary path %q: the program's path (with a space) is not quoted first", cmdline)
	}
	if qc.StartType != windows.SERVICE_AUTO_START {
		t.Errorf("start type %d, want automatic (%d)", qc.StartType, windows.SERVICE_AUTO_START)
	}
	if got := windows.UTF16PtrToString(qc.ServiceStartName); !accountsEqual(got, LocalSystem) {
		t.Errorf("account %q, want LocalSystem", got)
	}
	if got := windows.UTF16PtrToString(qc.DisplayName); got != DisplayName || desc != Description {
		t.Errorf("display name %q, description %q", got, desc)
	}
	// Wine's manager knows neither the delayed start nor the recovery flag:
	// install must have asked for them and said it could not set them.
	if !strings.Contains(out, "warning: delayed start not set: this service manager does not support it") {
		if s, err := m.OpenService(ServiceName); err == nil {
			c, err := s.Config()
			s.Close()
			if err != nil || !c.DelayedAutoStart {
				t.Errorf("no warning about the delayed start, and it reads %v, %v", c.DelayedAutoStart, err)
			}
		}
	}
	if st.State != svc.Running {
		t.Fatalf("service state %d after install, want running", st.State)
	}
	firstPID := st.ProcessId
	body, err := get(t, "http://"+addr+"/metrics")
	if err != nil || !strings.Contains(body, "officescan_exporter_build_info{") {
		t.Errorf("the installed service does not serve metrics: %v", err)
	}
	if !eventSourceRegistered(t) {
		t.Error("event source not registered")
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("the skeleton does not load: %v", err)
	}
	if cfg.ServerDir != serverDir || len(cfg.Settings) != 0 {
		t.Errorf("skeleton: server_dir %q, settings %v; want the registry's folder and no settings", cfg.ServerDir, cfg.Settings)
	}
	if rules, err := fw.Rules(); err != nil || !reflect.DeepEqual(rules, []Rule{{Name: RuleName, Port: mustPort(t, addr)}}) {
		t.Errorf("firewall rules %+v, %v", rules, err)
	}

	// 2. The same install again changes nothing.
	cfgBefore, _ := os.ReadFile(cfgPath)
	cfgInfo, _ := os.Stat(cfgPath)
	stateBefore, _ := os.ReadFile(stateFile)
	fwBefore, _ := os.ReadFile(w.firewall)
	out, code = w.run("install", "--web.listen-address="+addr, "--firewall")
	if code != 0 {
		t.Fatalf("second install exited %d:\n%s", code, out)
	}
	t.Logf("second install:\n%s", out)
	mustContain(t, "second install", out, "exists with these settings, left as it is", "was running already", "Nothing changed")
	_, cmdline2, _, st2 := serviceConfig(t, m)
	cfgAfter, _ := os.ReadFile(cfgPath)
	info, _ := os.Stat(cfgPath)
	stateAfter, _ := os.ReadFile(stateFile)
	fwAfter, _ := os.ReadFile(w.firewall)
	if cmdline2 != cmdline || st2.ProcessId != firstPID || st2.State != svc.Running {
		t.Errorf("second install changed the service: %q pid %d state %d", cmdline2, st2.ProcessId, st2.State)
	}
	if !bytes.Equal(cfgAfter, cfgBefore) || !info.ModTime().Equal(cfgInfo.ModTime()) || !bytes.Equal(stateAfter, stateBefore) || !bytes.Equal(fwAfter, fwBefore) {
		t.Error("second install rewrote the config, state or firewall file")
	}

	// 3. Another port: the command line and the rule are updated, the
	// service restarted on the new port, the config file left alone.
	addr2 := freeAddr(t)
	out, code = w.run("install", "--web.listen-address="+addr2, "--firewall")
	if code != 0 {
		t.Fatalf("install with a new port exited %d:\n%s", code, out)
	}
	t.Logf("install with a new port:\n%s", out)
	mustContain(t, "install with a new port", out, "updated; what changed:", "command line: was "+wantCmd,
		"restarted with its new command line", "rule replaced", "answering:    on "+addr2)
	_, cmdline3, _, st3 := serviceConfig(t, m)
	if want := CommandLine(exe, "--config.file="+cfgPath, "--web.listen-address="+addr2); cmdline3 != want {
		t.Errorf("binary path after the update %q, want %q", cmdline3, want)
	}
	if st3.ProcessId == firstPID {
		t.Error("the service was not restarted with its new command line")
	}
	if _, err := get(t, "http://"+addr2+"/metrics"); err != nil {
		t.Errorf("not serving on the new port: %v", err)
	}
	if cfgNow, _ := os.ReadFile(cfgPath); !bytes.Equal(cfgNow, cfgBefore) {
		t.Error("install with a new port rewrote the config file")
	}

	// The administrator edits the config file.
	edited := append(cfgBefore, []byte("# edited by the administrator\r\n")...)
	if err := os.WriteFile(cfgPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}

	// 4. uninstall removes what install added and keeps the config file.
	out, code = w.run("uninstall")
	if code != 0 {
		t.Fatalf("uninstall exited %d:\n%s", code, out)
	}
	t.Logf("uninstall:\n%s", out)
	mustContain(t, "uninstall", out, ServiceName+": stopped", ServiceName+": removed", EventSource+": removed",
		"(inbound TCP", "removed", cfgPath+": kept")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s, err := m.OpenService(ServiceName)
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			break
		}
		if err == nil {
			s.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("service still there after uninstall: %v", err)
		}
	}
	if eventSourceRegistered(t) {
		t.Error("event source still registered after uninstall")
	}
	if rules, err := fw.Rules(); err != nil || len(rules) != 0 {
		t.Errorf("firewall rules after uninstall %+v, %v", rules, err)
	}
	if data, err := os.ReadFile(cfgPath); err != nil || !bytes.Equal(data, edited) {
		t.Errorf("config file after uninstall: %v; want it kept as edited", err)
	}
	if _, err := os.Stat(stateFile); err == nil {
		t.Error("state file left after uninstall")
	}
	if _, err := get(t, "http://"+addr2+"/metrics"); err == nil {
		t.Error("still serving after uninstall")
	}

	// 5. uninstall again finds nothing and succeeds.
	out, code = w.run("uninstall")
	if code != 0 {
		t.Fatalf("second uninstall exited %d:\n%s", code, out)
	}
	mustContain(t, "second uninstall", out, ServiceName+": not installed", EventSource+": not registered", "install added no rule")
}
