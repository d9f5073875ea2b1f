package grafana

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// repoRoot is the module root as seen from this package's tests.
const repoRoot = ".."

// query is one PromQL expression of the committed dashboard and where it is.
type query struct {
	where string // panel title and refId, annotation or variable name
	panel string // panel title; empty for annotations and variables
	expr  string // as committed, template variables still in it
}

var labelValuesRe = regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)

// dashboardQueries lists every PromQL expression in the committed file:
// panel targets, annotations, and the series selector of label_values()
// variables (the function itself is Grafana's, not PromQL).
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	d := loadCommitted(t)
	var qs []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, query{where: fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), panel: p.Title, expr: tg.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		qs = append(qs, query{where: fmt.Sprintf("annotation %q", a.Name), expr: a.Expr})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesRe.FindStringSubmatch(v.Query)
		if m == nil {
			t.Fatalf("variable %q: query %q is not label_values(selector, label)", v.Name, v.Query)
		}
		qs = append(qs, query{where: fmt.Sprintf("variable %q", v.Name), expr: m[1]})
	}
	if len(qs) < 15 {
		t.Fatalf("found only %d queries in %s; the walk is broken", len(qs), FileName)
	}
	return qs
}

// templateValues are what Grafana puts in place of its variables, as far as
// PromQL syntax goes.
var templateValues = map[string]string{
	instanceVar:          ".*",
	datasourceVar:        "prometheus",
	utcOffsetVar:         "0",
	"__rate_interval":    "1m",
	"__interval":         "1m",
	"__range":            "1h",
	"__range_s":          "3600",
	"__interval_ms":      "60000",
	"__rate_interval_ms": "60000",
}

var templateVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// substitute replaces Grafana's template variables; an unknown one is an
// error, so a new variable cannot slip through unchecked.
func substitute(expr string) (string, error) { return substituteWith(expr, templateValues) }

// substituteWith replaces the template variables with values.
func substituteWith(expr string, values map[string]string) (string, error) {
	var unknown []string
	out := templateVarRe.ReplaceAllStringFunc(expr, func(m string) string {
		sub := templateVarRe.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, m)
			return m
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown template variable(s) %v", unknown)
	}
	return out, nil
}

var promParser = promql.NewParser(promql.Options{})

