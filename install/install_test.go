package install

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func lacks(t *testing.T, out string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}

// A first install creates everything, a second with the same inputs calls
// nothing that changes the machine, rewrites no file, and says so.
func TestInstallTwiceChangesNothing(t *testing.T) {
	m := newMachine(t)
	o := Options{Args: []string{"--web.listen-address=:9745", "--log.level=debug"}, ListenAddress: ":9745"}
	out := m.install(t, o)

	cfg := filepath.Join(m.sys.DataDir, "config.yml")
	wantCmd := `"` + testExe + `" --config.file=` + cfg + ` --web.listen-address=:9745 --log.level=debug`
	if strings.Contains(cfg, " ") {
		wantCmd = `"` + testExe + `" "--config.file=` + cfg + `" --web.listen-address=:9745 --log.level=debug`
	}
	svc := m.services.services[ServiceName]
	if svc == nil {
		t.Fatal("no service created")
	}
	if want := Desired(wantCmd); !reflect.DeepEqual(svc.Config, want) {
		t.Errorf("service config\n%+v\nwant\n%+v", svc.Config, want)
	}
	if svc.Status.State != StateRunning {
		t.Errorf("service %s after install, want running", svc.Status.State)
	}
	if got, want := m.changes(), []string{"add " + EventSource, "create", "start"}; !reflect.DeepEqual(got, want) {
		t.Errorf("first install did %q, want %q", got, want)
	}
	if _, err := config.Load(cfg); err != nil {
		t.Errorf("the skeleton written does not load: %v", err)
	}
	contains(t, out, "config file:  "+cfg+": written", "created, delayed automatic start",
		"runs as LocalSystem", "The readiness page: http://localhost:9745/", "settings diff before.ini after.ini --setting firewall", "Not mapped yet: firewall, firewall_driver_update_after_reboot, kernel_driver_restart_notification.",
		"no rule added (--firewall adds one for TCP 9745)")
	lacks(t, out, "Nothing changed")

	stateBefore, _ := os.ReadFile(statePath(m.sys.DataDir))
	cfgBefore, _ := os.ReadFile(cfg)
	cfgInfo, _ := os.Stat(cfg)
	time.Sleep(10 * time.Millisecond)

	out = m.install(t, o)
	if got := m.changes(); len(got) != 0 {
		t.Errorf("second install changed %q, want nothing", got)
	}
	stateAfter, _ := os.ReadFile(statePath(m.sys.DataDir))
	cfgAfter, _ := os.ReadFile(cfg)
	info, _ := os.Stat(cfg)
	if string(stateAfter) != string(stateBefore) || string(cfgAfter) != string(cfgBefore) || !info.ModTime().Equal(cfgInfo.ModTime()) {
		t.Error("second install rewrote the config or the state file")
	}
	contains(t, out, "exists with these settings, left as it is", "exists, left as it is", "registered already",
		"was running already", "Nothing changed")
}

// An existing service that differs is updated field by field, and the
// output names each change with its old and new value; a running service
// whose command line changed is restarted; an account set by hand is kept.
func TestInstallUpdatesWhatDiffersAndSaysWhat(t *testing.T) {
	m := newMachine(t)
	o := Options{ListenAddress: ":9745"}
	m.install(t, o)
	m.changes()
	svc := m.services.services[ServiceName]
	oldCmd := svc.Config.CommandLine
	svc.Config.Start = StartDemand
	svc.Config.Description = "old words"
	svc.Config.Account = `EXAMPLE\svc-ofcexp`

	o.Args = []string{"--web.listen-address=:9746"}
	o.ListenAddress = ":9746"
	out := m.install(t, o)
	got := m.changes()
	want := []string{"start", "stop", "update command line,description,start type"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("install did %q, want %q", got, want)
	}
	if svc.Config.Account != `EXAMPLE\svc-ofcexp` {
		t.Errorf("account changed to %q: an account set by hand must be kept", svc.Config.Account)
	}
	contains(t, out,
		"updated; what changed:",
		"command line: was "+oldCmd,
		"now "+oldCmd+" --web.listen-address=:9746",
		"start type: was demand", "now auto",
		"description: was old words",
		`account: EXAMPLE\svc-ofcexp, set by hand: left as it is`,
		`runs as EXAMPLE\svc-ofcexp`,
		"restarted with its new command line",
		"http://localhost:9746/")
	lacks(t, out, "Nothing changed")
}

