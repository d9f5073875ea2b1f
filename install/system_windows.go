package install

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/officescan-exporter/officescan_exporter/collectors/serverinfo"
)

// ErrNotElevated is returned by Local for a process without administrator
// rights: the service manager, HKLM and the firewall refuse it.
var ErrNotElevated = errors.New("install and uninstall change the service manager, the registry (HKLM) and the firewall: run them from an elevated prompt (right-click PowerShell, Run as administrator)")

// Local returns this machine: its service manager, event log, firewall
// (netsh, or the test stand-in named by TestFirewallEnv), and
// %ProgramData%\officescan_exporter. Close it when done.
func Local() (*System, error) {
	if !windows.GetCurrentProcessToken().IsElevated() {
		return nil, ErrNotElevated
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program's path: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, err
	}
	programData, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		return nil, fmt.Errorf("finding the ProgramData folder: %w", err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return nil, fmt.Errorf("connecting to the service manager: %w", err)
	}
	sys := &System{
		Services: winServices{m},
		Events:   winEvents{},
		DataDir:  filepath.Join(programData, "officescan_exporter"),
		Exe:      exe,
		ServerDir: func() (string, error) {
			info, err := serverinfo.Local().Read()
			return info.Dir, err
		},
		Dial: func(ctx context.Context, addr string) error {
			d := net.Dialer{Timeout: 2 * time.Second}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		},
		CRLF:  true,
		close: func() { m.Disconnect() },
	}
	if path := os.Getenv(TestFirewallEnv); path != "" {
		sys.Firewall = FileFirewall{Path: path}
		sys.FirewallNote = fmt.Sprintf("a test stand-in (%s=%s), not Windows Firewall", TestFirewallEnv, path)
	} else {
		sys.Firewall = netsh{exe: netshPath()}
	}
	return sys, nil
}

func netshPath() string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		dir, err := windows.GetSystemDirectory()
		if err == nil {
			return filepath.Join(dir, "netsh.exe")
		}
		root = `C:\Windows`
	}
	return filepath.Join(root, "System32", "netsh.exe")
}

// netsh is Windows Firewall through netsh advfirewall.
type netsh struct{ exe string }

// run runs netsh with cmdline as its whole command line, exactly as
// NetshAddRule and the others build it.
func (n netsh) run(cmdline string) ([]byte, error) {
	cmd := exec.Command(n.exe)
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: cmdline}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", cmdline, err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func (n netsh) AddRule(r Rule) error {
	if err := validRuleName(r.Name); err != nil {
		return err
	}
	if err := ValidRemoteIP(r.RemoteIP); err != nil {
		return err
	}
	_, err := n.run(NetshAddRule(r))
	return err
}

func (n netsh) DeleteRule(name string) error {
	if err := validRuleName(name); err != nil {
		return err
	}
	_, err := n.run(NetshDeleteRule(name))
	return err
}

// HasRule: netsh show rule exits 0 when a rule matches and 1 when none
// does ("No rules match the specified criteria.", in the system's language).
func (n netsh) HasRule(name string) (bool, error) {
	if err := validRuleName(name); err != nil {
		return false, err
	}
	_, err := n.run(NetshShowRule(name))
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return false, nil
	}
	return false, err
}

// winEvents registers the source as winservice does: with EventCreate.exe
// as its message file, which shows the exporter's event IDs as the entry's
// own text.
type winEvents struct{}

