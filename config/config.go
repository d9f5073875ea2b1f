// Package config reads the --config.file YAML file.
//
// The file has three reserved keys: server_dir, settings (the console
// setting mapping, see the settings collector) and waivers (hazards that do
// not apply to this server, each with the reason why; see Waiver). Every
// other key names a
// command-line flag, nested or dotted (`web: {listen-address: ":9799"}` or
// `web.listen-address: ":9799"`), and becomes that flag's default, so a flag
// given on the command line wins over the file. Anything the exporter does not
// know is an error naming the file and line, so a typo never silently falls
// back to a default.
//
// WriteSetting (write.go) maps one setting in a config file in place, for
// `settings learn` and `settings diff --write`.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"go.yaml.in/yaml/v3"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/internal/regularfile"
)

// MaxSize caps the config file; anything larger is not a config file.
const MaxSize = 1 << 20

// Setting maps one console setting to a key of an ini file.
type Setting struct {
	// File is relative to the server folder, or absolute.
	File           string
	Section        string
	Key            string
	EnabledValues  []string
	DisabledValues []string
	// Source is "file:line" of the mapping, for messages.
	Source string
}

// FlagValue is a flag default given in the file.
type FlagValue struct {
	Name   string
	Values []string
	Source string
}

// Waiver leaves one hazard out of the verdict, on purpose and visibly: the
// exporter exports it as officescan_hazard_waived{hazard,reason}, and the
// verdict shows it. It is written in the file as
//
//	waivers:
//	  dbserver: "this server's database is SQL Server, not DbServer.exe"
//
// Switching a collector off is never a waiver.
type Waiver struct {
	// Hazard is one of hazard.WaivableNames().
	Hazard string
	// Reason says why the hazard does not apply to this server; never empty.
	Reason string
	// Source is "file:line" of the waiver, for messages.
	Source string
}

// File is a parsed config file.
type File struct {
	Path      string
	ServerDir string
	Settings  map[string]Setting
	// Waivers are in the file's order; each hazard appears at most once.
	Waivers []Waiver
	Flags   []FlagValue
}

