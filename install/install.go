// Package install registers the exporter as a Windows service in one step
// (`officescan_exporter install`) and removes what that added
// (`officescan_exporter uninstall`).
//
// install registers the service officescan_exporter (delayed automatic
// start, LocalSystem, restart on failure) running this program with the
// flags it was given, registers the Event Log source, writes a commented
// config skeleton when the config file does not exist, optionally adds a
// Windows Firewall rule for the listen port, starts the service and waits
// until it answers. Run again, it changes only what differs and says what.
// uninstall removes the service, the event source and the firewall rule if
// install added it (recorded in a small state file), and keeps the config
// file.
//
// The system is behind small interfaces (Services, EventSources, Firewall)
// so that the logic is tested anywhere; the Windows implementations are in
// system_windows.go, and on other systems Local returns ErrNotWindows.
package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// ErrNotWindows is what Local returns on other systems.
var ErrNotWindows = errors.New("install and uninstall are for Windows; on Linux use a systemd unit (docs/install-linux.md)")

// Services is the service manager.
type Services interface {
	// Query returns the service called name; false when there is none.
	Query(name string) (Observed, bool, error)
	// Create registers a service. Warnings name settings this service
	// manager does not support (Wine's: the delayed start, the recovery
	// flag); any other failure is an error.
	Create(name string, c ServiceConfig) (warnings []string, err error)
	// Update sets fields of an existing service to c's values.
	Update(name string, c ServiceConfig, fields []Field) (warnings []string, err error)
	Start(name string) error
	// Stop asks the service to stop; Status tells when it has.
	Stop(name string) error
	Status(name string) (Status, error)
	Delete(name string) error
}

// EventSources registers Application log sources.
type EventSources interface {
	Has(name string) (bool, error)
	Add(name string) error
	Remove(name string) error
}

// System is everything install and uninstall touch.
type System struct {
	Services Services
	Events   EventSources
	Firewall Firewall
	// FirewallNote, when set, is said whenever the firewall is used (the
	// test stand-in names itself).
	FirewallNote string
	// DataDir is %ProgramData%\officescan_exporter: the default config file
	// and the state file.
	DataDir string
	// Exe is this program's absolute path: the service runs it.
	Exe string
	// ServerDir reads the registry's Local_Path.
	ServerDir func() (string, error)
	// Dial checks that the exporter accepts connections at addr.
	Dial func(ctx context.Context, addr string) error
	// CRLF writes the config skeleton with Windows line ends.
	CRLF bool
	// Poll and Wait pace and bound the waits for the service (0: defaults).
	Poll, Wait time.Duration
	close      func()
}

// Close lets go of the service manager.
func (s *System) Close() {
	if s != nil && s.close != nil {
		s.close()
	}
}

// Options are install's inputs.
type Options struct {
	// ConfigFile is the config file's absolute path; "" is
	// DataDir\config.yml.
	ConfigFile string
	// Args are the flags the service gets after --config.file.
	Args []string
	// ListenAddress is the exporter's (first) --web.listen-address.
	ListenAddress string
	// WebConfig says a --web.config.file is in use (the page may be https).
	WebConfig bool
	// Firewall asks for the inbound rule; FirewallRemoteIP limits it.
	Firewall         bool
	FirewallRemoteIP string
}

func (s *System) poll() time.Duration {
	if s.Poll > 0 {
		return s.Poll
	}
	return 200 * time.Millisecond
}

func (s *System) wait() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return 30 * time.Second
}

// ConfigPath is the config file the service reads.
func (s *System) ConfigPath(o Options) string {
	if o.ConfigFile != "" {
		return o.ConfigFile
	}
	return filepath.Join(s.DataDir, "config.yml")
}

// printer writes "label: text" lines with the labels aligned.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(label, format string, args ...any) {
	if p.err != nil {
		return
	}
	if label != "" {
		label += ":"
	}
	_, p.err = fmt.Fprintf(p.w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
}

func (p *printer) text(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
}

