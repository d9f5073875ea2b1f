package install

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The service install registers. The names are part of the documentation
// (docs/install-windows.md) and of the manual steps there.
const (
	ServiceName = "officescan_exporter"
	DisplayName = "OfficeScan Exporter"
	Description = "Prometheus exporter: tells when it is safe to upgrade the OfficeScan / Apex One server."
	// EventSource is the Application log source the exporter writes as
	// (winservice registers the same name when it runs as a service).
	EventSource = "officescan_exporter"
	// LocalSystem is the account install creates the service with: the
	// share collector's NetFileEnum needs administrator rights, and
	// LocalSystem is the one built-in service account that has them.
	LocalSystem = "LocalSystem"
)

// StartType is how the service manager starts a service, in sc.exe's words.
type StartType string

const (
	StartAuto     StartType = "auto"
	StartDemand   StartType = "demand"
	StartDisabled StartType = "disabled"
	StartBoot     StartType = "boot"
	StartSystem   StartType = "system"
)

// ActionType is what the service manager does when the service fails.
type ActionType int

const (
	ActionNone ActionType = iota
	ActionRestart
	ActionReboot
	ActionRunCommand
)

func (t ActionType) String() string {
	switch t {
	case ActionNone:
		return "none"
	case ActionRestart:
		return "restart"
	case ActionReboot:
		return "reboot"
	case ActionRunCommand:
		return "run"
	}
	return fmt.Sprintf("action%d", int(t))
}

// Action is one failure action: the first failure gets the first action,
// and so on; the last repeats.
type Action struct {
	Type  ActionType
	Delay time.Duration
}

// ServiceConfig is what install sets on the service, and what it reads back
// to see whether a service that exists already differs.
type ServiceConfig struct {
	// CommandLine is the whole command line, the program's absolute path
	// first (the service's "path to executable").
	CommandLine  string
	DisplayName  string
	Description  string
	Start        StartType
	DelayedStart bool
	// Account is the account the service logs on as.
	Account string
	// Recovery is the failure actions; RecoveryReset is the time without a
	// failure after which the count starts again.
	Recovery      []Action
	RecoveryReset time.Duration
	// RecoveryOnExitCode applies the failure actions also when the service
	// stops by itself with an exit code other than 0 (bad config, port
	// taken), not only when the process crashes (sc.exe failureflag 1).
	RecoveryOnExitCode bool
}

// Desired is the service install registers for commandLine: delayed
// automatic start, LocalSystem, restart a minute after each failure.
func Desired(commandLine string) ServiceConfig {
	return ServiceConfig{
		CommandLine:  commandLine,
		DisplayName:  DisplayName,
		Description:  Description,
		Start:        StartAuto,
		DelayedStart: true,
		Account:      LocalSystem,
		Recovery: []Action{
			{ActionRestart, time.Minute},
			{ActionRestart, time.Minute},
			{ActionRestart, time.Minute},
		},
		RecoveryReset:      24 * time.Hour,
		RecoveryOnExitCode: true,
	}
}

// Field names one setting of ServiceConfig, as the output names it.
type Field string

const (
	FieldCommandLine        Field = "command line"
	FieldDisplayName        Field = "display name"
	FieldDescription        Field = "description"
	FieldStart              Field = "start type"
	FieldDelayedStart       Field = "delayed start"
	FieldAccount            Field = "account"
	FieldRecovery           Field = "recovery actions"
	FieldRecoveryOnExitCode Field = "recovery on exit code"
)

// Fields lists every field in the order the output shows them.
var Fields = []Field{
	FieldCommandLine, FieldDisplayName, FieldDescription, FieldStart,
	FieldDelayedStart, FieldAccount, FieldRecovery, FieldRecoveryOnExitCode,
}

