package grafana

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// rawPanel returns the committed panel titled title as generic JSON.
func rawPanel(t *testing.T, title string) map[string]any {
	t.Helper()
	var doc struct {
		Panels []map[string]any `json:"panels"`
	}
	if err := json.Unmarshal(committed(t), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Panels {
		if p["title"] == title && p["type"] != "row" {
			return p
		}
	}
	t.Fatalf("no panel titled %q", title)
	return nil
}

// linkURLs returns the data links' URLs of a panel: its defaults' and those
// of the override of column (empty: none).
func linkURLs(t *testing.T, p map[string]any, column string) []string {
	t.Helper()
	var out []string
	collect := func(v any) {
		links, _ := v.([]any)
		for _, l := range links {
			if u, ok := l.(map[string]any)["url"].(string); ok {
				out = append(out, u)
			}
		}
	}
	fc := p["fieldConfig"].(map[string]any)
	collect(fc["defaults"].(map[string]any)["links"])
	overrides, _ := fc["overrides"].([]any)
	for _, o := range overrides {
		o := o.(map[string]any)
		if o["matcher"].(map[string]any)["options"] != column {
			continue
		}
		for _, prop := range o["properties"].([]any) {
			prop := prop.(map[string]any)
			if prop["id"] == "links" {
				collect(prop["value"])
			}
		}
	}
	return out
}

// checkServerLink: a link opens this dashboard with the Server picker set to
// the value the link is on, and keeps the data source, zone and time range.
func checkServerLink(t *testing.T, where, link, value string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("%s: link %q: %v", where, link, err)
	}
	if u.Path != "/d/"+UID+"/" {
		t.Errorf("%s: link %q does not open this dashboard (uid %s)", where, link, UID)
	}
	for _, want := range []string{"var-" + instanceVar + "=" + value, "${" + datasourceVar + ":queryparam}", "${" + utcOffsetVar + ":queryparam}", "${__url_time_range}"} {
		if !strings.Contains(u.RawQuery, want) {
			t.Errorf("%s: link %q lacks %s", where, link, want)
		}
	}
}