// Install registers and starts the service as o says, changing only what
// differs from what is there, and reports each step on out.
func Install(ctx context.Context, sys *System, o Options, out io.Writer) error {
	p := &printer{w: out}
	port, err := portOf(o.ListenAddress)
	if err != nil {
		return err
	}
	if err := ValidRemoteIP(o.FirewallRemoteIP); err != nil {
		return err
	}
	cfgPath := sys.ConfigPath(o)
	if !filepath.IsAbs(cfgPath) {
		return fmt.Errorf("config file %q: the path must be absolute (the service does not start in this folder)", cfgPath)
	}
	st, _, err := readState(sys.DataDir)
	if err != nil {
		return fmt.Errorf("reading what an earlier install recorded: %w", err)
	}
	changed := false

	p.line("program", "%s", sys.Exe)
	if note := exeNote(sys.Exe); note != "" {
		p.line("", "%s", note)
	}

	// The config file first: the service must find it when it starts.
	wrote, err := writeSkeleton(sys, cfgPath, o.ListenAddress)
	switch {
	case err != nil:
		return err
	case wrote != "":
		changed = true
		st.ConfigWritten = true
		p.line("config file", "%s: written, %s", cfgPath, wrote)
	default:
		p.line("config file", "%s: exists, left as it is", cfgPath)
	}
	if wrote == "" && !samePath(st.ConfigFile, cfgPath) {
		st.ConfigWritten = false // a file install did not write
	}
	st.ConfigFile = cfgPath

	has, err := sys.Events.Has(EventSource)
	if err != nil {
		return fmt.Errorf("looking for the event source %s: %w", EventSource, err)
	}
	if has {
		p.line("event source", "%s: registered already", EventSource)
	} else {
		if err := sys.Events.Add(EventSource); err != nil {
			return fmt.Errorf("registering the event source %s: %w", EventSource, err)
		}
		changed = true
		p.line("event source", "%s: registered in the Application log", EventSource)
	}

	want := Desired(CommandLine(sys.Exe, append([]string{"--config.file=" + cfgPath}, o.Args...)...))
	have, exists, err := sys.Services.Query(ServiceName)
	if err != nil {
		return fmt.Errorf("looking for the service %s: %w", ServiceName, err)
	}
	restart := false
	if !exists {
		warnings, err := sys.Services.Create(ServiceName, want)
		if err != nil {
			return fmt.Errorf("creating the service %s: %w", ServiceName, err)
		}
		changed = true
		p.line("service", "%s: created, %s", ServiceName, summary(want))
		p.line("", "command line: %s", want.CommandLine)
		for _, w := range warnings {
			p.line("", "warning: %s", w)
		}
	} else {
		cmp := Compare(have, want)
		if len(cmp.Changes) == 0 {
			p.line("service", "%s: exists with these settings, left as it is", ServiceName)
		} else {
			warnings, err := sys.Services.Update(ServiceName, want, cmp.Fields())
			if err != nil {
				return fmt.Errorf("updating the service %s: %w", ServiceName, err)
			}
			changed = true
			p.line("service", "%s: updated; what changed:", ServiceName)
			for _, c := range cmp.Changes {
				p.line("", "%s: was %s", c.Field, c.Old)
				p.line("", "%s  now %s", strings.Repeat(" ", len(c.Field)), c.New)
			}
			for _, w := range warnings {
				p.line("", "warning: %s", w)
			}
			// A running service keeps its old command line until it restarts.
			restart = cmp.changes(FieldCommandLine) && have.Status.State != StateStopped
		}
		for _, c := range cmp.Kept {
			p.line("", "%s: %s, set by hand: left as it is (install creates the service as %s)", c.Field, c.Old, c.New)
		}
		for _, f := range cmp.Unreadable {
			p.line("", "%s: this service manager cannot report it (%v): not compared", f, have.Unreadable[f])
		}
	}
	p.line("", "runs as %s: the share collector's NetFileEnum needs administrator rights, the other collectors only read access (docs/install-windows.md, Rights)", accountOf(have, exists, want))

	fwChanged, err := firewallStep(sys, o, port, &st, p)
	if err != nil {
		return err
	}
	changed = changed || fwChanged

	wroteState, err := writeState(sys.DataDir, st)
	if err != nil {
		return fmt.Errorf("recording what install added in %s: %w", statePath(sys.DataDir), err)
	}
	changed = changed || wroteState

	started, err := ensureRunning(ctx, sys, restart, p)
	if err != nil {
		return err
	}
	changed = changed || started
	if err := waitAnswering(ctx, sys, o.ListenAddress, p); err != nil {
		return err
	}

	if !changed {
		p.text("\nNothing changed: the service was installed with these settings and is running.")
	}
	p.text("\nThe readiness page: http://%s/", pageHost(o.ListenAddress, port))
	if o.WebConfig {
		p.text("(https:// if the --web.config.file turns TLS on; it may ask for a password)")
	}
	nextSteps(p, sys.Exe, cfgPath)
	return p.err
}

