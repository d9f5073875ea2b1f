package install

import "testing"

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		exe  string
		args []string
		want string
	}{
		{`C:\Program Files\officescan_exporter\officescan_exporter.exe`,
			[]string{`--config.file=C:\ProgramData\officescan_exporter\config.yml`, "--web.listen-address=:9745"},
			`"C:\Program Files\officescan_exporter\officescan_exporter.exe" --config.file=C:\ProgramData\officescan_exporter\config.yml --web.listen-address=:9745`},
		{`C:\oe\officescan_exporter.exe`,
			[]string{`--config.file=C:\My Configs\config.yml`, `--collector.share.login-script-file=a "b"`, "", `--x=C:\dir with space\`},
			`C:\oe\officescan_exporter.exe "--config.file=C:\My Configs\config.yml" "--collector.share.login-script-file=a \"b\"" "" "--x=C:\dir with space\\"`},
	} {
		if got := CommandLine(c.exe, c.args...); got != c.want {
			t.Errorf("CommandLine\n%s\nwant\n%s", got, c.want)
		}
	}
}