// metricNames returns the metric names an expression reads.
func metricNames(expr promql.Expr) []string {
	var names []string
	promql.Inspect(expr, func(n promql.Node, _ []promql.Node) error {
		vs, ok := n.(*promql.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		names = append(names, name)
		return nil
	})
	return names
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string            `yaml:"record"`
			Alert  string            `yaml:"alert"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// loadRules reads every alerts/*.rules.yml.
func loadRules(t *testing.T) (files []string, rules []ruleFile) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "alerts", "*.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no alerts/*.rules.yml: the dashboard's verdict and blocker panels read recording rules from there")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := yaml.Unmarshal(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rules = append(rules, rf)
	}
	return files, rules
}

// recordedNames lists the metric names the rule files record.
func recordedNames(t *testing.T) map[string]bool {
	t.Helper()
	_, rules := loadRules(t)
	names := map[string]bool{}
	for _, rf := range rules {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names[r.Record] = true
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("the rule files record nothing")
	}
	return names
}

// prometheusNames are the series Prometheus itself makes: `up` per target,
// ALERTS per alert.
var prometheusNames = map[string]bool{"up": true, "ALERTS": true}

// exporterSourceNames lists the metric names the exporter's Go source
// defines: every prometheus.BuildFQName(...), every descriptor or *Opts
// literal with a constant name, and the build-info collector, with the
// string constants they use resolved across the module's packages.
// unresolved lists definitions whose name is not constant.
func exporterSourceNames(t *testing.T) (names map[string]string, unresolved []string) {
	t.Helper()
	module := modulePath(t)
	fset := token.NewFileSet()
	type file struct {
		dir     string
		f       *ast.File
		imports map[string]string // local name -> import path
	}
	var files []file
	consts := map[string]map[string]ast.Expr{} // dir -> const name -> value
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch base := d.Name(); {
			case path == repoRoot:
			case strings.HasPrefix(base, ".") || base == "testdata" || base == "grafana" || base == "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(repoRoot, filepath.Dir(path))
		fl := file{dir: filepath.ToSlash(dir), f: f, imports: map[string]string{}}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			fl.imports[local] = p
		}
		if consts[fl.dir] == nil {
			consts[fl.dir] = map[string]ast.Expr{}
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						consts[fl.dir][n.Name] = vs.Values[i]
					}
				}
			}
		}
		files = append(files, fl)
		return nil
	})
	if err != nil {
		t.Fatalf("reading the exporter's source: %v", err)
	}

	// eval resolves a constant string expression as seen from dir.
	var eval func(e ast.Expr, fl file) (string, bool)
	evalIn := func(dir, name string, fl file) (string, bool) {
		v, ok := consts[dir][name]
		if !ok {
			return "", false
		}
		// A constant's own identifiers belong to its package; only
		// same-package references are followed there.
		return eval(v, file{dir: dir, imports: fl.imports})
	}
	eval = func(e ast.Expr, fl file) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.ParenExpr:
			return eval(e.X, fl)
		case *ast.Ident:
			return evalIn(fl.dir, e.Name, fl)
		case *ast.SelectorExpr:
			x, ok := e.X.(*ast.Ident)
			if !ok {
				return "", false
			}
			p, ok := fl.imports[x.Name]
			if !ok || !strings.HasPrefix(p, module+"/") {
				return "", false
			}
			return evalIn(strings.TrimPrefix(p, module+"/"), e.Sel.Name, fl)
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "", false
			}
			a, ok1 := eval(e.X, fl)
			b, ok2 := eval(e.Y, fl)
			return a + b, ok1 && ok2
		}
		return "", false
	}
	fqName := func(parts ...string) string {
		var nonEmpty []string
		for _, p := range parts {
			if p != "" {
				nonEmpty = append(nonEmpty, p)
			}
		}
		return strings.Join(nonEmpty, "_")
	}

	names = map[string]string{}
	for _, fl := range files {
		add := func(n ast.Node, name string, ok bool) {
			pos := fset.Position(n.Pos())
			where := fmt.Sprintf("%s:%d", filepath.ToSlash(pos.Filename), pos.Line)
			if ok {
				names[name] = where
			} else {
				unresolved = append(unresolved, where)
			}
		}
		ast.Inspect(fl.f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, _ := sel.X.(*ast.Ident)
				switch {
				case sel.Sel.Name == "BuildFQName" && len(n.Args) == 3:
					ns, ok1 := eval(n.Args[0], fl)
					sub, ok2 := eval(n.Args[1], fl)
					nm, ok3 := eval(n.Args[2], fl)
					add(n, fqName(ns, sub, nm), ok1 && ok2 && ok3)
				case sel.Sel.Name == "NewDesc" && len(n.Args) > 0:
					if _, isCall := n.Args[0].(*ast.CallExpr); !isCall {
						nm, ok := eval(n.Args[0], fl)
						add(n, nm, ok)
					}
				case sel.Sel.Name == "NewCollector" && x != nil &&
					fl.imports[x.Name] == "github.com/prometheus/client_golang/prometheus/collectors/version" && len(n.Args) == 1:
					nm, ok := eval(n.Args[0], fl)
					add(n, nm+"_build_info", ok)
				}
			case *ast.CompositeLit:
				sel, ok := n.Type.(*ast.SelectorExpr)
				if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
					return true
				}
				parts := map[string]string{}
				resolved := true
				for _, el := range n.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					k, _ := kv.Key.(*ast.Ident)
					if k == nil || (k.Name != "Namespace" && k.Name != "Subsystem" && k.Name != "Name") {
						continue
					}
					v, ok := eval(kv.Value, fl)
					resolved = resolved && ok
					parts[k.Name] = v
				}
				if _, named := parts["Name"]; named {
					add(n, fqName(parts["Namespace"], parts["Subsystem"], parts["Name"]), resolved)
				}
			}
			return true
		})
	}
	if len(names) == 0 {
		t.Fatal("found no metric definitions in the exporter's source; the scan is broken")
	}
	return names, unresolved
}

func modulePath(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

func TestEveryQueryParses(t *testing.T) {
	for _, q := range dashboardQueries(t) {
		s, err := substitute(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		if _, err := promParser.ParseExpr(s); err != nil {
			t.Errorf("%s does not parse as PromQL: %v\n%s", q.where, err, s)
		}
	}
}

// TestSubstituteRejectsUnknownVariables keeps the check above honest: a
// variable the test does not know must fail, not pass through.
func TestSubstituteRejectsUnknownVariables(t *testing.T) {
	if _, err := substitute(`up{instance=~"$server"}`); err == nil {
		t.Error("an unknown $server was accepted")
	}
	got, err := substitute(`rate(x{instance=~"${instance}"}[$__rate_interval])`)
	if err != nil || got != `rate(x{instance=~".*"}[1m])` {
		t.Errorf("substitute = %q, %v", got, err)
	}
}

func TestQueriesNameOnlyDefinedMetrics(t *testing.T) {
	recorded := recordedNames(t)
	exported, unresolved := exporterSourceNames(t)
	for _, u := range unresolved {
		t.Logf("metric definition with a non-constant name, not checked: %s", u)
	}
	used := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		s, err := substitute(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		expr, err := promParser.ParseExpr(s)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		for _, name := range metricNames(expr) {
			used[name] = true
			if _, ok := exported[name]; !ok && !recorded[name] && !prometheusNames[name] {
				t.Errorf("%s reads %s, which neither the exporter (%d metrics found in its source) nor alerts/*.rules.yml defines", q.where, name, len(exported))
			}
		}
	}
	t.Logf("the dashboard reads %d metrics: %v", len(used), slices.Sorted(maps.Keys(used)))
}

// TestSourceScanFindsDefinitions checks the scan above against the
// definitions it must see, so that a broken scan cannot pass everything.
func TestSourceScanFindsDefinitions(t *testing.T) {
	exported, _ := exporterSourceNames(t)
	for _, name := range []string{"officescan_dbserver_cpu_utilization_ratio", "officescan_scrape_collector_success", "officescan_exporter_build_info"} {
		if _, ok := exported[name]; !ok {
			t.Errorf("the source scan missed %s; it found %v", name, slices.Sorted(maps.Keys(exported)))
		}
	}
}

// TestBlockerReasonsExplained: every reason the rules record reads, in the
// Active blockers table, in the table of hazards' words, and the table
// explains no reason the rules never record.
func TestBlockerReasonsExplained(t *testing.T) {
	files, rules := loadRules(t)
	reasons := map[string]bool{}
	for _, rf := range rules {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record == recBlocker {
					reasons[r.Labels["reason"]] = true
				}
			}
		}
	}
	if len(reasons) == 0 {
		t.Fatalf("%v record no %s", files, recBlocker)
	}
	words := map[string]hazard.Reason{}
	for _, r := range hazard.ExporterReasons {
		words[r.Name] = r
	}
	for _, h := range hazard.Table {
		for _, r := range h.Reasons {
			words[r.Name] = r
		}
	}
	p := loadCommitted(t).panel(t, "Active blockers")
	for r := range reasons {
		w, ok := words[r]
		if !ok {
			t.Errorf("%v record the blocker reason %q, which the table of hazards does not word", files, r)
			continue
		}
		if got, ok := p.overrideMapping(t, "Blocker", r); !ok || got != w.Summary {
			t.Errorf("Active blockers: %s reads %q, want %q", r, got, w.Summary)
		}
		if got, ok := p.overrideMapping(t, "What to do", r); !ok || got != w.Action {
			t.Errorf("Active blockers: %s's action reads %q, want %q", r, got, w.Action)
		}
	}
	for r := range words {
		if !reasons[r] {
			t.Errorf("the table words reason %q, which no rule in %v records", r, files)
		}
	}
}

// TestRecordedSeriesExist: the series the dashboard reads by name are
// recorded by alerts/*.rules.yml.
func TestRecordedSeriesExist(t *testing.T) {
	recorded := recordedNames(t)
	for _, name := range []string{recSafe, recClear, recBlocker, recWaitingTarget, recAgentsCount, recAgentsWaiting} {
		if !recorded[name] {
			t.Errorf("alerts/*.rules.yml record no %s", name)
		}
	}
}