// nextSteps says what is left to do: map the console settings the config
// file does not map yet.
func nextSteps(p *printer, exe, cfgPath string) {
	var missing []string
	if f, err := config.Load(cfgPath); err == nil {
		for _, name := range hazard.SettingNames() {
			if _, ok := f.Settings[name]; !ok {
				missing = append(missing, name)
			}
		}
	} else {
		missing = hazard.SettingNames()
	}
	if len(missing) == 0 {
		p.text("The config file maps every console setting (%s).", strings.Join(hazard.SettingNames(), ", "))
		return
	}
	p.text(`
Next: map the console settings in the config file; until then each one reads unknown and the
verdict stays blocked. Not mapped yet: %s.
Trend Micro does not publish their Ofcscan.ini keys. For each one: copy PCCSRV\Ofcscan.ini to before.ini, toggle only that option in the web console and save,
copy Ofcscan.ini to after.ini, and run (PowerShell)
  & %s settings diff before.ini after.ini --setting %s
then paste the entry it prints into %s
and restart the service: Restart-Service %s
The whole procedure: docs/collector.settings.md, "Finding a key with settings diff".`,
		strings.Join(missing, ", "), psQuote(exe), missing[0], cfgPath, ServiceName)
}

// psQuote quotes s for PowerShell: in single quotes only a quote is special.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Uninstall stops and removes the service, the event source and the
// firewall rule install added, and keeps the config file.
func Uninstall(ctx context.Context, sys *System, out io.Writer) error {
	p := &printer{w: out}
	st, recorded, err := readState(sys.DataDir)
	if err != nil {
		return fmt.Errorf("reading what install recorded: %w", err)
	}

	_, exists, err := sys.Services.Query(ServiceName)
	if err != nil {
		return fmt.Errorf("looking for the service %s: %w", ServiceName, err)
	}
	if exists {
		status, err := sys.Services.Status(ServiceName)
		if err != nil {
			return err
		}
		if status.State != StateStopped {
			if err := sys.Services.Stop(ServiceName); err != nil {
				return fmt.Errorf("stopping the service %s: %w", ServiceName, err)
			}
			if _, err := waitState(ctx, sys, StateStopped); err != nil {
				return fmt.Errorf("stopping the service %s: %w", ServiceName, err)
			}
			p.line("service", "%s: stopped", ServiceName)
		}
		if err := sys.Services.Delete(ServiceName); err != nil {
			return fmt.Errorf("removing the service %s: %w", ServiceName, err)
		}
		p.line("service", "%s: removed", ServiceName)
	} else {
		p.line("service", "%s: not installed", ServiceName)
	}

	has, err := sys.Events.Has(EventSource)
	if err != nil {
		return fmt.Errorf("looking for the event source %s: %w", EventSource, err)
	}
	if has {
		if err := sys.Events.Remove(EventSource); err != nil {
			return fmt.Errorf("removing the event source %s: %w", EventSource, err)
		}
		p.line("event source", "%s: removed (the entries it wrote stay in the Application log)", EventSource)
	} else {
		p.line("event source", "%s: not registered", EventSource)
	}

	if err := uninstallFirewall(sys, st, p); err != nil {
		return err
	}

	if recorded {
		if err := os.Remove(statePath(sys.DataDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", statePath(sys.DataDir), err)
		}
	}
	cfg := st.ConfigFile
	if cfg == "" {
		cfg = sys.ConfigPath(Options{})
	}
	if _, err := os.Stat(cfg); err == nil {
		how := ""
		if st.ConfigWritten {
			how = "install wrote it, you may have edited it since; "
		}
		p.line("config file", "%s: kept (%suninstall never deletes it: delete it yourself when you no longer need it)", cfg, how)
	}
	p.line("program", "%s: not deleted", sys.Exe)
	return p.err
}

// writeSkeleton writes the config skeleton at path unless a file is there,
// and says what it wrote ("" when it wrote nothing).
func writeSkeleton(sys *System, path, listen string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return "", nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("config file %s: %w", path, err)
	}
	in := SkeletonInput{ListenAddress: listen}
	what := "a commented skeleton; "
	if sys.ServerDir != nil {
		dir, err := sys.ServerDir()
		switch {
		case err != nil:
			in.ServerDirNote = err.Error()
		case dir == "":
			in.ServerDirNote = "the registry value Local_Path is empty"
		default:
			in.ServerDir = dir
		}
	}
	if in.ServerDir != "" {
		what += "server_dir from the registry (Local_Path)"
	} else {
		what += "the registry names no server folder, server_dir left commented"
	}
	text := Skeleton(in)
	if sys.CRLF {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("config file %s: %w", path, err)
	}
	// O_EXCL: never overwrite a file that appeared meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("config file %s: %w", path, err)
	}
	_, werr := f.WriteString(text)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", fmt.Errorf("config file %s: %w", path, werr)
	}
	// The service reads it at every start: it must load as written.
	if _, err := config.Load(path); err != nil {
		return "", fmt.Errorf("the config skeleton written does not load (a bug; please report it): %w", err)
	}
	return what, nil
}

