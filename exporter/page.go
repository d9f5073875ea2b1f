package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Readiness evaluates the verdict for the landing page and /readiness.
//
// It should be given a Scraper of its own, not the one behind /metrics: a
// collector refuses to run twice at once, so a page load that overlapped a
// Prometheus scrape would otherwise make that scrape report a failure.
type Readiness struct {
	scraper *Scraper
	eval    EvaluateOptions
	// maxAge lets a burst of page loads share one scrape.
	maxAge time.Duration

	mu   sync.Mutex
	last Report
}

// NewReadiness returns a Readiness over s.
func NewReadiness(s *Scraper, eval EvaluateOptions) *Readiness {
	return &Readiness{scraper: s, eval: eval, maxAge: time.Second}
}

// Report scrapes (at most once per second, one scrape at a time) and
// evaluates.
func (r *Readiness) Report(ctx context.Context) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.Time.IsZero() && time.Since(r.last.Time) < r.maxAge {
		return r.last
	}
	v := EvaluateScrape(ctx, r.scraper, r.eval)
	r.last = Report{Verdict: v, ExitCode: v.Outcome.ExitCode(), Notes: []string{}}
	if v.measuredDatabase() {
		r.last.Notes = append(r.last.Notes, fmt.Sprintf(
			"DbServer.exe's CPU is measured over the last %s here; the alert rule averages it over %s and waits %s before it fires.",
			human(r.eval.DatabaseWindow), human(DatabaseIdleWindow), human(UpgradeWindowFor)))
	}
	return r.last
}

// JSONHandler serves the report as JSON, the same document as
// `check --output=json`. The status is 200 whatever the verdict: the
// exporter itself is fine, and the verdict is in the body.
func (r *Readiness) JSONHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := json.MarshalIndent(r.Report(req.Context()), "", "  ")
		if err != nil {
			logger.Error("encoding the readiness report", "err", err)
			http.Error(w, "encoding the readiness report failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(b, '\n'))
	})
}

// PageOptions describe the landing page.
type PageOptions struct {
	MetricsPath   string
	ReadinessPath string
	DocsURL       string
	Version       string
	// Refresh is how often the browser reloads the page.
	Refresh time.Duration
}

// PageHandler serves the landing page: the checklist as HTML. Every value
// is escaped by html/template (evidence carries file names, ini section
// names and error messages, which come from outside), and the page loads
// nothing from elsewhere and runs no script.
func (r *Readiness) PageHandler(logger *slog.Logger, opts PageOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		rep := r.Report(req.Context())
		var buf bytes.Buffer
		err := pageTemplate.Execute(&buf, struct {
			Report
			PageOptions
			Headline       string
			RefreshSeconds int
		}{rep, opts, outcomeText[rep.Outcome], int(opts.Refresh.Seconds())})
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
.state.off { color: #57606a; }
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
{{range .Notes}}<p>{{.}}</p>
{{end}}</section>
<table id="checks">
<thead><tr><th>Hazard</th><th>State</th><th>Evidence</th><th>What to do</th></tr></thead>
<tbody>
{{range .Checks}}<tr data-hazard="{{.Name}}" data-state="{{.State}}">
<td class="name"><strong>{{.Name}}</strong><br><small>{{.Title}}</small></td>
<td class="state {{.State}}">{{.State}}</td>
<td class="evidence">{{.Evidence}}</td>
<td class="action">{{.Action}}</td>
</tr>
{{end}}</tbody>
</table>
<footer>
<a href="{{.MetricsPath}}">Metrics</a> ·
<a href="{{.ReadinessPath}}">Readiness as JSON</a> ·
<a href="{{.DocsURL}}">Documentation</a> ·
officescan_exporter {{with .Version}}{{.}}{{else}}(development build){{end}}
</footer>
</body>
</html>
`))