// Load reads and validates the file at path.
func Load(path string) (*File, error) {
	data, _, err := regularfile.Read(path, MaxSize)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return nil, fmt.Errorf("reading config file: %w", err)
	case err != nil:
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse validates data read from path.
func Parse(path string, data []byte) (*File, error) {
	cfg := &File{Path: path, Settings: map[string]Setting{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("config file %s: file is empty", path)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("config file %s: no YAML document (only comments?)", path)
	}
	p := parser{path: path, cfg: cfg}
	if err := p.top(doc.Content[0]); err != nil {
		return nil, err
	}
	return cfg, nil
}

type parser struct {
	path string
	cfg  *File
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("config file %s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...))
}

func (p *parser) where(n *yaml.Node) string { return fmt.Sprintf("%s:%d", p.path, n.Line) }

// pairs walks a mapping node, refusing duplicate keys.
func (p *parser) pairs(n *yaml.Node, what string, fn func(k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s must be a mapping", what)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			return p.errorf(k, "%s: keys must be plain, non-empty names", what)
		}
		if line, dup := seen[k.Value]; dup {
			return p.errorf(k, "key %q given twice (first on line %d)", k.Value, line)
		}
		seen[k.Value] = k.Line
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) top(n *yaml.Node) error {
	return p.pairs(n, "the config file", func(k, v *yaml.Node) error {
		switch k.Value {
		case "server_dir":
			s, err := p.str(v, "server_dir")
			p.cfg.ServerDir = s
			return err
		case "settings":
			return p.settings(v)
		case "waivers":
			return p.waivers(v)
		default:
			return p.flags(k.Value, v)
		}
	})
}

func (p *parser) flags(prefix string, v *yaml.Node) error {
	switch v.Kind {
	case yaml.MappingNode:
		return p.pairs(v, prefix, func(k, v *yaml.Node) error { return p.flags(prefix+"."+k.Value, v) })
	case yaml.SequenceNode:
		var vals []string
		for _, e := range v.Content {
			s, err := p.str(e, prefix)
			if err != nil {
				return err
			}
			vals = append(vals, s)
		}
		p.cfg.Flags = append(p.cfg.Flags, FlagValue{Name: prefix, Values: vals, Source: p.where(v)})
	default:
		s, err := p.str(v, prefix)
		if err != nil {
			return err
		}
		p.cfg.Flags = append(p.cfg.Flags, FlagValue{Name: prefix, Values: []string{s}, Source: p.where(v)})
	}
	return nil
}

func (p *parser) str(v *yaml.Node, what string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", p.errorf(v, "%s must be a single value", what)
	}
	return v.Value, nil
}

func (p *parser) strs(v *yaml.Node, what string) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errorf(v, "%s must be a list, like [\"1\"]", what)
	}
	var out []string
	for _, e := range v.Content {
		s, err := p.str(e, what)
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, nil
}

func (p *parser) settings(n *yaml.Node) error {
	return p.pairs(n, "settings", func(k, v *yaml.Node) error {
		if !known(k.Value) {
			return p.errorf(k, "unknown setting %q (known: %s)", k.Value, strings.Join(hazard.SettingNames(), ", "))
		}
		s := Setting{Source: p.where(k)}
		seen := map[string]bool{}
		err := p.pairs(v, "settings."+k.Value, func(fk, fv *yaml.Node) error {
			var err error
			what := "settings." + k.Value + "." + fk.Value
			switch fk.Value {
			case "file":
				s.File, err = p.str(fv, what)
			case "section":
				s.Section, err = p.str(fv, what)
			case "key":
				s.Key, err = p.str(fv, what)
			case "enabled_values":
				s.EnabledValues, err = p.strs(fv, what)
			case "disabled_values":
				s.DisabledValues, err = p.strs(fv, what)
			default:
				return p.errorf(fk, "unknown key %q in settings.%s (known: file, section, key, enabled_values, disabled_values)", fk.Value, k.Value)
			}
			seen[fk.Value] = true
			return err
		})
		if err != nil {
			return err
		}
		for _, req := range []string{"file", "section", "key", "enabled_values", "disabled_values"} {
			if !seen[req] {
				return p.errorf(k, "settings.%s: %s is missing", k.Value, req)
			}
		}
		// Blank names would read as "" after the ini reader trims them.
		if strings.TrimSpace(s.File) == "" || strings.TrimSpace(s.Key) == "" {
			return p.errorf(k, "settings.%s: file and key must not be empty", k.Value)
		}
		if len(s.EnabledValues) == 0 || len(s.DisabledValues) == 0 {
			return p.errorf(k, "settings.%s: enabled_values and disabled_values each need at least one value", k.Value)
		}
		for _, e := range s.EnabledValues {
			for _, d := range s.DisabledValues {
				if strings.EqualFold(e, d) {
					return p.errorf(k, "settings.%s: value %q is both enabled and disabled", k.Value, e)
				}
			}
		}
		p.cfg.Settings[k.Value] = s
		return nil
	})
}

// waivers reads the waivers mapping: hazard name to reason. An empty
// mapping (or a bare `waivers:`) waives nothing.
func (p *parser) waivers(n *yaml.Node) error {
	valid := strings.Join(hazard.WaivableNames(), ", ")
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "waivers must be a mapping of hazard name to reason, one per line like `dbserver: \"this server's database is SQL Server\"` (hazards that can be waived: %s)", valid)
	}
	return p.pairs(n, "waivers", func(k, v *yaml.Node) error {
		if !waivable(k.Value) {
			hint := ""
			for _, h := range hazard.WaivableNames() {
				if strings.EqualFold(h, strings.TrimSpace(k.Value)) && h != k.Value {
					hint = fmt.Sprintf(" (did you mean %q? hazard names are lower-case)", h)
				}
			}
			return p.errorf(k, "waivers: %q is not a hazard that can be waived%s; the hazards that can be waived are: %s", k.Value, hint, valid)
		}
		// Only a string is a reason: `dbserver: true` or `dbserver: 1`
		// would waive the hazard without saying why.
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			return p.errorf(v, "waivers.%s must be the reason for the waiver, in quotes, like %s: \"this server's database is SQL Server\"", k.Value, k.Value)
		}
		reason := strings.TrimSpace(v.Value)
		if reason == "" {
			return p.errorf(v, "waivers.%s: the reason is empty; say why this hazard does not apply to this server", k.Value)
		}
		p.cfg.Waivers = append(p.cfg.Waivers, Waiver{Hazard: k.Value, Reason: reason, Source: p.where(k)})
		return nil
	})
}