// TestFleetRow: the first row shows the whole fleet whatever the Server
// picker says: servers by verdict, the commonest blockers in the table's
// words, the servers with waiting agents and every server, the last two
// linked to each server's own view, and when the window is usually open.
func TestFleetRow(t *testing.T) {
	d := loadCommitted(t)
	rows := d.rows(t)
	if rows[0].title != fleetRowTitle {
		t.Fatalf("first row %q, want the fleet", rows[0].title)
	}
	var titles []string
	for _, p := range rows[0].panels {
		titles = append(titles, p.Title)
		for _, q := range p.Targets {
			if strings.Contains(q.Expr, "$"+instanceVar) {
				t.Errorf("fleet panel %q reads only the picked servers:\n%s", p.Title, q.Expr)
			}
		}
	}
	want := []string{"Servers by verdict", "Most common blockers", "Agents waiting for a restart, per server", "Servers", "When the window is usually open: all servers (${" + utcOffsetVar + ":text})"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Fatalf("fleet panels %q, want %q", titles, want)
	}

	verdict := d.panel(t, "Servers by verdict")
	var exprs []string
	for _, q := range verdict.Targets {
		exprs = append(exprs, q.Expr)
	}
	for _, w := range []string{recSafe + `{job="officescan"} == 1`, recSafe + `{job="officescan"} == 0`, "unless on (instance, job) " + recSafe} {
		if !containsExpr(exprs, w) {
			t.Errorf("servers by verdict: no query has %q: %q", w, exprs)
		}
	}
	for _, e := range exprs {
		if !strings.HasSuffix(e, "or vector(0)") {
			t.Errorf("servers by verdict: %q reads nothing, not 0, when no server is in that state", e)
		}
	}

	blockers := d.panel(t, "Most common blockers")
	if len(blockers.Targets) != 1 || !strings.Contains(blockers.Targets[0].Expr, "topk(10, count by (hazard, reason) ("+recBlocker+`{job="officescan"} == 1))`) {
		t.Errorf("most common blockers: %+v, want the top 10 (hazard, reason) by servers", blockers.Targets)
	}
	reasons := append([]hazard.Reason{}, hazard.ExporterReasons...)
	for _, h := range hazard.Table {
		reasons = append(reasons, h.Reasons...)
	}
	for _, r := range reasons {
		if got, ok := blockers.overrideMapping(t, "Blocker", r.Name); !ok || got != r.Summary {
			t.Errorf("most common blockers: %s reads %q, want the table's %q", r.Name, got, r.Summary)
		}
		if got, ok := blockers.overrideMapping(t, "What to do", r.Name); !ok || got != r.Action {
			t.Errorf("most common blockers: %s's action reads %q, want the table's %q", r.Name, got, r.Action)
		}
	}
	if blockers.renamed("Value") != "Servers" {
		t.Errorf("most common blockers: the count is not the Servers column")
	}

	waiting := rawPanel(t, "Agents waiting for a restart, per server")
	links := linkURLs(t, waiting, "")
	if len(links) != 1 {
		t.Fatalf("agents waiting per server: links %q, want one", links)
	}
	checkServerLink(t, "agents waiting per server", links[0], "${__field.labels.instance}")
	if w := d.panel(t, "Agents waiting for a restart, per server"); !strings.Contains(w.Targets[0].Expr, recWaitingTarget+`{job="officescan"} > 0`) {
		t.Errorf("agents waiting per server reads %q, want the rules' per-target aggregate, never raw agent series", w.Targets[0].Expr)
	}

	servers := d.panel(t, "Servers")
	links = linkURLs(t, rawPanel(t, "Servers"), "Server")
	if len(links) != 1 {
		t.Fatalf("servers table: links on the Server column %q, want one", links)
	}
	checkServerLink(t, "servers table", links[0], "${__value.raw}")
	for label, column := range map[string]string{"instance": "Server", "Value #A": "Verdict", "Value #B": "Blockers", "Value #C": "Agents waiting"} {
		if got := servers.renamed(label); got != column {
			t.Errorf("servers table: %s is column %q, want %q", label, got, column)
		}
	}
	for value, want := range map[string]string{"1": "SAFE", "0": "BLOCKED"} {
		if got, ok := servers.overrideMapping(t, "Verdict", value); !ok || got != want {
			t.Errorf("servers table: verdict %s reads %q, want %q", value, got, want)
		}
	}
}

// TestWindowHeatmaps: a heatmap for the fleet and one for the servers
// picked, both from the hourly shares, laid out as hours by weekdays.
func TestWindowHeatmaps(t *testing.T) {
	d := loadCommitted(t)
	server := d.panel(t, "When the window is usually open: $"+instanceVar+" (${"+utcOffsetVar+":text})")
	fleet := d.panel(t, "When the window is usually open: all servers (${"+utcOffsetVar+":text})")
	for name, p := range map[string]jsonPanel{"server": server, "fleet": fleet} {
		if len(p.Targets) != 1 {
			t.Fatalf("%s heatmap: %d queries", name, len(p.Targets))
		}
		e := p.Targets[0].Expr
		for _, want := range []string{recSafeHourly + `{job="officescan"`, "[1h] offset 1ms", "time() - 7200 + 60 * $" + utcOffsetVar, "[4w:1h]"} {
			if !strings.Contains(e, want) {
				t.Errorf("%s heatmap lacks %q:\n%s", name, want, e)
			}
		}
		if p.Transformations[0].ID != "groupingToMatrix" || p.renamed(matrixRowField) != "Hour" {
			t.Errorf("%s heatmap: transformations %+v, want grouping to matrix, then the hour column named Hour", name, p.Transformations)
		}
		days := []string{}
		for _, n := range []string{"1", "2", "3", "4", "5", "6", "0"} {
			days = append(days, p.renamed(n))
		}
		if strings.Join(days, " ") != "Mon Tue Wed Thu Fri Sat Sun" {
			t.Errorf("%s heatmap: day columns %v", name, days)
		}
	}
	if !strings.Contains(server.Targets[0].Expr, `instance=~"$`+instanceVar+`"`) {
		t.Error("the server heatmap does not follow the Server picker")
	}
}