// firewallStep adds, updates or leaves the rule, and records in st what
// install added.
func firewallStep(sys *System, o Options, port int, st *State, p *printer) (bool, error) {
	want := Rule{Name: RuleName, Port: port, RemoteIP: o.FirewallRemoteIP}
	if sys.FirewallNote != "" && (o.Firewall || st.Firewall != nil) {
		p.line("firewall", "%s", sys.FirewallNote)
	}
	if !o.Firewall {
		switch {
		case st.Firewall == nil:
			p.line("firewall", "no rule added (--firewall adds one for TCP %d)", port)
		case st.Firewall.Port != port:
			p.line("firewall", "rule %s, added by an earlier install, kept; the exporter now listens on %d: run install --firewall to update it", st.Firewall, port)
		default:
			p.line("firewall", "rule %s, added by an earlier install, kept (uninstall removes it)", st.Firewall)
		}
		return false, nil
	}
	if err := validRuleName(want.Name); err != nil {
		return false, err
	}
	present, err := sys.Firewall.HasRule(want.Name)
	if err != nil {
		return false, fmt.Errorf("looking for the firewall rule %q: %w", want.Name, err)
	}
	switch {
	case st.Firewall == nil && present:
		// Not ours: the administrator's, or left by hand. Never touch it.
		p.line("firewall", "a rule named %q exists, not added by install: left as it is (check that it allows inbound TCP %d)", want.Name, port)
		return false, nil
	case st.Firewall != nil && present && *st.Firewall == want:
		p.line("firewall", "rule %s exists, left as it is", want)
		return false, nil
	case st.Firewall != nil && present:
		old := *st.Firewall
		if err := sys.Firewall.DeleteRule(want.Name); err != nil {
			return false, fmt.Errorf("replacing the firewall rule %q: %w", want.Name, err)
		}
		// Deleted: until the new one is added, there is nothing to remove.
		st.Firewall = nil
		if err := sys.Firewall.AddRule(want); err != nil {
			if _, werr := writeState(sys.DataDir, *st); werr != nil {
				err = errors.Join(err, werr)
			}
			return false, fmt.Errorf("adding the firewall rule %s (the old one, %s, is deleted): %w", want, old, err)
		}
		p.line("firewall", "rule replaced: was %s", old)
		p.line("", "      now %s", want)
	default:
		if err := sys.Firewall.AddRule(want); err != nil {
			return false, fmt.Errorf("adding the firewall rule %s: %w", want, err)
		}
		if st.Firewall != nil {
			p.line("firewall", "rule %s added again (it had been deleted)", want)
		} else {
			p.line("firewall", "rule %s added", want)
		}
	}
	st.Firewall = &want
	return true, nil
}

func uninstallFirewall(sys *System, st State, p *printer) error {
	if sys.FirewallNote != "" {
		p.line("firewall", "%s", sys.FirewallNote)
	}
	if st.Firewall == nil {
		present, err := sys.Firewall.HasRule(RuleName)
		if err != nil {
			return fmt.Errorf("looking for the firewall rule %q: %w", RuleName, err)
		}
		if present {
			p.line("firewall", "a rule named %q exists, not added by install: left as it is", RuleName)
		} else {
			p.line("firewall", "install added no rule")
		}
		return nil
	}
	present, err := sys.Firewall.HasRule(st.Firewall.Name)
	if err != nil {
		return fmt.Errorf("looking for the firewall rule %q: %w", st.Firewall.Name, err)
	}
	if !present {
		p.line("firewall", "rule %s, added by install, is gone already", st.Firewall)
		return nil
	}
	if err := sys.Firewall.DeleteRule(st.Firewall.Name); err != nil {
		return fmt.Errorf("removing the firewall rule %s: %w", st.Firewall, err)
	}
	p.line("firewall", "rule %s removed", st.Firewall)
	return nil
}

