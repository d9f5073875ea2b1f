//go:build !windows

// The docs are checked by promtool, amtool and the Linux exporter, programs
// that run on this side of Wine; the docs are the same for every OS.

// Package docs checks the configuration examples in docs/*.md with the real
// tools that read them, so that a snippet a reader copies is one Prometheus,
// Alertmanager or the exporter accepts.
//
// A fenced yaml block is checked when its first line is a marker:
//
//	# promtool: config             promtool check config (rule files it names are checked too)
//	# promtool: rules              promtool check rules
//	# promtool: file_sd            a file_sd target file, checked by promtool check config through a job that reads it
//	# amtool: config               amtool check-config
//	# officescan_exporter: config  the exporter loads it as --config.file (every key a flag, every value parsed)
//
// A second comment line naming a file ("# officescan-central.rules.yml")
// puts the snippet under that name beside the page's other snippets, so a
// config that loads it has it checked too. Every ```promql block must parse
// with Prometheus' parser, and relative links must reach existing files and
// headings.
//
// The marker stays in the copied snippet as a harmless comment. Blocks
// without one are prose-level fragments (a single alert, a flag list) and
// are not checked. The tools come from scripts/deps.sh; a missing tool fails.
package docs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	promql "github.com/prometheus/prometheus/promql/parser"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
)

// block is one fenced code block of a markdown file.
type block struct {
	line int // line of the opening fence
	lang string
	body []string // with the fence's indentation removed
}

// snippet is one tagged yaml block.
type snippet struct {
	file string // relative to the repository, e.g. docs/scaling.md
	line int    // line of the opening fence
	kind string // the marker, e.g. "promtool: config"
	text string
	// name is the file name a second comment line gives the snippet
	// ("# officescan-central.rules.yml"); other snippets of the same page
	// that refer to that name find it beside them.
	name string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d (%s)", s.file, s.line, s.kind) }

var (
	fenceRE  = regexp.MustCompile("^([ \t]*)(```+|~~~+)[ \t]*([A-Za-z0-9_-]*)")
	markerRE = regexp.MustCompile(`^#\s*(promtool|amtool|officescan_exporter):\s*([a-z_-]+)\s*$`)
	nameRE   = regexp.MustCompile(`^#\s*([A-Za-z0-9_.-]+\.ya?ml)\s*$`)
)

// blocks returns the fenced code blocks of one markdown file. A fence
// indented under a list item has that indentation removed from its lines.
func blocks(file string, data []byte) ([]block, error) {
	var (
		out    []block
		cur    *block
		fence  string
		indent int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur == nil {
			if m := fenceRE.FindStringSubmatch(line); m != nil {
				cur, indent, fence = &block{line: n, lang: strings.ToLower(m[3])}, len(m[1]), m[2]
			}
			continue
		}
		if trimmed := strings.TrimLeft(line, " \t"); strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
			out = append(out, *cur)
			cur = nil
			continue
		}
		// Remove the fence's indentation, no more.
		cut := 0
		for cut < indent && cut < len(line) && (line[cut] == ' ' || line[cut] == '\t') {
			cut++
		}
		cur.body = append(cur.body, line[cut:])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block never closed", file, cur.line)
	}
	return out, nil
}

// extract returns the tagged yaml blocks of one markdown file.
func extract(file string, data []byte) ([]snippet, error) {
	all, err := blocks(file, data)
	if err != nil {
		return nil, err
	}
	var out []snippet
	for _, b := range all {
		if b.lang != "yaml" && b.lang != "yml" || len(b.body) == 0 {
			continue
		}
		if m := markerRE.FindStringSubmatch(strings.TrimSpace(b.body[0])); m != nil {
			sn := snippet{file: file, line: b.line, kind: m[1] + ": " + m[2], text: strings.Join(b.body, "\n") + "\n"}
			if len(b.body) > 1 {
				if n := nameRE.FindStringSubmatch(strings.TrimSpace(b.body[1])); n != nil {
					sn.name = n[1]
				}
			}
			out = append(out, sn)
		}
	}
	return out, nil
}

// queries splits a promql block into its expressions: a blank line or a
// comment line ends one, continuation lines join it.
func queries(b block) (exprs []string, lines []int) {
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 {
			exprs, lines = append(exprs, strings.Join(cur, "\n")), append(lines, start)
		}
		cur = nil
	}
	for i, l := range b.body {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			flush()
			continue
		}
		if len(cur) == 0 {
			start = b.line + 1 + i
		}
		cur = append(cur, l)
	}
	flush()
	return exprs, lines
}

// checker runs one kind of snippet through its tool; it returns the tool's
// output and an error when the tool rejects the snippet.
type checker func(t *testing.T, dir, path string) ([]byte, error)