// Value is the field's value in words, for comparing and for the output.
func (c ServiceConfig) Value(f Field) string {
	switch f {
	case FieldCommandLine:
		return c.CommandLine
	case FieldDisplayName:
		return c.DisplayName
	case FieldDescription:
		return c.Description
	case FieldStart:
		return string(c.Start)
	case FieldDelayedStart:
		return yesNo(c.DelayedStart)
	case FieldAccount:
		return c.Account
	case FieldRecovery:
		return recoveryString(c.Recovery, c.RecoveryReset)
	case FieldRecoveryOnExitCode:
		return yesNo(c.RecoveryOnExitCode)
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// recoveryString writes actions as sc.exe failure does:
// "restart/60000/restart/60000/restart/60000, reset after 86400 s".
func recoveryString(actions []Action, reset time.Duration) string {
	if len(actions) == 0 {
		return "none"
	}
	parts := make([]string, 0, 2*len(actions))
	for _, a := range actions {
		parts = append(parts, a.Type.String(), strconv.FormatInt(a.Delay.Milliseconds(), 10))
	}
	return fmt.Sprintf("%s, reset after %d s", strings.Join(parts, "/"), int64(reset/time.Second))
}

// accountsEqual compares account names as Windows does: LocalSystem has
// several spellings, and names are not case-sensitive.
func accountsEqual(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		switch s {
		case "", "localsystem", `.\localsystem`, `nt authority\system`:
			return "localsystem"
		}
		return s
	}
	return norm(a) == norm(b)
}

// State is a service's run state.
type RunState int

const (
	StateUnknown RunState = iota
	StateStopped
	StateStartPending
	StateStopPending
	StateRunning
	StateOther
)

func (s RunState) String() string {
	switch s {
	case StateStopped:
		return "stopped"
	case StateStartPending:
		return "start pending"
	case StateStopPending:
		return "stop pending"
	case StateRunning:
		return "running"
	case StateOther:
		return "paused or changing"
	}
	return "unknown"
}

// Status is what the service manager says about a service now.
type Status struct {
	State RunState
	// Win32ExitCode is 1066 (ERROR_SERVICE_SPECIFIC_ERROR) when the program
	// stopped with an exit code of its own, which ServiceExitCode then holds.
	Win32ExitCode   uint32
	ServiceExitCode uint32
}

// errServiceSpecific is ERROR_SERVICE_SPECIFIC_ERROR.
const errServiceSpecific = 1066

// exitDescription says how a stopped service ended, in words.
func (s Status) exitDescription() string {
	switch {
	case s.Win32ExitCode == errServiceSpecific && s.ServiceExitCode == 2:
		return "it stopped with exit code 2: the command line or the config file is wrong"
	case s.Win32ExitCode == errServiceSpecific:
		return fmt.Sprintf("it stopped with exit code %d", s.ServiceExitCode)
	case s.Win32ExitCode != 0:
		return fmt.Sprintf("it stopped with Windows error %d", s.Win32ExitCode)
	}
	return "it stopped"
}

// Observed is a service as the service manager reports it.
type Observed struct {
	Config ServiceConfig
	// Unreadable holds the fields this service manager could not report,
	// with the reason (Wine's reports neither the delayed start nor the
	// failure actions). They are not compared.
	Unreadable map[Field]error
	Status     Status
}

// Change is one field of an existing service that differs from what install
// wants.
type Change struct {
	Field    Field
	Old, New string
}

// Comparison is what install found on an existing service.
type Comparison struct {
	// Changes are the fields install sets.
	Changes []Change
	// Kept are fields that differ but are the administrator's choice, left
	// as they are (the account, when set by hand).
	Kept []Change
	// Unreadable are fields that could not be read back, not compared.
	Unreadable []Field
}

// Compare finds what differs between an existing service and the wanted
// one. The account is the administrator's to change (docs/install-windows.md
// says how to run as a dedicated account): a different one is kept.
func Compare(have Observed, want ServiceConfig) Comparison {
	var c Comparison
	for _, f := range Fields {
		if _, bad := have.Unreadable[f]; bad {
			c.Unreadable = append(c.Unreadable, f)
			continue
		}
		old, nu := have.Config.Value(f), want.Value(f)
		switch {
		case f == FieldAccount:
			if !accountsEqual(have.Config.Account, want.Account) {
				c.Kept = append(c.Kept, Change{f, old, nu})
			}
		case f == FieldDelayedStart && want.Start != StartAuto:
			// Only an automatic start can be delayed.
		case old != nu:
			c.Changes = append(c.Changes, Change{f, old, nu})
		}
	}
	return c
}

// Fields lists the fields that change.
func (c Comparison) Fields() []Field {
	out := make([]Field, len(c.Changes))
	for i, ch := range c.Changes {
		out[i] = ch.Field
	}
	return out
}

func (c Comparison) changes(f Field) bool {
	for _, ch := range c.Changes {
		if ch.Field == f {
			return true
		}
	}
	return false
}