const eventKey = `SYSTEM\CurrentControlSet\Services\EventLog\Application\`

func (winEvents) Has(name string) (bool, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, eventKey+name, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}

func (winEvents) Add(name string) error {
	return eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info)
}

func (winEvents) Remove(name string) error { return eventlog.Remove(name) }

// winServices is the service manager through its API.
type winServices struct{ m *mgr.Mgr }

func (w winServices) open(name string) (*mgr.Service, error) {
	return w.m.OpenService(name)
}

func isNoService(err error) bool { return errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) }

// unsupported is the error of a service manager that does not know a
// setting (Wine's: delayed start, the failure actions' read-back and flag).
func unsupported(err error) bool { return errors.Is(err, windows.ERROR_INVALID_LEVEL) }

func queryConfig2(h windows.Handle, level uint32) ([]byte, error) {
	n := uint32(1024)
	for {
		b := make([]byte, n)
		err := windows.QueryServiceConfig2(h, level, &b[0], n, &n)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return nil, err
		}
	}
}

var startTypes = map[uint32]StartType{
	windows.SERVICE_AUTO_START:   StartAuto,
	windows.SERVICE_DEMAND_START: StartDemand,
	windows.SERVICE_DISABLED:     StartDisabled,
	windows.SERVICE_BOOT_START:   StartBoot,
	windows.SERVICE_SYSTEM_START: StartSystem,
}

func startTypeCode(t StartType) uint32 {
	for code, name := range startTypes {
		if name == t {
			return code
		}
	}
	return windows.SERVICE_DEMAND_START
}

var actionTypes = map[uint32]ActionType{
	windows.SC_ACTION_NONE:        ActionNone,
	windows.SC_ACTION_RESTART:     ActionRestart,
	windows.SC_ACTION_REBOOT:      ActionReboot,
	windows.SC_ACTION_RUN_COMMAND: ActionRunCommand,
}

func (w winServices) Query(name string) (Observed, bool, error) {
	s, err := w.open(name)
	if isNoService(err) {
		return Observed{}, false, nil
	}
	if err != nil {
		return Observed{}, false, err
	}
	defer s.Close()
	o := Observed{Unreadable: map[Field]error{}}

	var qc *windows.QUERY_SERVICE_CONFIG
	for n := uint32(1024); ; {
		b := make([]byte, n)
		qc = (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(s.Handle, qc, n, &n)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return o, true, fmt.Errorf("reading its configuration: %w", err)
		}
	}
	c := &o.Config
	c.CommandLine = windows.UTF16PtrToString(qc.BinaryPathName)
	c.DisplayName = windows.UTF16PtrToString(qc.DisplayName)
	c.Account = windows.UTF16PtrToString(qc.ServiceStartName)
	if t, ok := startTypes[qc.StartType]; ok {
		c.Start = t
	} else {
		c.Start = StartType(fmt.Sprintf("start type %d", qc.StartType))
	}

	// Each optional setting: read it, or note that this manager cannot.
	read := func(f Field, level uint32, use func(b []byte)) error {
		b, err := queryConfig2(s.Handle, level)
		switch {
		case err == nil:
			use(b)
		case unsupported(err):
			o.Unreadable[f] = err
		default:
			return fmt.Errorf("reading its %s: %w", f, err)
		}
		return nil
	}
	if err := read(FieldDescription, windows.SERVICE_CONFIG_DESCRIPTION, func(b []byte) {
		c.Description = windows.UTF16PtrToString((*windows.SERVICE_DESCRIPTION)(unsafe.Pointer(&b[0])).Description)
	}); err != nil {
		return o, true, err
	}
	if err := read(FieldDelayedStart, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, func(b []byte) {
		c.DelayedStart = (*windows.SERVICE_DELAYED_AUTO_START_INFO)(unsafe.Pointer(&b[0])).IsDelayedAutoStartUp != 0
	}); err != nil {
		return o, true, err
	}
	if err := read(FieldRecovery, windows.SERVICE_CONFIG_FAILURE_ACTIONS, func(b []byte) {
		fa := (*windows.SERVICE_FAILURE_ACTIONS)(unsafe.Pointer(&b[0]))
		c.RecoveryReset = time.Duration(fa.ResetPeriod) * time.Second
		if fa.Actions != nil {
			for _, a := range unsafe.Slice(fa.Actions, int(fa.ActionsCount)) {
				t, ok := actionTypes[a.Type]
				if !ok {
					t = ActionType(a.Type)
				}
				c.Recovery = append(c.Recovery, Action{Type: t, Delay: time.Duration(a.Delay) * time.Millisecond})
			}
		}
	}); err != nil {
		return o, true, err
	}
	if err := read(FieldRecoveryOnExitCode, windows.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, func(b []byte) {
		c.RecoveryOnExitCode = (*windows.SERVICE_FAILURE_ACTIONS_FLAG)(unsafe.Pointer(&b[0])).FailureActionsOnNonCrashFailures != 0
	}); err != nil {
		return o, true, err
	}
	st, err := s.Query()
	if err != nil {
		return o, true, fmt.Errorf("reading its status: %w", err)
	}
	o.Status = toStatus(st)
	return o, true, nil
}

func toStatus(st svc.Status) Status {
	s := Status{Win32ExitCode: st.Win32ExitCode, ServiceExitCode: st.ServiceSpecificExitCode}
	switch st.State {
	case svc.Stopped:
		s.State = StateStopped
	case svc.StartPending:
		s.State = StateStartPending
	case svc.StopPending:
		s.State = StateStopPending
	case svc.Running:
		s.State = StateRunning
	default:
		s.State = StateOther
	}
	return s
}

// scHint is how to set a field by hand where the service manager refused.
var scHint = map[Field]string{
	FieldDescription:        `sc.exe description officescan_exporter "..."`,
	FieldDelayedStart:       "sc.exe config officescan_exporter start= delayed-auto",
	FieldRecovery:           "sc.exe failure officescan_exporter reset= 86400 actions= restart/60000/restart/60000/restart/60000",
	FieldRecoveryOnExitCode: "sc.exe failureflag officescan_exporter 1",
}

// setExtra sets the settings kept apart from the main configuration
// (ChangeServiceConfig2). A manager that does not know one gets a warning,
// not an error.
func setExtra(h windows.Handle, c ServiceConfig, f Field) (warning string, err error) {
	switch f {
	case FieldDescription:
		p, perr := windows.UTF16PtrFromString(c.Description)
		if perr != nil {
			return "", perr
		}
		d := windows.SERVICE_DESCRIPTION{Description: p}
		err = windows.ChangeServiceConfig2(h, windows.SERVICE_CONFIG_DESCRIPTION, (*byte)(unsafe.Pointer(&d)))
	case FieldDelayedStart:
		var d windows.SERVICE_DELAYED_AUTO_START_INFO
		if c.DelayedStart {
			d.IsDelayedAutoStartUp = 1
		}
		err = windows.ChangeServiceConfig2(h, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&d)))
	case FieldRecovery:
		actions := make([]windows.SC_ACTION, len(c.Recovery)+1) // +1: never a nil pointer
		for i, a := range c.Recovery {
			actions[i] = windows.SC_ACTION{Type: actionCode(a.Type), Delay: uint32(a.Delay / time.Millisecond)}
		}
		fa := windows.SERVICE_FAILURE_ACTIONS{
			ResetPeriod:  uint32(c.RecoveryReset / time.Second),
			ActionsCount: uint32(len(c.Recovery)),
			Actions:      &actions[0],
		}
		err = windows.ChangeServiceConfig2(h, windows.SERVICE_CONFIG_FAILURE_ACTIONS, (*byte)(unsafe.Pointer(&fa)))
	case FieldRecoveryOnExitCode:
		var fl windows.SERVICE_FAILURE_ACTIONS_FLAG
		if c.RecoveryOnExitCode {
			fl.FailureActionsOnNonCrashFailures = 1
		}
		err = windows.ChangeServiceConfig2(h, windows.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, (*byte)(unsafe.Pointer(&fl)))
	default:
		return "", nil
	}
	if unsupported(err) {
		return fmt.Sprintf("%s not set: this service manager does not support it (%v); on Windows: %s", f, err, scHint[f]), nil
	}
	if err != nil {
		return "", fmt.Errorf("setting its %s: %w", f, err)
	}
	return "", nil
}

var extraFields = []Field{FieldDescription, FieldDelayedStart, FieldRecovery, FieldRecoveryOnExitCode}

func actionCode(t ActionType) uint32 {
	for code, a := range actionTypes {
		if a == t {
			return code
		}
	}
	return uint32(t)
}

func (w winServices) Create(name string, c ServiceConfig) ([]string, error) {
	ptr := func(s string) *uint16 {
		if s == "" {
			return nil
		}
		p, _ := windows.UTF16PtrFromString(s)
		return p
	}
	for _, s := range []string{name, c.DisplayName, c.CommandLine} {
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("%q holds a NUL", s)
		}
	}
	var account *uint16 // nil: LocalSystem
	if !accountsEqual(c.Account, LocalSystem) {
		account = ptr(c.Account)
	}
	h, err := windows.CreateService(w.m.Handle, ptr(name), ptr(c.DisplayName), windows.SERVICE_ALL_ACCESS,
		windows.SERVICE_WIN32_OWN_PROCESS, startTypeCode(c.Start), windows.SERVICE_ERROR_NORMAL,
		ptr(c.CommandLine), nil, nil, nil, account, nil)
	if err != nil {
		return nil, err
	}
	defer windows.CloseServiceHandle(h)
	var warnings []string
	for _, f := range extraFields {
		if f == FieldDelayedStart && c.Start != StartAuto {
			continue
		}
		warning, err := setExtra(h, c, f)
		if err != nil {
			return warnings, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

func (w winServices) Update(name string, c ServiceConfig, fields []Field) ([]string, error) {
	s, err := w.open(name)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	set := map[Field]bool{}
	for _, f := range fields {
		set[f] = true
	}
	if set[FieldCommandLine] || set[FieldDisplayName] || set[FieldStart] {
		startType := uint32(windows.SERVICE_NO_CHANGE)
		if set[FieldStart] {
			startType = startTypeCode(c.Start)
		}
		var cmdline, display *uint16
		if set[FieldCommandLine] {
			if cmdline, err = windows.UTF16PtrFromString(c.CommandLine); err != nil {
				return nil, err
			}
		}
		if set[FieldDisplayName] {
			if display, err = windows.UTF16PtrFromString(c.DisplayName); err != nil {
				return nil, err
			}
		}
		if err := windows.ChangeServiceConfig(s.Handle, windows.SERVICE_NO_CHANGE, startType, windows.SERVICE_NO_CHANGE,
			cmdline, nil, nil, nil, nil, nil, display); err != nil {
			return nil, err
		}
	}
	var warnings []string
	for _, f := range extraFields {
		if !set[f] {
			continue
		}
		warning, err := setExtra(s.Handle, c, f)
		if err != nil {
			return warnings, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

func (w winServices) Start(name string) error {
	s, err := w.open(name)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return err
	}
	return nil
}

func (w winServices) Stop(name string) error {
	s, err := w.open(name)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return err
	}
	return nil
}

func (w winServices) Status(name string) (Status, error) {
	s, err := w.open(name)
	if err != nil {
		return Status{}, err
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return Status{}, err
	}
	return toStatus(st), nil
}

func (w winServices) Delete(name string) error {
	s, err := w.open(name)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Delete()
}
