// Package docs embeds the documents the exporter serves itself, so that an
// alert's runbook link opens on the server that raised it, with no site to
// host.
package docs

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Runbooks is docs/runbooks.md.
//
//go:embed runbooks.md
var Runbooks []byte

// RunbooksPath is where the exporter serves the runbooks; alerts link to
// http://<instance>/runbooks#<alert name in lower case>.
const RunbooksPath = "/runbooks"

var (
	renderOnce sync.Once
	rendered   []byte
	renderErr  error
)

var pageTemplate = template.Must(template.New("runbooks").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runbooks for the OfficeScan alerts</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1f2328; max-width: 70rem; line-height: 1.45; }
code, pre { font-family: ui-monospace, "Cascadia Mono", Consolas, monospace; background: #f6f8fa; }
pre { padding: .6rem; overflow-x: auto; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; vertical-align: top; }
</style>
</head>
<body>
{{.}}
</body>
</html>
`))

// render turns the embedded Markdown into a page once. Headings get ids as
// GitHub gives them (lower case), so the alerts' anchors work here as there;
// raw HTML in the Markdown is not passed through.
func render() ([]byte, error) {
	renderOnce.Do(func() {
		md := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithParserOptions(parser.WithAutoHeadingID()))
		var body bytes.Buffer
		if err := md.Convert(Runbooks, &body); err != nil {
			renderErr = fmt.Errorf("rendering docs/runbooks.md: %w", err)
			return
		}
		var page bytes.Buffer
		// The body is goldmark's output of our own embedded file, with raw
		// HTML left out by goldmark's default (unsafe rendering off).
		if err := pageTemplate.Execute(&page, template.HTML(body.String())); err != nil { //nolint:gosec // see above
			renderErr = fmt.Errorf("rendering the runbooks page: %w", err)
			return
		}
		rendered = page.Bytes()
	})
	return rendered, renderErr
}

// RunbooksHandler serves the runbooks as a page.
func RunbooksHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		page, err := render()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
	})
}
