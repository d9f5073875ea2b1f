package winservice

import (
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// handlerRun drives Execute as svc.Run would, over channels the test owns.
type handlerRun struct {
	t       *testing.T
	s       *Service
	events  *fakeEvents
	req     chan svc.ChangeRequest
	changes chan svc.Status
	result  chan [2]uint32 // service-specific flag (0/1), exit code
}

func startHandler(t *testing.T, stopTimeout time.Duration) *handlerRun {
	h := &handlerRun{
		t: t, events: &fakeEvents{},
		req: make(chan svc.ChangeRequest), changes: make(chan svc.Status, 16), result: make(chan [2]uint32, 1),
	}
	h.s = newService("officescan_exporter_test", h.events)
	h.s.stopTimeout = stopTimeout
	go func() {
		specific, code := h.s.Execute(nil, h.req, h.changes)
		r := [2]uint32{0, code}
		if specific {
			r[0] = 1
		}
		h.result <- r
	}()
	h.expect(svc.StartPending)
	if st := h.expect(svc.Running); st.Accepts != svc.AcceptStop|svc.AcceptShutdown {
		t.Errorf("Running accepts %v, want Stop and Shutdown", st.Accepts)
	}
	return h
}

func (h *handlerRun) expect(state svc.State) svc.Status {
	h.t.Helper()
	select {
	case st := <-h.changes:
		if st.State != state {
			h.t.Fatalf("status %v, want %v", st.State, state)
		}
		return st
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no status change, want %v", state)
	}
	return svc.Status{}
}

func (h *handlerRun) send(cmd svc.Cmd, current svc.Status) {
	h.t.Helper()
	select {
	case h.req <- svc.ChangeRequest{Cmd: cmd, CurrentStatus: current}:
	case <-time.After(5 * time.Second):
		h.t.Fatalf("handler does not take control %d", cmd)
	}
}

func (h *handlerRun) stopped() (specific bool, code uint32) {
	h.t.Helper()
	select {
	case r := <-h.result:
		return r[0] == 1, r[1]
	case <-time.After(5 * time.Second):
		h.t.Fatal("Execute did not return: the service never reports Stopped")
	}
	return false, 0
}

func TestStartReportsRunningAndAnswersInterrogate(t *testing.T) {
	h := startHandler(t, time.Minute)
	running := svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	h.send(svc.Interrogate, running)
	if st := h.expect(svc.Running); st != running {
		t.Errorf("Interrogate answered %+v, want %+v", st, running)
	}
	if h.s.ctx.Err() != nil {
		t.Error("Interrogate cancelled the program's context")
	}
	h.send(svc.Stop, running)
	h.expect(svc.StopPending)
	h.s.exit <- 0
	h.stopped()
}

func TestStopAndShutdownStopCleanly(t *testing.T) {
	for _, cmd := range []svc.Cmd{svc.Stop, svc.Shutdown} {
		h := startHandler(t, time.Minute)
		h.send(cmd, svc.Status{State: svc.Running})
		if st := h.expect(svc.StopPending); st.WaitHint != uint32(time.Minute/time.Millisecond) {
			t.Errorf("StopPending wait hint %d ms, want the stop timeout", st.WaitHint)
		}
		select {
		case <-h.s.ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("control %d did not cancel the program's context", cmd)
		}
		// While the program winds down the manager may ask again.
		h.send(svc.Interrogate, svc.Status{State: svc.StopPending})
		h.expect(svc.StopPending)
		h.send(svc.Stop, svc.Status{State: svc.StopPending})
		select {
		case r := <-h.result:
			t.Fatalf("Execute returned %v before the program finished", r)
		case <-time.After(50 * time.Millisecond):
		}
		h.s.exit <- 0 // what Finish sends once serve has returned
		if specific, code := h.stopped(); specific || code != 0 {
			t.Errorf("control %d: stopped with (%v, %d), want a clean exit (false, 0)", cmd, specific, code)
		}
		if got := h.events.all(); len(got) != 1 || got[0][:9] != "info 100:" {
			t.Errorf("control %d: event log %q, want one stop entry", cmd, got)
		}
	}
}

func TestProgramEndingOnItsOwnStopsService(t *testing.T) {
	h := startHandler(t, time.Minute)
	h.s.exit <- 3 // e.g. the listen address is taken
	h.expect(svc.StopPending)
	if specific, code := h.stopped(); !specific || code != 3 {
		t.Errorf("stopped with (%v, %d), want service-specific exit code 3, so failure actions apply", specific, code)
	}
}

func TestStuckProgramStopsAfterTimeout(t *testing.T) {
	h := startHandler(t, 100*time.Millisecond)
	h.send(svc.Stop, svc.Status{State: svc.Running})
	h.expect(svc.StopPending)
	if specific, code := h.stopped(); !specific || code != 1 {
		t.Errorf("stopped with (%v, %d), want (true, 1)", specific, code)
	}
	if !h.s.timedOut.Load() {
		t.Error("timeout not recorded: the process would linger after Stopped")
	}
}

func TestNotAServiceUnderGoTest(t *testing.T) {
	s, err := Start("officescan_exporter_test")
	if err != nil || s != nil {
		t.Errorf("Start from go test = %v, %v; want nil, nil (not started by services.exe)", s, err)
	}
}
