package config

import (
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

func TestApplyMakesFileValuesFlagDefaults(t *testing.T) {
	cfg, err := Parse("c.yml", []byte(`
server_dir: 'D:\PCCSRV'
web:
  listen-address: [":1111"]
collector:
  autopcc: false
log.level: debug
`))
	if err != nil {
		t.Fatal(err)
	}
	app := kingpin.New("t", "")
	dir := app.Flag("officescan.server-dir", "").String()
	listen := app.Flag("web.listen-address", "").Default(":9745").Strings()
	autopcc := app.Flag("collector.autopcc", "").Default("true").Bool()
	level := app.Flag("log.level", "").Default("info").String()
	if err := cfg.Apply(app, "officescan.server-dir"); err != nil {
		t.Fatal(err)
	}
	// The command line wins over the file.
	if _, err := app.Parse([]string{"--log.level=warn"}); err != nil {
		t.Fatal(err)
	}
	if *dir != `D:\PCCSRV` || strings.Join(*listen, ",") != ":1111" || *autopcc || *level != "warn" {
		t.Fatalf("got dir=%q listen=%v autopcc=%v level=%q", *dir, *listen, *autopcc, *level)
	}
}

func TestApplyRefusesUnknownFlagNamingTheLine(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("web:\n  listen-adress: ':1'\n"))
	if err != nil {
		t.Fatal(err)
	}
	app := kingpin.New("t", "")
	app.Flag("web.listen-address", "").String()
	err = cfg.Apply(app, "officescan.server-dir")
	if err == nil || !strings.Contains(err.Error(), "c.yml:2") || !strings.Contains(err.Error(), "web.listen-adress") {
		t.Fatalf("Apply = %v, want an error naming c.yml:2 and the key", err)
	}
}

func TestPathFromArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config.file=a.yml"}, "a.yml"},
		{[]string{"check", "--config.file", "b.yml"}, "b.yml"},
		{[]string{"--", "--config.file=c.yml"}, ""},
		{nil, ""},
	} {
		if got := PathFromArgs(tc.args); got != tc.want {
			t.Errorf("PathFromArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
