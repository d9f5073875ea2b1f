// Command docgen writes the parts of the docs that the table of hazards
// (package hazard) defines: the blocks between
//
//	<!-- BEGIN generated:NAME -->  and  <!-- END generated:NAME -->
//
// in docs/*.md and README.md. Everything around them is prose. Run it from
// the repository root after changing the table:
//
//	go run ./internal/docgen
//
// Its test fails when a committed doc differs from a regeneration.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

// Docs are the files that may hold generated blocks.
var Docs = []string{"README.md", "docs/runbooks.md", "docs/check.md"}

func run(root string) error {
	for _, name := range Docs {
		path := filepath.Join(root, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		out, err := Apply(name, data, Blocks(hazard.Table, runbooksLink(name)))
		if err != nil {
			return err
		}
		if string(out) != string(data) {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
		}
	}
	return nil
}

var blockRE = regexp.MustCompile(`(?s)(<!-- BEGIN generated:([a-z_]+) -->\n).*?(<!-- END generated:([a-z_]+) -->)`)

// Apply replaces every generated block of doc (read from name) with its
// content from blocks.
func Apply(name string, doc []byte, blocks map[string]string) ([]byte, error) {
	var err error
	out := blockRE.ReplaceAllFunc(doc, func(m []byte) []byte {
		sub := blockRE.FindSubmatch(m)
		begin, end := string(sub[2]), string(sub[4])
		if begin != end {
			err = fmt.Errorf("%s: block %q ends as %q", name, begin, end)
			return m
		}
		content, ok := blocks[begin]
		if !ok {
			err = fmt.Errorf("%s: no generated block is called %q", name, begin)
			return m
		}
		return []byte(string(sub[1]) + content + string(sub[3]))
	})
	return out, err
}

// runbooksLink is how a doc links to the runbooks' sections.
func runbooksLink(doc string) string {
	switch filepath.ToSlash(doc) {
	case "docs/runbooks.md":
		return ""
	case "README.md":
		return "docs/runbooks.md"
	}
	return "runbooks.md"
}

// Blocks returns every generated block for a table of hazards, linking to
// the runbooks' sections through link (empty: the same page).
func Blocks(table []hazard.Hazard, link string) map[string]string {
	return map[string]string{
		"reasons":     reasonsTable(table, link),
		"hazards":     hazardsSection(table),
		"hazard_list": hazardList(table, link),
	}
}

// alertOf names the alert that fires on a reason, from the table.
func alertOf(table []hazard.Hazard, reason, link string) string {
	var names []string
	for _, a := range hazard.AllAlerts(table) {
		for _, r := range a.Reasons {
			if r == reason {
				names = append(names, fmt.Sprintf("[%s](%s#%s)", a.Name, link, strings.ToLower(a.Name)))
			}
		}
	}
	if len(names) == 0 {
		return "none: it blocks the verdict only"
	}
	return strings.Join(names, ", ")
}

func label(r hazard.Reason) string {
	if r.Label == "" {
		return ""
	}
	return " (`" + r.Label + "`)"
}

func reasonsTable(table []hazard.Hazard, link string) string {
	var b strings.Builder
	b.WriteString("| `hazard` | blocker `reason` | means | alert |\n|---|---|---|---|\n")
	for _, r := range hazard.ExporterReasons {
		h := "`" + hazard.ExporterHazard + "`"
		if r.Name == "hazard_unproven" {
			h = "any"
		}
		fmt.Fprintf(&b, "| %s | `%s`%s | %s | %s |\n", h, r.Name, label(r), r.Summary, alertOf(table, r.Name, link))
	}
	for _, h := range table {
		for _, r := range h.Reasons {
			fmt.Fprintf(&b, "| `%s` | `%s`%s | %s | %s |\n", h.Name, r.Name, label(r), r.Summary, alertOf(table, r.Name, link))
		}
	}
	return b.String()
}

func hazardList(table []hazard.Hazard, link string) string {
	var b strings.Builder
	b.WriteString("| hazard | what must hold | read from | waiver key |\n|---|---|---|---|\n")
	for _, h := range table {
		from := []string{}
		for _, c := range h.Collectors {
			from = append(from, "collector `"+c+"`")
		}
		for _, s := range h.Settings {
			from = append(from, "setting `"+s+"`")
		}
		if len(h.Collectors) == 0 {
			for _, m := range h.Metrics {
				from = append(from, "`"+m+"`")
			}
		}
		waiver := "cannot be waived"
		if h.Waivable {
			waiver = "`waivers: {" + h.Name + ": \"why\"}`"
		}
		if h.Optional {
			waiver += "; optional: no agent data at all reads \"agents not monitored\""
		}
		fmt.Fprintf(&b, "| [`%s`](%s#hazard-%s) | %s | %s | %s |\n", h.Name, link, strings.ReplaceAll(h.Name, "_", "-"), h.Title, strings.Join(from, ", "), waiver)
	}
	return b.String()
}

func hazardsSection(table []hazard.Hazard) string {
	var b strings.Builder
	for _, h := range table {
		fmt.Fprintf(&b, "### Hazard: %s\n\n", strings.ReplaceAll(h.Name, "_", "-"))
		fmt.Fprintf(&b, "**%s.** %s\n\n", h.Title, h.Why)
		if len(h.Metrics) > 0 {
			ms := append([]string(nil), h.Metrics...)
			sort.Strings(ms)
			fmt.Fprintf(&b, "Reads: `%s`", strings.Join(ms, "`, `"))
			if len(h.Settings) > 0 {
				fmt.Fprintf(&b, " for the settings `%s`", strings.Join(h.Settings, "`, `"))
			}
			b.WriteString(".\n")
		}
		if h.Waivable {
			fmt.Fprintf(&b, "Waiver (config file): `waivers: {%s: \"the reason\"}`; the page, `check` and the dashboard then show \"waived: the reason\".\n", h.Name)
		}
		b.WriteString("\n| reason | what it means | what to do |\n|---|---|---|\n")
		for _, r := range h.Reasons {
			fmt.Fprintf(&b, "| `%s`%s | %s | %s |\n", r.Name, label(r), r.Summary, strings.ReplaceAll(r.Action, "|", "\\|"))
		}
		b.WriteString("\n")
	}
	return b.String()
}
