package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/ini"
	"github.com/officescan-exporter/officescan_exporter/settingsdiff"
)

// settingsDiffCommand is `settings diff BEFORE.ini AFTER.ini`: it finds the
// ini key behind a console option, which Trend Micro does not document.
type settingsDiffCommand struct {
	cmd           *kingpin.CmdClause
	before, after string
	setting       string
	file          string
	enabledIn     string
	out, errOut   io.Writer
}

func newSettingsDiffCommand(a *app) *settingsDiffCommand {
	c := &settingsDiffCommand{out: os.Stdout, errOut: os.Stderr}
	c.cmd = a.kp.Command("settings", "Work with the console settings' ini files.").
		Command("diff", "Compare two copies of Ofcscan.ini, taken before and after toggling one console option, and print the keys added, removed and changed, by section. Exit 0 when they hold the same values, 1 when they differ, 2 on error. See docs/collector.settings.md.")
	c.cmd.Arg("BEFORE.ini", "The copy taken before the option was toggled.").Required().StringVar(&c.before)
	c.cmd.Arg("AFTER.ini", "The copy taken after.").Required().StringVar(&c.after)
	c.cmd.Flag("setting", "Print, on standard output, the config file mapping for this setting from the one key that changed (the comparison goes to standard error).").
		PlaceHolder("NAME").EnumVar(&c.setting, hazard.SettingNames()...)
	c.cmd.Flag("enabled-in", "With --setting: which copy has the option enabled.").
		Default("after").EnumVar(&c.enabledIn, "after", "before")
	c.cmd.Flag("file", "With --setting: the mapped file, relative to the server folder.").
		Default("Ofcscan.ini").StringVar(&c.file)
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
	block, err := settingsdiff.ConfigBlock(toggled, settingsdiff.BlockOptions{Setting: c.setting, File: c.file, EnabledInBefore: c.enabledIn == "before"})
	if err != nil {
		return 2, err
	}
	if _, err := c.out.Write(block); err != nil {
		return 2, fmt.Errorf("writing the mapping: %w", err)
	}
	return 0, nil
}
