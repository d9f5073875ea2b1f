package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/officescan-exporter/officescan_exporter/install"
	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// parseInstall parses args as main does, with every subcommand wired.
func parseInstall(t *testing.T, args ...string) (*installCommand, *uninstallCommand, string) {
	t.Helper()
	a := newApp()
	newServeCommand(a)
	newCheckCommand(a)
	ic, uc := newInstallCommand(a), newUninstallCommand(a)
	cmd, err := a.parse(args)
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return ic, uc, cmd
}

// The service gets the exporter's flags given with install, in order and
// normalised (--flag=value, --no-switch), never install's own flags nor
// --config.file (install puts that first, absolute).
func TestServiceArgs(t *testing.T) {
	dir := testdir.New(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"install"}, nil},
		{[]string{"install", "--config.file=" + filepath.Join(dir, "new.yml"), "--web.listen-address=127.0.0.1:9999",
			"--no-collector.share", "--log.level", "debug", "--firewall", "--firewall.remote-ip=192.0.2.1", "--collector.autopcc"},
			[]string{"--web.listen-address=127.0.0.1:9999", "--no-collector.share", "--log.level=debug", "--collector.autopcc"}},
		{[]string{"--log.level=warn", "--web.listen-address=:1", "--web.listen-address=:2", "install", "--no-firewall"},
			[]string{"--log.level=warn", "--web.listen-address=:1", "--web.listen-address=:2"}},
		{[]string{"install", "--officescan.server-dir", `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`},
			[]string{`--officescan.server-dir=C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`}},
	} {
		ic, _, cmd := parseInstall(t, c.args...)
		if cmd != "install" {
			t.Fatalf("%q parsed as %q", c.args, cmd)
		}
		got, err := serviceArgs(ic.a.kp, ic.a.args)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: service args %q, want %q", c.args, got, c.want)
		}
	}
}

// install's options: the config file made absolute, the listen address
// from the file unless a flag gives it, the firewall flags checked.
func TestInstallOptions(t *testing.T) {
	dir := testdir.New(t)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte("web.listen-address: ':9800'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	ic, _, _ := parseInstall(t, "install", "--config.file=config.yml", "--firewall")
	o, err := ic.options()
	if err != nil {
		t.Fatal(err)
	}
	want := install.Options{ConfigFile: cfg, ListenAddress: ":9800", Firewall: true}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("options %+v, want %+v", o, want)
	}

	ic, _, _ = parseInstall(t, "install", "--config.file=config.yml", "--web.listen-address=:9900")
	if o, err = ic.options(); err != nil || o.ListenAddress != ":9900" || !reflect.DeepEqual(o.Args, []string{"--web.listen-address=:9900"}) {
		t.Errorf("options %+v, %v; want the flag's listen address, on the service's command line too", o, err)
	}

	// A config file that is not there yet is no error for install (it
	// writes one), but stays one for everything else.
	ic, _, _ = parseInstall(t, "install", "--config.file=missing.yml")
	if o, err = ic.options(); err != nil || o.ConfigFile != filepath.Join(dir, "missing.yml") || o.ListenAddress != ":9745" {
		t.Errorf("options %+v, %v", o, err)
	}
	a := newApp()
	newServeCommand(a)
	newCheckCommand(a)
	newInstallCommand(a)
	if _, err := a.parse([]string{"--config.file=missing.yml", "check"}); err == nil {
		t.Error("check with a missing config file parsed")
	}
	// A mistyped flag is named as such, not hidden behind the missing file.
	a = newApp()
	newInstallCommand(a)
	if _, err := a.parse([]string{"install", "--config.file=missing.yml", "--firewal"}); err == nil || !strings.Contains(err.Error(), "--firewal") {
		t.Errorf("install with a mistyped flag: %v, want the flag named", err)
	}

	for _, args := range [][]string{
		{"install", "--firewall.remote-ip=192.0.2.1"},
		{"install", "--firewall", "--firewall.remote-ip=192.0.2.1 dir=out"},
	} {
		ic, _, _ = parseInstall(t, args...)
		var errOut bytes.Buffer
		ic.errOut = &errOut
		if code, _ := ic.run(t.Context()); code != 2 {
			t.Errorf("%q: exit %d, want 2; %s", args, code, errOut.String())
		}
	}
}