// Where the service manager cannot report a setting (Wine: the delayed
// start, the recovery flag), it is not compared, so a second install still
// changes nothing, and the output says it could not compare.
func TestInstallUnreadableFieldsAreNotCompared(t *testing.T) {
	m := newMachine(t)
	m.services.unreadable = map[Field]bool{FieldDelayedStart: true, FieldRecoveryOnExitCode: true}
	out := m.install(t, Options{ListenAddress: ":9745"})
	contains(t, out, "warning: delayed start not set", "warning: recovery on exit code not set")
	m.changes()
	out = m.install(t, Options{ListenAddress: ":9745"})
	if got := m.changes(); len(got) != 0 {
		t.Errorf("second install changed %q", got)
	}
	contains(t, out, "delayed start: this service manager cannot report it (Invalid level.): not compared", "Nothing changed")
}

// A stopped service is started; a service that stops right after the start
// (bad config, port taken) fails install with its exit code and where to
// read why.
func TestInstallStartsAndReportsAStartThatFails(t *testing.T) {
	m := newMachine(t)
	m.install(t, Options{ListenAddress: ":9745"})
	m.services.Stop(ServiceName)
	m.changes()
	out := m.install(t, Options{ListenAddress: ":9745"})
	if got := m.changes(); !reflect.DeepEqual(got, []string{"start"}) {
		t.Errorf("install of a stopped service did %q, want a start", got)
	}
	contains(t, out, "officescan_exporter is running")
	lacks(t, out, "Nothing changed")

	m.services.Stop(ServiceName)
	m.services.startFails = &Status{State: StateStopped, Win32ExitCode: 1066, ServiceExitCode: 2}
	var b strings.Builder
	err := Install(context.Background(), m.sys, Options{ListenAddress: ":9745"}, &b)
	if err == nil {
		t.Fatal("install succeeded though the service stopped")
	}
	for _, want := range []string{"exit code 2: the command line or the config file is wrong", "Get-WinEvent", "ProviderName = 'officescan_exporter'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// An existing config file is never overwritten, even one install did not
// write; the service is pointed at the file given.
func TestInstallKeepsAnExistingConfigFile(t *testing.T) {
	m := newMachine(t)
	cfg := filepath.Join(testdir.New(t), "my config.yml")
	mine := "# mine\ncollector.share: false\n"
	if err := os.WriteFile(cfg, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	out := m.install(t, Options{ConfigFile: cfg, ListenAddress: ":9745"})
	if data, _ := os.ReadFile(cfg); string(data) != mine {
		t.Errorf("config file changed to\n%s", data)
	}
	if _, err := os.Stat(filepath.Join(m.sys.DataDir, "config.yml")); err == nil {
		t.Error("a skeleton was written at the default path though another file was given")
	}
	contains(t, out, cfg+": exists, left as it is", `"--config.file=`+cfg+`"`)
	if got := m.services.services[ServiceName].Config.CommandLine; !strings.Contains(got, `"--config.file=`+cfg+`"`) {
		t.Errorf("command line %q does not name the config file", got)
	}
	// The service starts in another folder: a relative path would not be found.
	if err := Install(context.Background(), m.sys, Options{ConfigFile: "relative.yml", ListenAddress: ":9745"}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "must be absolute") {
		t.Errorf("relative config path: %v, want an error", err)
	}
}

// The skeleton's server_dir comes from the registry when it names a folder,
// and stays a commented placeholder with the reason when it does not.
func TestInstallSkeletonServerDirFromRegistry(t *testing.T) {
	m := newMachine(t)
	m.sys.ServerDir = func() (string, error) { return `D:\Apex One\PCCSRV`, nil }
	out := m.install(t, Options{ListenAddress: "127.0.0.1:9745"})
	f, err := config.Load(filepath.Join(m.sys.DataDir, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if f.ServerDir != `D:\Apex One\PCCSRV` {
		t.Errorf("server_dir %q, want the registry's", f.ServerDir)
	}
	contains(t, out, "server_dir from the registry", "http://127.0.0.1:9745/", "answering:    on 127.0.0.1:9745")

	m2 := newMachine(t)
	m2.sys.ServerDir = func() (string, error) {
		return "", os.ErrNotExist
	}
	out = m2.install(t, Options{ListenAddress: ":9745"})
	f, err = config.Load(filepath.Join(m2.sys.DataDir, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if f.ServerDir != "" {
		t.Errorf("server_dir %q, want none", f.ServerDir)
	}
	contains(t, out, "the registry names no server folder, server_dir left commented")
}

func rules(t *testing.T, m *machine) []Rule {
	t.Helper()
	r, err := m.firewall.Rules()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// --firewall adds the rule once, records it, keeps it on a second run,
// replaces it when the port changes, and uninstall removes it.
func TestFirewallRuleLifecycle(t *testing.T) {
	m := newMachine(t)
	o := Options{ListenAddress: ":9745", Firewall: true}
	out := m.install(t, o)
	if got, want := rules(t, m), []Rule{{Name: RuleName, Port: 9745}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules %+v, want %+v", got, want)
	}
	contains(t, out, `rule "officescan_exporter" (inbound TCP 9745 from any address) added`)
	m.changes()

	out = m.install(t, o)
	if got := m.changes(); len(got) != 0 {
		t.Errorf("second install with --firewall changed %q", got)
	}
	contains(t, out, "exists, left as it is", "Nothing changed")

	// Without --firewall the recorded rule is kept and said to be kept.
	out = m.install(t, Options{ListenAddress: ":9745"})
	if got := m.changes(); len(got) != 0 {
		t.Errorf("install without --firewall changed %q", got)
	}
	contains(t, out, "added by an earlier install, kept (uninstall removes it)")

	o = Options{Args: []string{"--web.listen-address=:9800"}, ListenAddress: ":9800", Firewall: true, FirewallRemoteIP: "192.0.2.10,192.0.2.0/24"}
	out = m.install(t, o)
	if got, want := m.firewall.calls, []string{"delete officescan_exporter", "add officescan_exporter 9800 192.0.2.10,192.0.2.0/24"}; !reflect.DeepEqual(got, want) {
		t.Errorf("port change did %q, want %q", got, want)
	}
	contains(t, out, "rule replaced: was \"officescan_exporter\" (inbound TCP 9745 from any address)",
		"now \"officescan_exporter\" (inbound TCP 9800 from 192.0.2.10,192.0.2.0/24)")
	m.changes()

	out = m.uninstall(t)
	if got := rules(t, m); len(got) != 0 {
		t.Errorf("rules after uninstall: %+v", got)
	}
	contains(t, out, `rule "officescan_exporter" (inbound TCP 9800 from 192.0.2.10,192.0.2.0/24) removed`)
}

// A rule of the same name that install did not add is the administrator's:
// install leaves it and does not record it, and uninstall leaves it too.
func TestFirewallRuleNotAddedByInstallIsLeftAlone(t *testing.T) {
	m := newMachine(t)
	if err := m.firewall.FileFirewall.AddRule(Rule{Name: RuleName, Port: 1234}); err != nil {
		t.Fatal(err)
	}
	out := m.install(t, Options{ListenAddress: ":9745", Firewall: true})
	contains(t, out, `a rule named "officescan_exporter" exists, not added by install: left as it is (check that it allows inbound TCP 9745)`)
	out = m.uninstall(t)
	contains(t, out, "not added by install: left as it is")
	if got, want := rules(t, m), []Rule{{Name: RuleName, Port: 1234}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules %+v, want the administrator's rule untouched", got)
	}
	if len(m.firewall.calls) != 0 {
		t.Errorf("firewall calls %q, want none", m.firewall.calls)
	}
}

// uninstall stops and removes the service and the event source, removes the
// state file, keeps the config file and says where; a second uninstall
// finds nothing and succeeds.
func TestUninstallRemovesWhatInstallAddedAndKeepsTheConfig(t *testing.T) {
	m := newMachine(t)
	m.install(t, Options{ListenAddress: ":9745"})
	cfg := filepath.Join(m.sys.DataDir, "config.yml")
	if err := os.WriteFile(cfg, []byte("# edited\nweb.listen-address: ':9745'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.changes()
	out := m.uninstall(t)
	if got, want := m.changes(), []string{"delete", "remove " + EventSource, "stop"}; !reflect.DeepEqual(got, want) {
		t.Errorf("uninstall did %q, want %q", got, want)
	}
	if data, err := os.ReadFile(cfg); err != nil || !strings.HasPrefix(string(data), "# edited") {
		t.Errorf("config file after uninstall: %q, %v; want it kept as edited", data, err)
	}
	if _, err := os.Stat(statePath(m.sys.DataDir)); err == nil {
		t.Error("state file left behind")
	}
	contains(t, out, "officescan_exporter: stopped", "officescan_exporter: removed", cfg+": kept (install wrote it",
		"install added no rule", testExe+": not deleted")

	out = m.uninstall(t)
	if got := m.changes(); len(got) != 0 {
		t.Errorf("second uninstall did %q", got)
	}
	contains(t, out, "not installed", "not registered", cfg+": kept")
}

func TestInstallRejectsBadInputs(t *testing.T) {
	m := newMachine(t)
	for _, o := range []Options{
		{ListenAddress: "localhost"},
		{ListenAddress: ":http"},
		{ListenAddress: ":70000"},
		{ListenAddress: ":9745", Firewall: true, FirewallRemoteIP: "192.0.2.1 dir=out"},
	} {
		if err := Install(context.Background(), m.sys, o, &strings.Builder{}); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if got := m.changes(); len(got) != 0 {
		t.Errorf("rejected inputs changed %q", got)
	}
}

func TestCompare(t *testing.T) {
	want := Desired(`C:\x.exe --config.file=C:\c.yml`)
	have := Observed{Config: want}
	if c := Compare(have, want); len(c.Changes)+len(c.Kept)+len(c.Unreadable) != 0 {
		t.Errorf("same config compares as %+v", c)
	}
	for _, acct := range []string{"localsystem", `NT AUTHORITY\SYSTEM`, `.\LocalSystem`, ""} {
		have.Config.Account = acct
		if c := Compare(have, want); len(c.Kept) != 0 {
			t.Errorf("account %q differs from LocalSystem: %+v", acct, c)
		}
	}
	have.Config.Recovery = []Action{{ActionRestart, time.Minute}}
	have.Config.RecoveryOnExitCode = false
	c := Compare(have, want)
	wantChanges := []Change{
		{FieldRecovery, "restart/60000, reset after 86400 s", "restart/60000/restart/60000/restart/60000, reset after 86400 s"},
		{FieldRecoveryOnExitCode, "no", "yes"},
	}
	if !reflect.DeepEqual(c.Changes, wantChanges) {
		t.Errorf("changes %+v, want %+v", c.Changes, wantChanges)
	}
}

func TestExeNote(t *testing.T) {
	for exe, want := range map[string]bool{
		`C:\Program Files\officescan_exporter\officescan_exporter.exe`:       false,
		`C:\Users\admin\Downloads\officescan_exporter-1.0.windows-amd64.exe`: true,
		`C:\Users\admin\AppData\Local\Temp\x\officescan_exporter.exe`:        true,
	} {
		if got := exeNote(exe) != ""; got != want {
			t.Errorf("exeNote(%q) = %v, want %v", exe, got, want)
		}
	}
}
