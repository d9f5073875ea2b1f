package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/collectors/serverinfo"
	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/ini"
	"github.com/officescan-exporter/officescan_exporter/settingsdiff"
	"github.com/officescan-exporter/officescan_exporter/settingslearn"
)

// settingsDiffCommand is `settings diff BEFORE.ini AFTER.ini`: it finds the
// ini key behind a console option, which Trend Micro does not document, from
// two copies the admin made; `settings learn` takes the copies itself.
type settingsDiffCommand struct {
	cmd           *kingpin.CmdClause
	before, after string
	setting       string
	file          string
	enabledIn     string
	write         string
	out, errOut   io.Writer
}

// settingsClause is the `settings` command that diff and learn belong to.
func settingsClause(a *app) *kingpin.CmdClause {
	if c := a.kp.GetCommand("settings"); c != nil {
		return c
	}
	return a.kp.Command("settings", "Find and map the ini keys behind the console settings (see docs/collector.settings.md).")
}

func newSettingsDiffCommand(a *app) *settingsDiffCommand {
	c := &settingsDiffCommand{out: os.Stdout, errOut: os.Stderr}
	c.cmd = settingsClause(a).
		Command("diff", "Compare two copies of Ofcscan.ini, taken before and after toggling one console option, and print the keys added, removed and changed, by section. Exit 0 when they hold the same values, 1 when they differ, 2 on error. See docs/collector.settings.md.")
	c.cmd.Arg("BEFORE.ini", "The copy taken before the option was toggled.").Required().StringVar(&c.before)
	c.cmd.Arg("AFTER.ini", "The copy taken after.").Required().StringVar(&c.after)
	c.cmd.Flag("setting", "Print, on standard output, the config file mapping for this setting from the one key that changed (the comparison goes to standard error).").
		PlaceHolder("NAME").EnumVar(&c.setting, hazard.SettingNames()...)
	c.cmd.Flag("enabled-in", "With --setting: which copy has the option enabled.").
		Default("after").EnumVar(&c.enabledIn, "after", "before")
	c.cmd.Flag("file", "With --setting: the mapped file, relative to the server folder.").
		Default("Ofcscan.ini").StringVar(&c.file)
	c.cmd.Flag("write", "With --setting: write the mapping into this config file in place (the setting's entry added under its one settings: key, or replaced; comments and other entries kept; the previous file kept as a .bak beside it), instead of printing it.").
		PlaceHolder("CONFIG").StringVar(&c.write)
	return c
}

func (c *settingsDiffCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *settingsDiffCommand) run(context.Context) (int, error) {
	before, err := ini.ReadFile(c.before)
	if err != nil {
		return 2, err
	}
	after, err := ini.ReadFile(c.after)
	if err != nil {
		return 2, err
	}
	if c.write != "" && c.setting == "" {
		return 2, fmt.Errorf("--write needs --setting: the setting whose mapping to write")
	}
	r := settingsdiff.Diff(before, after)
	diffOut := c.out
	if c.setting != "" {
		// Standard output is then only the mapping, ready to paste or append.
		diffOut = c.errOut
	}
	if err := r.Write(diffOut); err != nil {
		return 2, fmt.Errorf("writing the comparison: %w", err)
	}
	if c.setting == "" {
		if len(r.Changes) > 0 {
			return 1, nil
		}
		return 0, nil
	}
	toggled, err := r.Toggled()
	if err != nil {
		return 2, err
	}
	opts := settingsdiff.BlockOptions{Setting: c.setting, File: c.file, EnabledInBefore: c.enabledIn == "before"}
	if c.write != "" {
		return c.writeMapping(toggled, opts)
	}
	block, err := settingsdiff.ConfigBlock(toggled, opts)
	if err != nil {
		return 2, err
	}
	if _, err := c.out.Write(block); err != nil {
		return 2, fmt.Errorf("writing the mapping: %w", err)
	}
	return 0, nil
}

func (c *settingsDiffCommand) writeMapping(toggled settingsdiff.Change, opts settingsdiff.BlockOptions) (int, error) {
	m, err := settingsdiff.Mapping(toggled, opts)
	if err != nil {
		return 2, err
	}
	w, err := config.WriteSetting(c.write, c.setting, m, settingsdiff.Note(toggled, "from settings diff"))
	if err != nil {
		return 2, err
	}
	verb := "added"
	if w.Replaced {
		verb = "replaced"
	}
	fmt.Fprintf(c.out, "settings.%s %s in %s: %s [%s] %s, enabled_values %q, disabled_values %q\n", c.setting, verb, w.Path, m.File, m.Section, m.Key, m.EnabledValues, m.DisabledValues)
	if w.Backup != "" {
		fmt.Fprintf(c.out, "previous file kept as %s\n", w.Backup)
	}
	return 0, nil
}

// settingsLearnCommand is `settings learn`: the guided way to map the
// settings, with the admin at the web console.
type settingsLearnCommand struct {
	a        *app
	cmd      *kingpin.CmdClause
	settings []string
	in       io.Reader
	out      io.Writer
}

func newSettingsLearnCommand(a *app) *settingsLearnCommand {
	c := &settingsLearnCommand{a: a, in: os.Stdin, out: os.Stdout}
	c.cmd = settingsClause(a).
		Command("learn", "Interactive: for each console setting in turn, say which option to change in the web console, find the ini key that changed under the server folder (--officescan.server-dir, or the registry on Windows), confirm it when the option is changed back, and write the mapping into --config.file in place. Exit 0 when every setting was learned, 1 when some were skipped, 2 on error. See docs/collector.settings.md.")
	c.cmd.Flag("setting", "Learn only this setting (repeatable); default: all, in order.").
		PlaceHolder("NAME").EnumsVar(&c.settings, hazard.SettingNames()...)
	return c
}

func (c *settingsLearnCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *settingsLearnCommand) run(ctx context.Context) (int, error) {
	if c.a.configFile == "" {
		return 2, fmt.Errorf("settings learn writes each mapping into the config file: give it with --config.file (install writes one; any file that loads will do, even one holding only a comment and `settings: {}`)")
	}
	dir, source, err := c.serverDir()
	if err != nil {
		return 2, err
	}
	s := &settingslearn.Session{Dir: dir, DirSource: source, ConfigPath: c.a.configFile, In: c.in, Out: c.out}
	for _, set := range hazard.Settings {
		if len(c.settings) == 0 || slices.Contains(c.settings, set.Name) {
			s.Settings = append(s.Settings, set)
		}
	}
	if c.a.cfg != nil {
		s.Mapped = c.a.cfg.Settings
	}
	r, err := s.Run(ctx)
	switch {
	case err != nil:
		return 2, err
	case len(r.Skipped) > 0:
		return 1, nil
	}
	return 0, nil
}

// serverDir is the folder the exporter reads, and where it was named.
func (c *settingsLearnCommand) serverDir() (string, string, error) {
	flag := c.a.opts.ServerDir
	dir, err := serverinfo.ServerDir(flag, serverinfo.Local())
	switch {
	case err != nil:
		return "", "", err
	case flag == "":
		return dir, "from the registry, value " + serverinfo.ValueDir, nil
	case c.a.cfg != nil && c.a.cfg.ServerDir == flag && !slices.ContainsFunc(c.a.args, func(a string) bool { return strings.HasPrefix(a, "--officescan.server-dir") }):
		return dir, "server_dir in the config file", nil
	}
	return dir, "--officescan.server-dir", nil
}
