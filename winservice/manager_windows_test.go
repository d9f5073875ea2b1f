package winservice

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceExeEnv names the Windows path of an officescan_exporter.exe to run
// as a real service; scripts/test.d/35-windows-service.sh builds it and runs
// these tests under Wine, whose service manager starts services as Windows does.
const serviceExeEnv = "OSE_SERVICE_EXE"

func serviceExe(t *testing.T) string {
	exe := os.Getenv(serviceExeEnv)
	if exe == "" {
		t.Skipf("%s unset: scripts/test.d/35-windows-service.sh builds the exporter and runs this test under Wine", serviceExeEnv)
	}
	return exe
}

// install creates a service running exe with args, removed again at the end.
func install(t *testing.T, exe string, args ...string) (*mgr.Service, string) {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatalf("connecting to the service manager: %v", err)
	}
	t.Cleanup(func() { m.Disconnect() })
	name := fmt.Sprintf("officescan_exporter_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	s, err := m.CreateService(name, exe, mgr.Config{DisplayName: "OfficeScan Exporter (test)", StartType: mgr.StartManual}, args...)
	if err != nil {
		t.Fatalf("creating service %s: %v", name, err)
	}
	t.Cleanup(func() {
		if st, err := s.Query(); err == nil && st.State != svc.Stopped {
			s.Control(svc.Stop)
			waitState(t, s, svc.Stopped, 30*time.Second)
		}
		if err := s.Delete(); err != nil {
			t.Errorf("deleting service %s: %v", name, err)
		}
		s.Close()
	})
	return s, name
}

func waitState(t *testing.T, s *mgr.Service, want svc.State, timeout time.Duration) svc.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.Query()
		if err != nil {
			t.Fatalf("querying the service: %v", err)
		}
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("service in state %d after %s, want %d", st.State, timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestRunsUnderServiceManager(t *testing.T) {
	exe := serviceExe(t)
	addr := freePort(t)
	s, _ := install(t, exe, "--web.listen-address="+addr)
	// The exporter logs as event source officescan_exporter, which it
	// registers when it finds itself running as a service.
	const source = "officescan_exporter"
	eventlog.Remove(source)

	began := time.Now()
	if err := s.Start(); err != nil {
		t.Fatalf("starting the service: %v", err)
	}
	waitState(t, s, svc.Running, 30*time.Second)
	t.Logf("Start to Running: %s", time.Since(began).Round(time.Millisecond))

	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /metrics on %s within 30 s of Running: %v", addr, err)
		}
	}
	t.Logf("Start to first scrape: %s", time.Since(began).Round(time.Millisecond))
	for _, want := range []string{"officescan_exporter_build_info{", `officescan_scrape_collector_success{collector="share"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Only a process that knew it was a service registers the event source.
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\EventLog\Application\`+source, registry.QUERY_VALUE); err != nil {
		t.Errorf("event source %s not registered: %v", source, err)
	} else {
		k.Close()
	}

	if st, err := s.Control(svc.Interrogate); err != nil || st.State != svc.Running {
		t.Errorf("Interrogate: %+v, %v; want Running", st, err)
	}
	began = time.Now()
	if _, err := s.Control(svc.Stop); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	st := waitState(t, s, svc.Stopped, 30*time.Second)
	t.Logf("Stop to Stopped: %s", time.Since(began).Round(time.Millisecond))
	if st.Win32ExitCode != 0 || st.ServiceSpecificExitCode != 0 {
		t.Errorf("stopped with exit codes %d/%d, want a clean 0/0", st.Win32ExitCode, st.ServiceSpecificExitCode)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("still serving on %s after Stopped", addr)
	}
}

func TestBadFlagStopsWithExitCode(t *testing.T) {
	s, _ := install(t, serviceExe(t), "--no-such-flag")
	// Wine's StartService reports a time-out when the service stops before
	// StartService has looked (Windows returns once the process connects).
	if err := s.Start(); err != nil {
		t.Logf("starting the service: %v", err)
	}
	st := waitState(t, s, svc.Stopped, 30*time.Second)
	// ERROR_SERVICE_SPECIFIC_ERROR (1066) carries main's exit code 2, so the
	// manager's recovery actions see a failure.
	if st.Win32ExitCode != 1066 || st.ServiceSpecificExitCode != 2 {
		t.Errorf("stopped with exit codes %d/%d, want 1066/2", st.Win32ExitCode, st.ServiceSpecificExitCode)
	}
}