// workspace is a folder holding the snippet, with the project's rules and
// the page's named snippets beside it, so that a config naming
// officescan.rules.yml or a rules file shown on the same page has that file
// checked too.
func workspace(t *testing.T, root, name, text string, beside ...snippet) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for _, b := range beside {
		if b.name == "" || b.name == name {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, b.name), []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := os.ReadFile(filepath.Join(root, "alerts", "officescan.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "officescan.rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func run(dir, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

func checkers(t *testing.T, root string) map[string]checker {
	promtool := e2eutil.Tool(t, "promtool")
	amtool := e2eutil.Tool(t, "amtool")
	exporter := e2eutil.Build(t, "cmd/officescan_exporter")
	return map[string]checker{
		"promtool: config": func(t *testing.T, dir, path string) ([]byte, error) {
			return run(dir, promtool, "check", "config", path)
		},
		"promtool: rules": func(t *testing.T, dir, path string) ([]byte, error) {
			return run(dir, promtool, "check", "rules", path)
		},
		// promtool has no command for a target file alone; check config
		// validates every target file a file_sd job's pattern matches.
		"promtool: file_sd": func(t *testing.T, dir, path string) ([]byte, error) {
			wrapper := filepath.Join(dir, "wrapper.prometheus.yml")
			cfg := fmt.Sprintf("scrape_configs:\n  - job_name: file_sd_snippet\n    file_sd_configs:\n      - files: [%q]\n", path)
			if err := os.WriteFile(wrapper, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := run(dir, promtool, "check", "config", wrapper)
			if err == nil && bytes.Contains(out, []byte("WARNING")) {
				err = fmt.Errorf("promtool warned")
			}
			return out, err
		},
		"amtool: config": func(t *testing.T, dir, path string) ([]byte, error) {
			return run(dir, amtool, "check-config", path)
		},
		// The exporter loads the config file before it parses the command
		// line, so any command proves the file loads and every value in it
		// parses as its flag's type. settings diff of a file with itself
		// exits 0 and touches nothing else on the machine.
		"officescan_exporter: config": func(t *testing.T, dir, path string) ([]byte, error) {
			ini := filepath.Join(dir, "same.ini")
			if err := os.WriteFile(ini, []byte("[Section]\nKey=1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return run(dir, exporter, "--config.file="+path, "settings", "diff", ini, ini)
		},
	}
}

// doc is one docs/*.md: its path from the repository's top and its text.
type doc struct {
	rel  string
	data []byte
}

// readDocs reads every docs/*.md, in the order of their names.
func readDocs(t *testing.T, root string) []doc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var docs []doc
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("reading the docs: %v", err)
		}
		rel, _ := filepath.Rel(root, f)
		docs = append(docs, doc{rel, data})
	}
	return docs
}

func docsSnippets(t *testing.T, root string) []snippet {
	t.Helper()
	var all []snippet
	for _, d := range readDocs(t, root) {
		data, rel := d.data, d.rel
		s, err := extract(filepath.ToSlash(rel), data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s...)
	}
	return all
}

func TestDocsSnippets(t *testing.T) {
	root := e2eutil.Root(t)
	snippets := docsSnippets(t, root)
	check := checkers(t, root)
	count := map[string]int{}
	for _, s := range snippets {
		t.Run(fmt.Sprintf("%s:%d", s.file, s.line), func(t *testing.T) {
			c, ok := check[s.kind]
			if !ok {
				t.Fatalf("%s: unknown marker %q (known: promtool: config|rules|file_sd, amtool: config, officescan_exporter: config)", s, s.kind)
			}
			var page []snippet
			for _, o := range snippets {
				if o.file == s.file && o != s {
					page = append(page, o)
				}
			}
			dir, path := workspace(t, root, "snippet.yml", s.text, page...)
			out, err := c(t, dir, path)
			if err != nil {
				t.Fatalf("%s is rejected: %v\n%s\n--- snippet ---\n%s", s, err, out, s.text)
			}
			count[s.kind]++
		})
	}
	// The pages that promise checked examples must keep having them: a
	// marker typo would otherwise check nothing and pass.
	for _, want := range []struct {
		file, kind string
		min        int
	}{
		{"docs/scaling.md", "promtool: config", 4},
		{"docs/scaling.md", "promtool: rules", 1},
		{"docs/scaling.md", "promtool: file_sd", 1},
		{"docs/install-windows.md", "officescan_exporter: config", 2},
		{"docs/upgrade-procedure.md", "amtool: config", 1},
		{"docs/collector.dbserver.md", "promtool: rules", 1},
		{"docs/collector.autopcc.md", "promtool: rules", 1},
	} {
		n := 0
		for _, s := range snippets {
			if s.file == want.file && s.kind == want.kind {
				n++
			}
		}
		if n < want.min {
			t.Errorf("%s has %d %q snippets, want at least %d", want.file, n, want.kind, want.min)
		}
	}
	t.Logf("checked snippets by kind: %v", count)
}

// Each checker must be able to fail: a broken snippet of every kind is
// rejected, so a passing TestDocsSnippets means something.
func TestCheckersRejectBrokenSnippets(t *testing.T) {
	root := e2eutil.Root(t)
	check := checkers(t, root)
	for kind, text := range map[string]string{
		"promtool: config":            "# promtool: config\nglobal:\n  scrape_interval: banana\n",
		"promtool: rules":             "# promtool: rules\ngroups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n",
		"promtool: file_sd":           "# promtool: file_sd\n- targets: ['a:9745']\n  lables: {site: x}\n",
		"amtool: config":              "# amtool: config\nroute:\n  receiver: nobody\nreceivers: []\n",
		"officescan_exporter: config": "# officescan_exporter: config\ncollector.dbserver.window: soon\n",
	} {
		t.Run(kind, func(t *testing.T) {
			dir, path := workspace(t, root, "snippet.yml", text)
			if out, err := check[kind](t, dir, path); err == nil {
				t.Fatalf("%s accepted a broken snippet:\n%s", kind, out)
			}
		})
	}
	// A rules file the config names is checked as well.
	dir, path := workspace(t, root, "snippet.yml", "# promtool: config\nrule_files: [broken.rules.yml]\n")
	if err := os.WriteFile(filepath.Join(dir, "broken.rules.yml"), []byte("groups: [{name: x, rules: [{record: x, expr: 'sum('}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := check["promtool: config"](t, dir, path); err == nil {
		t.Fatalf("a config naming a broken rules file passed:\n%s", out)
	}
}

func TestExtract(t *testing.T) {
	md := "text\n" +
		"```yaml\n# promtool: rules\n# central.rules.yml\ngroups: []\n```\n" +
		"```yaml\nno: marker\n```\n" +
		"```sh\n# promtool: config\n```\n" +
		"1. a step\n\n   ```yaml\n   # amtool: config\n   route: {}\n   ```\n" +
		"````yml\n# officescan_exporter: config\nx: \"```\"\n````\n"
	got, err := extract("x.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := []snippet{
		{"x.md", 2, "promtool: rules", "# promtool: rules\n# central.rules.yml\ngroups: []\n", "central.rules.yml"},
		{"x.md", 15, "amtool: config", "# amtool: config\nroute: {}\n", ""},
		{"x.md", 19, "officescan_exporter: config", "# officescan_exporter: config\nx: \"```\"\n", ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Fatalf("extract:\n got %q\nwant %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("snippet %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := extract("y.md", []byte("```yaml\nopen: forever\n")); err == nil {
		t.Error("an unclosed block was not reported")
	}
}

// Every PromQL example in the docs parses with Prometheus' own parser.
func TestDocsPromQLParses(t *testing.T) {
	root := e2eutil.Root(t)
	p := promql.NewParser(promql.Options{})
	n := 0
	for _, d := range readDocs(t, root) {
		data, rel := d.data, d.rel
		bs, err := blocks(rel, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.lang != "promql" {
				continue
			}
			exprs, lines := queries(b)
			for i, e := range exprs {
				n++
				if _, err := p.ParseExpr(e); err != nil {
					t.Errorf("%s:%d: %v\n%s", rel, lines[i], err, e)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d PromQL examples found in docs/*.md; is the promql block parsing broken?", n)
	}
	t.Logf("%d PromQL examples parse", n)
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile("^#{1,6}\\s+(.*?)\\s*$")
	slugDrop  = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
)

// anchors returns the GitHub anchors of a markdown file's headings (outside
// code blocks): lower case, punctuation dropped, spaces to hyphens.
func anchors(data []byte) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(data), "\n") {
		if fenceRE.MatchString(line) {
			inCode = !inCode
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil && !inCode {
			out[strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")] = true
		}
	}
	return out
}

// Relative links between the docs (and to files of the repository) point to
// files that exist, and to headings that exist.
func TestDocsLinksResolve(t *testing.T) {
	root := e2eutil.Root(t)
	n := 0
	for _, d := range readDocs(t, root) {
		data, rel, f := d.data, d.rel, filepath.Join(root, d.rel)
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				n++
				path, anchor, _ := strings.Cut(target, "#")
				dest := f
				if path != "" {
					dest = filepath.Join(filepath.Dir(f), filepath.FromSlash(path))
				}
				destData, err := os.ReadFile(dest)
				if err != nil {
					if st, serr := os.Stat(dest); serr == nil && st.IsDir() && anchor == "" {
						continue
					}
					t.Errorf("%s:%d: link %q: %v", rel, i+1, target, err)
					continue
				}
				if anchor != "" && strings.HasSuffix(dest, ".md") && !anchors(destData)[anchor] {
					t.Errorf("%s:%d: link %q: no heading with anchor #%s in %s", rel, i+1, target, anchor, filepath.Base(dest))
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d relative links found; is the link parsing broken?", n)
	}
	t.Logf("%d relative links resolve", n)
}
