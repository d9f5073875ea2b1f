// Package grafanatest reads the committed dashboard the way the tests need
// it: every PromQL expression and where it stands, Grafana's template
// variables replaced, the metric names each reads, the names the rule files
// record and the names the exporter's source defines.
//
// Both the dashboard's unit tests (package grafana) and the live test that
// runs every query on real Prometheus servers (e2e/dashboard) read the
// dashboard with it, so the two cannot disagree on what a query is. It does
// not import package grafana: grafana's own tests import it.
package grafanatest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	promql "github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Query is one PromQL expression of the dashboard and where it is.
type Query struct {
	Where string // panel title and refId, annotation or variable name
	Panel string // panel title; empty for annotations and variables
	Expr  string // as committed, template variables still in it

	RefID   string // a panel target's refId
	Instant bool   // a panel target Grafana runs as an instant query
	// Annotation is the annotation's name, Step its step as written (may be
	// empty): both empty for panels and variables.
	Annotation, Step string
	// Variable is a label_values() variable's name and Label the label
	// whose values it lists; Expr is then its series selector.
	Variable, Label string
}

var labelValuesRe = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// minQueries is fewer queries than the dashboard has ever had: a walk that
// finds fewer is broken, and would let every check over the queries pass.
const minQueries = 15

// Queries lists every PromQL expression in a dashboard's JSON: panel
// targets, annotations, and the series selector of label_values()
// variables (the function itself is Grafana's, not PromQL).
func Queries(raw []byte) ([]Query, error) {
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID   string `json:"refId"`
				Expr    string `json:"expr"`
				Instant bool   `json:"instant"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Name string `json:"name"`
				Expr string `json:"expr"`
				Step string `json:"step"`
			} `json:"list"`
		} `json:"annotations"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Name  string `json:"name"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decoding the dashboard: %w", err)
	}
	var qs []Query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, Query{Where: fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), Panel: p.Title, Expr: tg.Expr,
				RefID: tg.RefID, Instant: tg.Instant})
		}
	}
	for _, a := range d.Annotations.List {
		qs = append(qs, Query{Where: fmt.Sprintf("annotation %q", a.Name), Expr: a.Expr, Annotation: a.Name, Step: a.Step})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesRe.FindStringSubmatch(v.Query)
		if m == nil {
			return nil, fmt.Errorf("variable %q: query %q is not label_values(selector, label)", v.Name, v.Query)
		}
		qs = append(qs, Query{Where: fmt.Sprintf("variable %q", v.Name), Expr: m[1], Variable: v.Name, Label: m[2]})
	}
	if len(qs) < minQueries {
		return nil, fmt.Errorf("found only %d queries in the dashboard; the walk is broken", len(qs))
	}
	return qs, nil
}

// ReadQueries reads the dashboard file at path and lists its queries.
func ReadQueries(path string) ([]Query, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the dashboard: %w", err)
	}
	qs, err := Queries(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}

// TemplateValues are what Grafana puts in place of its variables, as far as
// PromQL syntax goes. The first three are the dashboard's own variables
// (grafana's datasourceVar, instanceVar and utcOffsetVar; grafana's tests
// check the names), the rest Grafana's built-in ones.
var TemplateValues = map[string]string{
	"instance":           ".*",
	"datasource":         "prometheus",
	"utc_offset":         "0",
	"__rate_interval":    "1m",
	"__interval":         "1m",
	"__range":            "1h",
	"__range_s":          "3600",
	"__interval_ms":      "60000",
	"__rate_interval_ms": "60000",
}

// NotMonitored is the value the agents panels show as "agents not
// monitored" when no agent reports at all (grafana's notMonitored; grafana's
// tests check it).
const NotMonitored = -1

var templateVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Substitute replaces Grafana's template variables with TemplateValues; an
// unknown one is an error, so a new variable cannot slip through unchecked.
func Substitute(expr string) (string, error) { return SubstituteWith(expr, TemplateValues) }

// SubstituteWith replaces the template variables with values.
func SubstituteWith(expr string, values map[string]string) (string, error) {
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

// ParseExpr parses a PromQL expression (template variables replaced).
func ParseExpr(expr string) (promql.Expr, error) { return promParser.ParseExpr(expr) }

// MetricNames returns the metric names an expression reads.
func MetricNames(expr promql.Expr) []string {
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

// RuleFile is the part of a Prometheus rule file the tests read.
type RuleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string            `yaml:"record"`
			Alert  string            `yaml:"alert"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// LoadRules reads every alerts/*.rules.yml below the repository's top
// folder root.
func LoadRules(root string) (files []string, rules []RuleFile, err error) {
	files, err = filepath.Glob(filepath.Join(root, "alerts", "*.rules.yml"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing the rule files: %w", err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no %s: the dashboard's verdict and blocker panels read recording rules from there",
			filepath.Join(root, "alerts", "*.rules.yml"))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the rules: %w", err)
		}
		var rf RuleFile
		if err := yaml.Unmarshal(b, &rf); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		rules = append(rules, rf)
	}
	return files, rules, nil
}

// RecordedNames lists the metric names the rule files below root record.
func RecordedNames(root string) (map[string]bool, error) {
	files, rules, err := LoadRules(root)
	if err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("%v record nothing", files)
	}
	return names, nil
}

// PrometheusNames are the series Prometheus itself makes: `up` per target,
// ALERTS per alert.
var PrometheusNames = map[string]bool{"up": true, "ALERTS": true}

// ExporterSourceNames lists the metric names the exporter's Go source below
// root defines, each with where: every prometheus.BuildFQName(...), every
// descriptor or *Opts literal with a constant name, and the build-info
// collector, with the string constants they use resolved across the
// module's packages. unresolved lists definitions whose name is not
// constant.
func ExporterSourceNames(root string) (names map[string]string, unresolved []string, err error) {
	module, err := modulePath(root)
	if err != nil {
		return nil, nil, err
	}
	fset := token.NewFileSet()
	type file struct {
		dir     string
		f       *ast.File
		imports map[string]string // local name -> import path
	}
	var files []file
	consts := map[string]map[string]ast.Expr{} // dir -> const name -> value
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch base := d.Name(); {
			case path == root:
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
		dir, _ := filepath.Rel(root, filepath.Dir(path))
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
		return nil, nil, fmt.Errorf("reading the exporter's source: %w", err)
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
		return nil, nil, fmt.Errorf("found no metric definitions in the exporter's source below %s; the scan is broken", root)
	}
	return names, unresolved, nil
}

// modulePath reads the module's path from root's go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("reading the module path: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "module "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return "", fmt.Errorf("%s names no module", f.Name())
}
