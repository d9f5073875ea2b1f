package install

import (
	"reflect"
	"testing"

	"golang.org/x/sys/windows"
)

// Windows splits the command lines install writes back into the same
// arguments (CommandLineToArgvW, as the service's Go program does).
func TestCommandLineRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{`C:\Program Files\officescan_exporter\officescan_exporter.exe`, `--config.file=C:\ProgramData\officescan_exporter\config.yml`},
		{`C:\oe\officescan_exporter.exe`, `--config.file=C:\My Configs\config.yml`, `a "b"`, `trailing\`, `x y\`, `\\"`, "tab\there"},
	} {
		got, err := windows.DecomposeCommandLine(CommandLine(args[0], args[1:]...))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, args) {
			t.Errorf("%q split back into %q", args, got)
		}
	}
}