// The doc the off-Windows message points to exists.
func TestNotWindowsMessageNamesADoc(t *testing.T) {
	if _, err := os.Stat("../../docs/install-linux.md"); err != nil {
		t.Errorf("%q points to a doc that is not there: %v", install.ErrNotWindows, err)
	}
}

// psArgs splits the arguments of a PowerShell command line the way
// PowerShell passes them to a program, for the forms the docs use: bare
// words, 'single-quoted' parts (joined to the bare word around them), a
// comment from " #". A comma outside quotes makes PowerShell pass an array,
// which the docs must not do by accident: it is an error here.
func psArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	have, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'' && i+1 < len(line) && line[i+1] == '\'':
			cur.WriteByte('\'')
			i++
		case c == '\'':
			quoted, have = !quoted, true
		case quoted:
			cur.WriteByte(c)
		case c == ' ' || c == '\t':
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		case c == '#' && !have:
			return args, nil
		case c == ',' || c == '"' || c == '$' || c == '`' || c == ';':
			return nil, fmt.Errorf("unquoted %q: PowerShell reads it as syntax", c)
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if have {
		args = append(args, cur.String())
	}
	return args, nil
}

// Every `install` and `uninstall` line in the README's and the Windows
// guide's PowerShell blocks is PowerShell the exporter understands: its
// arguments split as PowerShell splits them parse with the binary's own
// flags, as the command they name.
func TestDocsInstallCommandsParse(t *testing.T) {
	found := 0
	for _, file := range []string{"../../README.md", "../../docs/install-windows.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inBlock := false
		var logical string
		for n, line := range strings.Split(string(data), "\n") {
			switch {
			case strings.HasPrefix(line, "```powershell"):
				inBlock = true
				continue
			case strings.HasPrefix(line, "```"):
				inBlock = false
				continue
			case !inBlock:
				continue
			}
			// A backtick at the end continues the command on the next line.
			if strings.HasSuffix(line, " `") {
				logical += strings.TrimSuffix(line, "`")
				continue
			}
			line, logical = logical+line, ""
			const call = `& 'C:\Program Files\officescan_exporter\officescan_exporter.exe' `
			rest, ok := strings.CutPrefix(line, call)
			if !ok || !(strings.HasPrefix(rest, "install") || strings.HasPrefix(rest, "uninstall")) {
				continue
			}
			found++
			args, err := psArgs(rest)
			if err != nil {
				t.Errorf("%s:%d: %v: %s", file, n+1, err, line)
				continue
			}
			a := newApp()
			newServeCommand(a)
			ic := newInstallCommand(a)
			newUninstallCommand(a)
			cmd, err := a.parse(args)
			if err != nil || cmd != args[0] {
				t.Errorf("%s:%d: %q parses as %q, %v", file, n+1, args, cmd, err)
				continue
			}
			if cmd == "install" {
				if _, err := ic.options(); err != nil {
					t.Errorf("%s:%d: %v", file, n+1, err)
				}
			}
		}
	}
	if found < 4 {
		t.Errorf("found %d install/uninstall command lines in the docs, want at least 4 (the format changed?)", found)
	}
	if _, err := psArgs(`install '--firewall.remote-ip=192.0.2.10,192.0.2.11'`); err != nil {
		t.Errorf("a quoted list rejected: %v", err)
	}
	if _, err := psArgs(`install --firewall.remote-ip=192.0.2.10,192.0.2.11`); err == nil {
		t.Error("an unquoted comma accepted")
	}
}
