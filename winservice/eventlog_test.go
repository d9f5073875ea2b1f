package winservice

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/promslog"
)

// fakeEvents records what would go to the event log.
type fakeEvents struct {
	mu      sync.Mutex
	entries []string // "type id: message"
}

func (f *fakeEvents) add(kind string, eid uint32, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, fmt.Sprintf("%s %d: %s", kind, eid, msg))
	return nil
}

func (f *fakeEvents) Info(eid uint32, msg string) error    { return f.add("info", eid, msg) }
func (f *fakeEvents) Warning(eid uint32, msg string) error { return f.add("warning", eid, msg) }
func (f *fakeEvents) Error(eid uint32, msg string) error   { return f.add("error", eid, msg) }

func (f *fakeEvents) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.entries...)
}

func promslogConfig(t *testing.T, level, format string) *promslog.Config {
	t.Helper()
	cfg := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat()}
	if err := cfg.Level.Set(level); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Format.Set(format); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEventLogHandlerLevelsAndFormat(t *testing.T) {
	ev := &fakeEvents{}
	logger := (&Service{events: ev}).Logger(promslogConfig(t, "info", "logfmt"), nil)
	logger.Debug("hidden")
	logger.Info("starting officescan_exporter", "version", "1.2.3")
	logger.With("collector", "share").Warn("slow", "took", "3s")
	logger.WithGroup("web").Error("listen failed", "err", "address in use")

	got := ev.all()
	want := []struct {
		prefix string
		texts  []string
	}{
		{"info 100: ", []string{"level=INFO source=eventlog_test.go:", `msg="starting officescan_exporter" version=1.2.3`}},
		{"warning 101: ", []string{"level=WARN", "msg=slow collector=share took=3s"}},
		{"error 102: ", []string{"level=ERROR", `msg="listen failed" web.err="address in use"`}},
	}
	if len(got) != len(want) {
		t.Fatalf("event log got %d entries, want %d (debug filtered out):\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w.prefix) {
			t.Errorf("entry %q: want prefix %q", got[i], w.prefix)
		}
		for _, text := range w.texts {
			if !strings.Contains(got[i], text) {
				t.Errorf("entry %q: want %q", got[i], text)
			}
		}
	}
	for _, e := range got {
		if strings.HasSuffix(e, "\n") {
			t.Errorf("entry %q ends in a newline", e)
		}
	}
}

func TestEventLogHandlerJSON(t *testing.T) {
	ev := &fakeEvents{}
	slogger := (&Service{events: ev}).Logger(promslogConfig(t, "debug", "json"), nil)
	slogger.Debug("scrape", "collector", "dbserver")
	if got := ev.all(); len(got) != 1 || !strings.Contains(got[0], `"msg":"scrape","collector":"dbserver"`) {
		t.Errorf("entries %q, want one JSON debug entry", got)
	}
}

func TestEventLogHandlerConcurrent(t *testing.T) {
	ev := &fakeEvents{}
	logger := (&Service{events: ev}).Logger(promslogConfig(t, "info", "logfmt"), nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := logger.With("worker", i)
			for j := range 50 {
				l.Info("tick", "n", j)
			}
		}()
	}
	wg.Wait()
	got := ev.all()
	if len(got) != 400 {
		t.Fatalf("%d entries, want 400", len(got))
	}
	for _, e := range got {
		if strings.Count(e, "msg=tick") != 1 {
			t.Fatalf("entry mixes records: %q", e)
		}
	}
}

func TestNotAServiceActsAsConsole(t *testing.T) {
	var s *Service
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	if s.Context(parent) != parent {
		t.Error("Context of a console program is not its parent")
	}
	console := promslog.NewNopLogger()
	if s.Logger(&promslog.Config{}, console) != console {
		t.Error("Logger of a console program is not the console logger")
	}
	s.Finish(3, fmt.Errorf("ignored")) // must neither block nor panic
}

func TestContextEndsOnServiceStop(t *testing.T) {
	s := newService("test", &fakeEvents{})
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	ctx := s.Context(parent)
	if ctx.Err() != nil {
		t.Fatal("context ended before any stop")
	}
	s.cancel() // what Execute does on Stop
	<-ctx.Done()

	// The parent ending (Ctrl-C) ends it too.
	s = newService("test", &fakeEvents{})
	ctx = s.Context(parent)
	cancelParent()
	<-ctx.Done()
}

func TestFinishLogsErrorAndWaitsForStopped(t *testing.T) {
	ev := &fakeEvents{}
	s := newService("test", ev)
	go func() {
		if code := <-s.exit; code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
		close(s.done)
	}()
	s.Finish(2, fmt.Errorf("parsing flags: unknown flag --x"))
	if got := ev.all(); len(got) != 1 || got[0] != "error 102: parsing flags: unknown flag --x" {
		t.Errorf("event log %q, want the error", got)
	}
}