func waivable(name string) bool {
	for _, n := range hazard.WaivableNames() {
		if n == name {
			return true
		}
	}
	return false
}

func known(name string) bool {
	for _, n := range hazard.SettingNames() {
		if n == name {
			return true
		}
	}
	return false
}

// ErrUnknownFlag is wrapped by Apply when the file names a flag that does not exist.
var ErrUnknownFlag = errors.New("unknown key")

// Apply makes the file's values the defaults of app's flags, so that a flag
// on the command line still wins. serverDirFlag names the flag server_dir
// sets. Call it before app.Parse.
func (f *File) Apply(app *kingpin.Application, serverDirFlag string) error {
	set := func(name string, values []string, source string) error {
		fl := app.GetFlag(name)
		if fl == nil || name == "config.file" {
			return fmt.Errorf("config file %s: %w %q: no such flag", source, ErrUnknownFlag, name)
		}
		if err := validate(fl, values); err != nil {
			return fmt.Errorf("config file %s: %s: %w", source, name, err)
		}
		fl.Default(values...)
		return nil
	}
	if f.ServerDir != "" {
		if err := set(serverDirFlag, []string{f.ServerDir}, f.Path); err != nil {
			return err
		}
	}
	for _, fv := range f.Flags {
		if err := set(fv.Name, fv.Values, fv.Source); err != nil {
			return err
		}
	}
	return nil
}

// validate sets the flag's value to each of values, so that a value of the
// wrong type is refused here, with the file and line, and not later by
// kingpin as a bare "invalid duration" that names neither. Parse sets the
// value again, from the command line or from the default, so nothing of this
// remains. A repeatable flag is left alone: setting it would append.
func validate(fl *kingpin.FlagClause, values []string) error {
	v := fl.Model().Value
	if r, ok := v.(interface{ IsCumulative() bool }); ok && r.IsCumulative() {
		return nil
	}
	if len(values) != 1 {
		return fmt.Errorf("takes a single value, not a list of %d", len(values))
	}
	return v.Set(values[0])
}

// PathFromArgs finds --config.file in the command line before the flags are
// parsed, because the file's values must be in place as defaults by then.
func PathFromArgs(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			return v
		}
		if a == "--config.file" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// Sources says, for each setting name, where its state is read from (file,
// section, key, and the line of the mapping), or that the config file maps
// it nowhere: the words the readiness page and check show as evidence.
// Relative files are shown under serverDir when it is known.
func Sources(settings map[string]Setting, names []string, serverDir string) map[string]string {
	out := make(map[string]string, len(names))
	for _, name := range names {
		m, ok := settings[name]
		if !ok {
			out[name] = "has no mapping in the config file (the ini key behind this console option is not publicly documented; `officescan_exporter settings diff` finds it)"
			continue
		}
		file := m.File
		if !filepath.IsAbs(file) && !isWindowsAbs(file) && serverDir != "" {
			file = filepath.Join(serverDir, file)
		}
		s := fmt.Sprintf("read from %s [%s] %s", file, m.Section, m.Key)
		if m.Source != "" {
			s += " (mapping at " + m.Source + ")"
		}
		out[name] = s
	}
	return out
}

// isWindowsAbs recognises C:\... and \\server\share paths on any OS, since
// the config may be written for Windows and read anywhere.
func isWindowsAbs(p string) bool {
	return strings.HasPrefix(p, `\\`) || (len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
}
