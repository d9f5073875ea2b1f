package readiness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// Paths the exporter serves the verdict under.
const (
	PathJSON    = "/readiness"
	PathHistory = "/readiness/history"
)

// Options are what the exporter judges its own history with: the rules'
// defaults, with its recording interval as the scrape and evaluation
// interval.
func (r *Recorder) Options() verdict.Options {
	return evidence{interval: r.interval, idleWindow: r.idleWindow}.options()
}

// Report judges the recorded history now.
func (r *Recorder) Report(now time.Time) (Report, error) {
	rep, err := Judge(r.History(), now, r.Options(), Target, r.Context())
	if err != nil {
		return rep, err
	}
	rep.Notes = append(rep.Notes, measuredNote(r.interval, r.idleWindow)...)
	return rep, nil
}

func measuredNote(interval, idleWindow time.Duration) []string {
	notes := []string{"Judged from the exporter's own scrapes, recorded every " + human(interval) +
		", with the same rules as Prometheus: the database counts as idle only after a whole measured window."}
	if idleWindow != hazard.IdleWindow {
		notes = append(notes, fmt.Sprintf("The idle window is %s here, not the %s of the shipped rules: a test setting.", human(idleWindow), human(hazard.IdleWindow)))
	}
	return notes
}

// PageOptions describe the landing page.
type PageOptions struct {
	MetricsPath string
	RunbooksURL string
	Version     string
	// Refresh is how often the browser reloads the page.
	Refresh time.Duration
}

// JSONHandler serves the report as JSON, the document `check --output=json`
// prints. The status is 200 whatever the verdict: the exporter itself is
// fine, and the verdict is in the body.
func (r *Recorder) JSONHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rep, err := r.Report(time.Now())
		if err != nil {
			logger.Error("judging the recorded history", "err", err)
			http.Error(w, "judging the recorded history failed", http.StatusInternalServerError)
			return
		}
		writeJSON(w, logger, rep)
	})
}

// HistoryHandler serves the recorded history, which `check` judges.
func (r *Recorder) HistoryHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, logger, EncodeHistory(r.History(), time.Now(), r.interval, r.idleWindow, r.Context()))
	})
}

func writeJSON(w http.ResponseWriter, logger *slog.Logger, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		logger.Error("encoding JSON", "err", err)
		http.Error(w, "encoding JSON failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// PageHandler serves the landing page: the checklist as HTML. Every value
// is escaped by html/template (evidence carries file names, ini section
// names and error messages, which come from outside), and the page loads
// nothing from elsewhere and runs no script.
func (r *Recorder) PageHandler(logger *slog.Logger, opts PageOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		rep, err := r.Report(time.Now())
		if err != nil {
			logger.Error("judging the recorded history", "err", err)
			http.Error(w, "judging the recorded history failed", http.StatusInternalServerError)
			return
		}
		var buf bytes.Buffer
		err = pageTemplate.Execute(&buf, struct {
			Report
			PageOptions
			Headline       string
			RefreshSeconds int
			JSONPath       string
			SafeFor        string
			WindowOpenFor  string
		}{rep, opts, rep.Outcome.Headline(), int(opts.Refresh.Seconds()), PathJSON,
			human(time.Duration(rep.SafeForSeconds) * time.Second), human(time.Duration(rep.WindowOpenForSeconds) * time.Second)})
		if err != nil {
			logger.Error("rendering the landing page", "err", err)
			http.Error(w, "rendering the page failed", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(buf.Bytes())
	})
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"rfc3339": func(t time.Time) string { return t.Format(time.RFC3339) },
	"class":   func(state string) string { return strings.ReplaceAll(state, " ", "") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{{if gt .RefreshSeconds 0}}<meta http-equiv="refresh" content="{{.RefreshSeconds}}">{{end}}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OfficeScan upgrade readiness: {{.Headline}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1f2328; max-width: 80rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.sub { color: #57606a; margin: 0 0 1.25rem; }
.verdict { padding: .9rem 1.1rem; border-radius: 6px; margin-bottom: 1rem; border: 1px solid; }
.verdict h2 { margin: 0 0 .3rem; font-size: 1.25rem; }
.verdict p { margin: .15rem 0; }
.verdict.safe { background: #dafbe1; border-color: #4ac26b; }
.verdict.blocked { background: #ffebe9; border-color: #ff8182; }
.verdict.unknown { background: #fff8c5; border-color: #d4a72c; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .5rem .6rem; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; }
td.name small { color: #57606a; }
.state { font-weight: 600; white-space: nowrap; }
.state.clear { color: #1a7f37; }
.state.blocked { color: #cf222e; }
.state.unknown { color: #9a6700; }
.state.waived, .state.notmonitored { color: #57606a; }
td.evidence { overflow-wrap: anywhere; font-family: ui-monospace, "Cascadia Mono", Consolas, monospace; font-size: .9em; }
footer { margin-top: 1.25rem; color: #57606a; }
</style>
</head>
<body>
<h1>OfficeScan Exporter</h1>
<p class="sub">Tells when it is safe to upgrade this Trend Micro OfficeScan / Apex One server.</p>
<section id="verdict" class="verdict {{.Outcome}}" data-verdict="{{.Outcome}}">
<h2>{{.Headline}}</h2>
<p>Checked at {{rfc3339 .Time}}{{if gt .RefreshSeconds 0}}; this page reloads every {{.RefreshSeconds}} s{{end}}.</p>
{{if .Safe}}<p>Safe for {{.SafeFor}} without a break; the alert OfficeScanUpgradeWindowOpen fires after {{.WindowOpenFor}}.</p>{{end}}
{{range .Notes}}<p>{{.}}</p>
{{end}}</section>
<table id="checks">
<thead><tr><th>Hazard</th><th>State</th><th>Evidence</th><th>What to do</th></tr></thead>
<tbody>
{{range .Rows}}<tr data-hazard="{{.Hazard}}" data-state="{{.State}}">
<td class="name"><strong>{{.Hazard}}</strong><br><small>{{.Title}}</small></td>
<td class="state {{class .State}}">{{.State}}</td>
<td class="evidence">{{.Evidence}}</td>
<td class="action">{{.Action}}</td>
</tr>
{{end}}</tbody>
</table>
<footer>
<a href="{{.MetricsPath}}">Metrics</a> ·
<a href="{{.JSONPath}}">Readiness as JSON</a> ·
<a href="{{.RunbooksURL}}">Runbooks</a> ·
officescan_exporter {{with .Version}}{{.}}{{else}}(development build){{end}}
</footer>
</body>
</html>
`))

// human formats a duration for people: 5m rather than 5m0s.
func human(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}
