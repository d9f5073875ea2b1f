package install

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// fakeServices is a service manager in memory. It records every call that
// changes something, so a test can tell "nothing changed" from "changed it
// back to the same".
type fakeServices struct {
	services map[string]*Observed
	calls    []string
	// unreadable makes these fields unreadable and unsettable, as Wine's
	// manager does with the delayed start and the recovery flag.
	unreadable map[Field]bool
	// startFails makes a started service stop at once with this status.
	startFails *Status
}

func newFakeServices() *fakeServices { return &fakeServices{services: map[string]*Observed{}} }

var errNoService = errors.New("fake: no such service")

func (f *fakeServices) Query(name string) (Observed, bool, error) {
	s, ok := f.services[name]
	if !ok {
		return Observed{}, false, nil
	}
	o := *s
	o.Unreadable = map[Field]error{}
	for field := range f.unreadable {
		o.Unreadable[field] = errors.New("Invalid level.")
	}
	return o, true, nil
}

func (f *fakeServices) warnings(fields []Field) []string {
	var w []string
	for _, field := range fields {
		if f.unreadable[field] {
			w = append(w, string(field)+" not set: not supported")
		}
	}
	return w
}

func (f *fakeServices) Create(name string, c ServiceConfig) ([]string, error) {
	if _, ok := f.services[name]; ok {
		return nil, errors.New("fake: service exists")
	}
	f.calls = append(f.calls, "create")
	f.services[name] = &Observed{Config: c, Status: Status{State: StateStopped}}
	return f.warnings(Fields), nil
}

func (f *fakeServices) Update(name string, c ServiceConfig, fields []Field) ([]string, error) {
	s, ok := f.services[name]
	if !ok {
		return nil, errNoService
	}
	names := make([]string, len(fields))
	for i, field := range fields {
		names[i] = string(field)
		switch field {
		case FieldCommandLine:
			s.Config.CommandLine = c.CommandLine
		case FieldDisplayName:
			s.Config.DisplayName = c.DisplayName
		case FieldDescription:
			s.Config.Description = c.Description
		case FieldStart:
			s.Config.Start = c.Start
		case FieldDelayedStart:
			s.Config.DelayedStart = c.DelayedStart
		case FieldAccount:
			s.Config.Account = c.Account
		case FieldRecovery:
			s.Config.Recovery, s.Config.RecoveryReset = c.Recovery, c.RecoveryReset
		case FieldRecoveryOnExitCode:
			s.Config.RecoveryOnExitCode = c.RecoveryOnExitCode
		}
	}
	f.calls = append(f.calls, "update "+strings.Join(names, ","))
	return f.warnings(fields), nil
}

func (f *fakeServices) Start(name string) error {
	s, ok := f.services[name]
	if !ok {
		return errNoService
	}
	f.calls = append(f.calls, "start")
	if f.startFails != nil {
		s.Status = *f.startFails
		return nil
	}
	s.Status = Status{State: StateRunning}
	return nil
}

func (f *fakeServices) Stop(name string) error {
	s, ok := f.services[name]
	if !ok {
		return errNoService
	}
	f.calls = append(f.calls, "stop")
	s.Status = Status{State: StateStopped}
	return nil
}

func (f *fakeServices) Status(name string) (Status, error) {
	s, ok := f.services[name]
	if !ok {
		return Status{}, errNoService
	}
	return s.Status, nil
}

func (f *fakeServices) Delete(name string) error {
	if _, ok := f.services[name]; !ok {
		return errNoService
	}
	f.calls = append(f.calls, "delete")
	delete(f.services, name)
	return nil
}

type fakeEvents struct {
	sources map[string]bool
	calls   []string
}

func (f *fakeEvents) Has(name string) (bool, error) { return f.sources[name], nil }
func (f *fakeEvents) Add(name string) error {
	f.calls = append(f.calls, "add "+name)
	f.sources[name] = true
	return nil
}
func (f *fakeEvents) Remove(name string) error {
	f.calls = append(f.calls, "remove "+name)
	delete(f.sources, name)
	return nil
}

// recordingFirewall wraps the file stand-in and records the calls that
// change it.
type recordingFirewall struct {
	FileFirewall
	calls []string
}

func (r *recordingFirewall) AddRule(rule Rule) error {
	r.calls = append(r.calls, fmt.Sprintf("add %s %d %s", rule.Name, rule.Port, rule.RemoteIP))
	return r.FileFirewall.AddRule(rule)
}

func (r *recordingFirewall) DeleteRule(name string) error {
	r.calls = append(r.calls, "delete "+name)
	return r.FileFirewall.DeleteRule(name)
}

// machine is a System over fakes, with a temporary data folder.
type machine struct {
	sys      *System
	services *fakeServices
	events   *fakeEvents
	firewall *recordingFirewall
	dials    int
}

const testExe = `C:\Program Files\officescan_exporter\officescan_exporter.exe`

func newMachine(t *testing.T) *machine {
	t.Helper()
	// Flat folders (testdir, for Wine): the data folder is one of its own.
	m := &machine{
		services: newFakeServices(),
		events:   &fakeEvents{sources: map[string]bool{}},
		firewall: &recordingFirewall{FileFirewall: FileFirewall{Path: filepath.Join(testdir.New(t), "firewall.json")}},
	}
	m.sys = &System{
		Services:  m.services,
		Events:    m.events,
		Firewall:  m.firewall,
		DataDir:   testdir.New(t),
		Exe:       testExe,
		ServerDir: func() (string, error) { return `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`, nil },
		Dial: func(context.Context, string) error {
			m.dials++
			if st, _ := m.services.Status(ServiceName); st.State != StateRunning {
				return errors.New("connection refused")
			}
			return nil
		},
		Poll: time.Millisecond,
		Wait: time.Second,
	}
	return m
}

// changes returns every recorded change, and forgets them.
func (m *machine) changes() []string {
	var all []string
	all = append(all, m.services.calls...)
	all = append(all, m.events.calls...)
	all = append(all, m.firewall.calls...)
	m.services.calls, m.events.calls, m.firewall.calls = nil, nil, nil
	sort.Strings(all)
	return all
}

func (m *machine) install(t *testing.T, o Options) string {
	t.Helper()
	var out strings.Builder
	if err := Install(context.Background(), m.sys, o, &out); err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	return out.String()
}

func (m *machine) uninstall(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	if err := Uninstall(context.Background(), m.sys, &out); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out.String())
	}
	return out.String()
}
