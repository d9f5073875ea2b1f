// Package browser loads the exporter's landing page in headless Chromium
// (Debian's chromium): the rows a user sees, their states, that values from
// files are shown as text, and a screenshot. It runs in
// scripts/test.d/50-browser.sh (OSE_BROWSER=1), inside a private PID
// namespace like the other end-to-end tests.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
)

var screenshotOut = flag.String("screenshot", "", "also write the screenshot here (docs/img/landing.png)")

func require(t *testing.T) {
	t.Helper()
	e2eutil.Require(t)
	if os.Getenv("OSE_BROWSER") != "1" {
		t.Skip("browser test: runs in scripts/test.d/50-browser.sh (OSE_BROWSER=1)")
	}
}

// chromium runs headless Chromium on url with extra arguments, in a fresh
// profile, and returns its standard output.
func chromium(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, e2eutil.Tool(t, "chromium"), append(append(base, args...), url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

type report struct {
	Verdict string `json:"verdict"`
	Checks  []struct {
		Hazard string `json:"hazard"`
		State  string `json:"state"`
	} `json:"checks"`
}

// startMeasured starts the exporter on srv, with the page's idle window
// shortened to 3 s (a hidden test flag; the page then says so), and waits
// until the database has been measured for a whole window, so the page
// shows final states.
func startMeasured(t *testing.T, srv fixture.Server) (*e2eutil.Exporter, report) {
	t.Helper()
	e := e2eutil.StartExporter(t, append(srv.Args(), "--collector.dbserver.window=1s", "--collector.dbserver.interval=250ms",
		"--collector.dbserver.rediscover=250ms", "--web.readiness-interval=1s", "--readiness.idle-window=3s")...)
	var rep report
	e2eutil.Eventually(t, 30*time.Second, func() error {
		rep = report{}
		if err := json.Unmarshal(e2eutil.Get(t, e.URL+"/readiness"), &rep); err != nil {
			return err
		}
		for _, c := range rep.Checks {
			if c.Hazard == "dbserver" && c.State != "clear" {
				return e2eutil.Errorf("dbserver is %s", c.State)
			}
		}
		return nil
	})
	return e, rep
}

var rowRE = regexp.MustCompile(`<tr data-hazard="([^"]+)" data-state="([^"]+)">`)

func rows(dom string) map[string]string {
	out := map[string]string{}
	for _, m := range rowRE.FindAllStringSubmatch(dom, -1) {
		out[html.UnescapeString(m[1])] = m[2]
	}
	return out
}

func TestLandingPageRowsAndScreenshot(t *testing.T) {
	require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	e2eutil.FakeProcess(t, "AutoPcc.exe", false)
	srv := fixture.New(t, fixture.Settings{"firewall": "1", "firewall_driver_update_after_reboot": "1", "kernel_driver_restart_notification": "0"}, fixture.Options{Waivers: fixture.WaiveShare()})
	e, rep := startMeasured(t, srv)

	dom := string(chromium(t, e.URL+"/", "--dump-dom"))
	got := rows(dom)
	want := map[string]string{
		"dbserver": "clear", "autopcc": "blocked", "share": "waived", "firewall_driver": "clear",
		"restart_notification": "blocked", "agents": "not monitored",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows in the browser:\n got  %v\n want %v\n%s", got, want, dom)
	}
	// The page and /readiness (what check --output=json prints) agree.
	fromJSON := map[string]string{}
	for _, c := range rep.Checks {
		fromJSON[c.Hazard] = c.State
	}
	if fmt.Sprint(got) != fmt.Sprint(fromJSON) {
		t.Errorf("page rows %v differ from /readiness %v", got, fromJSON)
	}
	for _, w := range []string{`data-verdict="blocked"`, "<title>OfficeScan upgrade readiness: BLOCKED</title>", `href="/metrics"`, `href="/runbooks"`, "waived: " + fixture.ShareReason, "agents not monitored", "The idle window is 3s here"} {
		if !strings.Contains(dom, w) {
			t.Errorf("DOM lacks %q", w)
		}
	}

	png := filepath.Join(t.TempDir(), "landing.png")
	chromium(t, e.URL+"/", "--hide-scrollbars", "--window-size=1280,1000", "--screenshot="+png)
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 20_000 {
		t.Fatalf("screenshot is not a plausible PNG (%d bytes)", len(b))
	}
	if *screenshotOut != "" {
		if err := os.WriteFile(*screenshotOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLandingPageShowsFileValuesAsText(t *testing.T) {
	require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	const hostile = `<script>document.title="pwned"</script>`
	// The section name comes from the config file and the ini file.
	srv := fixture.New(t, fixture.AllGood, fixture.Options{Section: hostile, Waivers: fixture.WaiveShare()})
	e, _ := startMeasured(t, srv)

	dom := string(chromium(t, e.URL+"/", "--dump-dom"))
	if strings.Contains(dom, "pwned</title>") || strings.Contains(dom, hostile) {
		t.Fatalf("the section name ran as a script:\n%s", dom)
	}
	if !strings.Contains(dom, `&lt;script&gt;document.title="pwned"&lt;/script&gt;`) {
		t.Fatalf("the section name is not shown as text:\n%s", dom)
	}
	if got := rows(dom)["firewall_driver"]; got != "clear" {
		t.Errorf("firewall_driver row %q:\n%s", got, dom)
	}
}
