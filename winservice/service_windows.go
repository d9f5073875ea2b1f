package winservice

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"

	"github.com/officescan-exporter/officescan_exporter/procs"
)

// Start finds out whether the service manager started this process and, if
// so, connects to it in the background and returns the link; it returns nil
// for a console program. Call it first in main, before slow set-up.
func Start(name string) (*Service, error) {
	isService, err := startedByServiceManager()
	if err != nil {
		return nil, fmt.Errorf("detecting the service manager: %w", err)
	}
	if !isService {
		return nil, nil
	}
	// Without a registered source the Event Viewer shows each entry under "the
	// description for Event ID 100 cannot be found"; LocalSystem may register it.
	regErr := registerEventSource(name)
	events, err := eventlog.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening the event log as %q: %w", name, err)
	}
	if regErr != nil {
		_ = events.Warning(EventWarning, fmt.Sprintf("registering event source %q: %v", name, regErr))
	}
	s := newService(name, events)
	go func() {
		if err := svc.Run(name, s); err != nil {
			_ = events.Error(EventError, fmt.Sprintf("running as service %q: %v", name, err))
			s.cancel()
		}
		close(s.done)
		if s.timedOut.Load() {
			os.Exit(1)
		}
	}()
	return s, nil
}

// startedByServiceManager reports whether the parent process is services.exe.
// svc.IsWindowsService also demands that the parent run in session 0: true
// for services on a Windows host, but not in Windows containers (which is why
// windows_exporter dropped that test) nor under Wine, where every process,
// services.exe included, is in session 1.
func startedByServiceManager() (bool, error) {
	var self windows.PROCESS_BASIC_INFORMATION
	size := uint32(unsafe.Sizeof(self))
	if err := windows.NtQueryInformationProcess(windows.CurrentProcess(), windows.ProcessBasicInformation, unsafe.Pointer(&self), size, &size); err != nil {
		return false, fmt.Errorf("reading the parent process ID: %w", err)
	}
	src, err := procs.NewSource()
	if err != nil {
		return false, err
	}
	managers, err := src.Find([]string{"services.exe"})
	if err != nil {
		return false, fmt.Errorf("looking for services.exe: %w", err)
	}
	for _, p := range managers {
		if uintptr(p.PID) == self.InheritedFromUniqueProcessId {
			return true, nil
		}
	}
	return false, nil
}

func registerEventSource(name string) error {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\EventLog\Application\`+name, registry.QUERY_VALUE)
	if err == nil {
		k.Close()
		return nil
	}
	if !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return err
	}
	return eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info)
}

// Execute answers the service manager (svc.Handler). It reports Running at
// once; Stop and Shutdown cancel the program's context, and the service
// stops when the program reports its exit code through Finish, or when
// stopTimeout runs out.
func (s *Service) Execute(_ []string, r <-chan svc.ChangeRequest, changes chan<- svc.Status) (bool, uint32) {
	changes <- svc.Status{State: svc.StartPending}
	changes <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	var deadline <-chan time.Time
	stopPending := svc.Status{State: svc.StopPending, WaitHint: uint32(s.stopTimeout / time.Millisecond)}
	for {
		select {
		case code := <-s.exit:
			if deadline == nil {
				// The program ended on its own, e.g. it could not listen.
				changes <- stopPending
			}
			if code != 0 {
				return true, uint32(code)
			}
			return false, 0
		case <-deadline:
			s.timedOut.Store(true)
			_ = s.events.Error(EventError, fmt.Sprintf("did not stop within %s; exiting", s.stopTimeout))
			return true, 1
		case c := <-r:
			switch c.Cmd {
			case svc.Interrogate:
				changes <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				if deadline != nil {
					continue
				}
				_ = s.events.Info(EventInfo, fmt.Sprintf("service %s: stop requested (control %d)", s.name, c.Cmd))
				changes <- stopPending
				deadline = time.After(s.stopTimeout)
				s.cancel()
			default:
				_ = s.events.Warning(EventWarning, fmt.Sprintf("service %s: unexpected control request %d", s.name, c.Cmd))
			}
		}
	}
}