// ensureRunning starts the service, or restarts it when its command line
// changed, and waits until it runs; it reports whether it started it.
func ensureRunning(ctx context.Context, sys *System, restart bool, p *printer) (bool, error) {
	status, err := sys.Services.Status(ServiceName)
	if err != nil {
		return false, err
	}
	if status.State == StateStopPending {
		if status, err = waitState(ctx, sys, StateStopped); err != nil {
			return false, err
		}
	}
	if restart && status.State != StateStopped {
		if err := sys.Services.Stop(ServiceName); err != nil {
			return false, fmt.Errorf("restarting the service %s (its command line changed): %w", ServiceName, err)
		}
		if status, err = waitState(ctx, sys, StateStopped); err != nil {
			return false, fmt.Errorf("restarting the service %s (its command line changed): %w", ServiceName, err)
		}
	}
	if status.State == StateRunning {
		p.line("started", "%s was running already", ServiceName)
		return false, nil
	}
	if status.State == StateStopped {
		if err := sys.Services.Start(ServiceName); err != nil {
			// Wine's service manager reports a time-out when the service
			// stops before it looked: its status says why.
			if st, serr := sys.Services.Status(ServiceName); serr == nil && st.State == StateStopped {
				return false, startFailed(st)
			}
			return false, fmt.Errorf("starting the service %s: %w", ServiceName, err)
		}
	}
	status, err = waitState(ctx, sys, StateRunning)
	if err != nil {
		return false, err
	}
	if restart {
		p.line("started", "%s restarted with its new command line", ServiceName)
	} else {
		p.line("started", "%s is running", ServiceName)
	}
	return true, nil
}

func startFailed(st Status) error {
	return fmt.Errorf("the service %s did not stay running: %s. Its reason is in the Event Log:\n"+
		"  Get-WinEvent -FilterHashtable @{LogName = 'Application'; ProviderName = '%s'} -MaxEvents 5 | Format-List TimeCreated, Message",
		ServiceName, st.exitDescription(), EventSource)
}

// waitState polls the service until it is in state want; a service that
// stops while it should start fails at once.
func waitState(ctx context.Context, sys *System, want RunState) (Status, error) {
	deadline := time.Now().Add(sys.wait())
	for {
		st, err := sys.Services.Status(ServiceName)
		if err != nil {
			return st, err
		}
		if st.State == want {
			return st, nil
		}
		if want == StateRunning && st.State == StateStopped {
			return st, startFailed(st)
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("the service %s is %s after %s, not %s", ServiceName, st.State, sys.wait(), want)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(sys.poll()):
		}
	}
}

// waitAnswering waits until the exporter accepts connections, failing as
// soon as the service stops (a bad config file, a port in use).
func waitAnswering(ctx context.Context, sys *System, listen string, p *printer) error {
	if sys.Dial == nil {
		return nil
	}
	addr := dialAddress(listen)
	deadline := time.Now().Add(sys.wait())
	for {
		err := sys.Dial(ctx, addr)
		if err == nil {
			p.line("answering", "on %s", addr)
			return nil
		}
		st, serr := sys.Services.Status(ServiceName)
		if serr != nil {
			return serr
		}
		if st.State == StateStopped {
			return startFailed(st)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the service %s runs but does not answer on %s after %s: %v", ServiceName, addr, sys.wait(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sys.poll()):
		}
	}
}

// dialAddress is where this machine reaches a listen address: an address
// that listens on every interface is reached on the loopback.
func dialAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// pageHost is the host:port of the readiness page's URL.
func pageHost(listen string, port int) string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return fmt.Sprintf("localhost:%d", port)
	}
	return net.JoinHostPort(host, fmt.Sprint(port))
}

func summary(c ServiceConfig) string {
	start := string(c.Start)
	if c.Start == StartAuto {
		start = "automatic start"
		if c.DelayedStart {
			start = "delayed automatic start"
		}
	}
	return fmt.Sprintf("%s, restart 1 minute after a failure (%s), also when it exits with an error", start, recoveryString(c.Recovery, c.RecoveryReset))
}

func accountOf(have Observed, exists bool, want ServiceConfig) string {
	if exists && have.Config.Account != "" {
		if _, bad := have.Unreadable[FieldAccount]; !bad {
			return have.Config.Account
		}
	}
	return want.Account
}

// exeNote warns when the service would run the program from a folder that
// is often cleaned up.
func exeNote(exe string) string {
	l := strings.ToLower(strings.ReplaceAll(exe, "/", `\`))
	for _, dir := range []string{`\downloads\`, `\temp\`, `\tmp\`, `\appdata\`, `\desktop\`} {
		if strings.Contains(l, dir) {
			return `note: the service runs the program from this folder; if it is temporary, copy the program to C:\Program Files\officescan_exporter\ and run install from there`
		}
	}
	return ""
}

// samePath compares Windows paths, which ignore case.
func samePath(a, b string) bool {
	return strings.EqualFold(filepath.Clean(a), filepath.Clean(b))
}
