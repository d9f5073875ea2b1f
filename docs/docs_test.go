package docs

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// TestRunbooksServedWithAnchors: every alert's runbook_url anchor
// (#<alert name in lower case>) exists on the page the exporter serves, and
// so does every hazard's section.
func TestRunbooksServedWithAnchors(t *testing.T) {
	rec := httptest.NewRecorder()
	RunbooksHandler().ServeHTTP(rec, httptest.NewRequest("GET", RunbooksPath, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body, _ := io.ReadAll(rec.Body)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		ids[m[1]] = true
	}
	want := []string{strings.ToLower(hazard.WindowOpenAlert)}
	for _, a := range hazard.AllAlerts(hazard.Table) {
		want = append(want, strings.ToLower(a.Name))
	}
	for _, h := range hazard.Table {
		want = append(want, "hazard-"+strings.ReplaceAll(h.Name, "_", "-"))
	}
	for _, id := range want {
		if !ids[id] {
			t.Errorf("the runbooks page has no anchor #%s", id)
		}
	}
	if strings.Contains(string(body), "<script") {
		t.Error("the runbooks page carries a script")
	}
}
