package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"

	"github.com/officescan-exporter/officescan_exporter/install"
)

// installCommand is `install`: the Windows service in one step.
type installCommand struct {
	a           *app
	cmd         *kingpin.CmdClause
	firewall    bool
	remoteIP    string
	out, errOut io.Writer
	// system returns the machine to install on (install.Local; tests swap it).
	system func() (*install.System, error)
}

func newInstallCommand(a *app) *installCommand {
	c := &installCommand{a: a, out: os.Stdout, errOut: os.Stderr, system: install.Local}
	c.cmd = a.kp.Command("install", "Windows, elevated: register this program as the service "+install.ServiceName+
		" (delayed automatic start, LocalSystem, restart on failure), register its Event Log source, write a commented config file "+
		"when there is none (--config.file, default %ProgramData%\\officescan_exporter\\config.yml), start it and print the page's URL. "+
		"The exporter's flags given here go on the service's command line. Run again, it changes only what differs and says what.")
	c.cmd.Flag("firewall", "Also add the Windows Firewall inbound rule \""+install.RuleName+"\" for the TCP port of --web.listen-address.").
		BoolVar(&c.firewall)
	c.cmd.Flag("firewall.remote-ip", "With --firewall: allow only these remote addresses, e.g. your Prometheus servers (netsh remoteip: addresses, subnets, ranges, comma-separated).").
		PlaceHolder("LIST").StringVar(&c.remoteIP)
	return c
}

func (c *installCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *installCommand) run(ctx context.Context) (int, error) {
	opts, err := c.options()
	if err != nil {
		return c.fail(2, err)
	}
	if c.a.web.WebListenAddresses != nil && len(*c.a.web.WebListenAddresses) > 1 && c.firewall {
		fmt.Fprintf(c.errOut, "%s install: several --web.listen-address given: the firewall rule is for the first, %s\n", name, opts.ListenAddress)
	}
	sys, err := c.system()
	if errors.Is(err, install.ErrNotWindows) {
		return c.fail(2, err)
	}
	if err != nil {
		return c.fail(1, err)
	}
	defer sys.Close()
	if err := install.Install(ctx, sys, opts, c.out); err != nil {
		return c.fail(1, err)
	}
	return 0, nil
}

// options are install's inputs from the parsed command line and config file.
func (c *installCommand) options() (install.Options, error) {
	var opts install.Options
	if c.remoteIP != "" && !c.firewall {
		return opts, errors.New("--firewall.remote-ip needs --firewall")
	}
	if err := install.ValidRemoteIP(c.remoteIP); err != nil {
		return opts, fmt.Errorf("--firewall.remote-ip: %w", err)
	}
	args, err := serviceArgs(c.a.kp, c.a.args)
	if err != nil {
		return opts, err
	}
	opts = install.Options{
		Args:             args,
		ListenAddress:    c.a.listenAddress(),
		WebConfig:        c.a.webConfigFile() != "",
		Firewall:         c.firewall,
		FirewallRemoteIP: c.remoteIP,
	}
	if c.a.configFile != "" {
		if opts.ConfigFile, err = filepath.Abs(c.a.configFile); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// fail prints err as the command's own message (not a log line: an
// administrator reads it at the prompt) and returns code.
func (c *installCommand) fail(code int, err error) (int, error) {
	fmt.Fprintf(c.errOut, "%s %s: %v\n", name, c.cmd.FullCommand(), err)
	return code, nil
}

// uninstallCommand is `uninstall`.
type uninstallCommand struct {
	cmd         *kingpin.CmdClause
	out, errOut io.Writer
	system      func() (*install.System, error)
}

func newUninstallCommand(a *app) *uninstallCommand {
	c := &uninstallCommand{out: os.Stdout, errOut: os.Stderr, system: install.Local}
	c.cmd = a.kp.Command("uninstall", "Windows, elevated: stop and remove the service "+install.ServiceName+
		", its Event Log source and the firewall rule install added. The config file is kept.")
	return c
}

func (c *uninstallCommand) clause() *kingpin.CmdClause { return c.cmd }

func (c *uninstallCommand) run(ctx context.Context) (int, error) {
	sys, err := c.system()
	code := 1
	if errors.Is(err, install.ErrNotWindows) {
		code = 2
	}
	if err == nil {
		defer sys.Close()
		if err = install.Uninstall(ctx, sys, c.out); err == nil {
			return 0, nil
		}
	}
	fmt.Fprintf(c.errOut, "%s uninstall: %v\n", name, err)
	return code, nil
}

// notForService are the flags that never go on the service's command line:
// --config.file is put there first, made absolute; the others only print.
var notForService = map[string]bool{
	"config.file": true, "help": true, "help-long": true, "help-man": true, "version": true,
	"completion-bash": true, "completion-script-bash": true, "completion-script-zsh": true,
}

// serviceArgs returns the flags of the command line args that the service
// must get: the exporter's own (the application's), as given, in order;
// never install's own (--firewall) nor those in notForService.
func serviceArgs(kp *kingpin.Application, args []string) ([]string, error) {
	global := map[string]bool{}
	for _, f := range kp.Model().Flags {
		global[f.Name] = true
	}
	pc, err := kp.ParseContext(args)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range pc.Elements {
		f, ok := e.Clause.(*kingpin.FlagClause)
		if !ok || e.Value == nil {
			continue
		}
		m := f.Model()
		if !global[m.Name] || notForService[m.Name] {
			continue
		}
		switch {
		case m.IsBoolFlag() && *e.Value == "true":
			out = append(out, "--"+m.Name)
		case m.IsBoolFlag():
			out = append(out, "--no-"+m.Name)
		default:
			out = append(out, "--"+m.Name+"="+*e.Value)
		}
	}
	return out, nil
}

// writesConfigFile reports whether args run install, which writes the
// config file when it does not exist yet: a missing --config.file is then
// no error.
func writesConfigFile(kp *kingpin.Application, args []string) bool {
	// A parse error (a mistyped flag) is reported by the real parse that
	// follows: the command is known as soon as its word was read.
	pc, _ := kp.ParseContext(args)
	return pc != nil && pc.SelectedCommand != nil && pc.SelectedCommand.FullCommand() == "install"
}
