//go:build !windows

package main

import (
	"bytes"
	"strings"
	"testing"
)

// Off Windows both commands exit 2 with the message that says what to do
// instead, and touch nothing.
func TestInstallOffWindowsExits2(t *testing.T) {
	ic, uc, _ := parseInstall(t, "install", "--firewall")
	var out, errOut bytes.Buffer
	ic.out, ic.errOut = &out, &errOut
	if code, err := ic.run(t.Context()); code != 2 || err != nil {
		t.Errorf("install: exit %d, %v; want 2", code, err)
	}
	want := "officescan_exporter install: install and uninstall are for Windows; on Linux use a systemd unit (docs/install-linux.md)\n"
	if errOut.String() != want || out.Len() != 0 {
		t.Errorf("install printed %q on stdout and %q on stderr, want only %q", out.String(), errOut.String(), want)
	}
	out.Reset()
	errOut.Reset()
	uc.out, uc.errOut = &out, &errOut
	if code, err := uc.run(t.Context()); code != 2 || err != nil {
		t.Errorf("uninstall: exit %d, %v; want 2", code, err)
	}
	if !strings.Contains(errOut.String(), "uninstall: install and uninstall are for Windows") {
		t.Errorf("uninstall printed %q", errOut.String())
	}
}
