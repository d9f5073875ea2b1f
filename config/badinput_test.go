package config

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/officescan-exporter/officescan_exporter/internal/testdir"
)

// TestLoadBadFilesNameTheFile loads files that are not a config file: each is
// refused with the file (and the line, where there is one) named.
func TestLoadBadFilesNameTheFile(t *testing.T) {
	dir := testdir.New(t)
	r := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	ansi, err := charmap.Windows1252.NewEncoder().Bytes([]byte(strings.Replace(valid, "Example Section", "Général", 1)))
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(valid, "enabled_values") + len("enabled_values: [\"1")
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":        {nil, "file is empty"},
		"random bytes": {random, ".yml"},
		// Cut in the middle of a line, as a copy that ran out of space leaves it.
		"truncated mid-line": {[]byte(valid[:cut]), "line 7"},
		// UTF-16 without a byte-order mark: NUL bytes YAML refuses.
		"UTF-16LE without BOM": {utf16, ".yml"},
		// ANSI (Windows-1252) is not UTF-8, which YAML requires.
		"Windows-1252": {ansi, ".yml"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yml")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cfg, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded as %+v", name, cfg)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want one naming %s and containing %q", name, err, path, tc.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
}

// TestApplyRefusesWrongTypesNamingTheLine gives flags values of the wrong type
// in the file: the error names the file, the line and the flag, before any
// flag is parsed.
func TestApplyRefusesWrongTypesNamingTheLine(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"duration":         {"log.level: info\ncollector.timeout: banana\n", `c.yml:2: collector.timeout: time: invalid duration "banana"`},
		"bool":             {"collector:\n  dbserver: perhaps\n", `c.yml:2: collector.dbserver:`},
		"int":              {"web.max-requests: many\n", `c.yml:1: web.max-requests:`},
		"enum":             {"log.level: loud\n", `c.yml:1: log.level:`},
		"list for a value": {"collector.timeout: [1s, 2s]\n", `c.yml:1: collector.timeout: takes a single value, not a list of 2`},
	} {
		cfg, err := Parse("c.yml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		app := kingpin.New("t", "")
		var (
			timeout time.Duration
			on      bool
			n       int
			level   string
		)
		app.Flag("collector.timeout", "").Default("10s").DurationVar(&timeout)
		app.Flag("collector.dbserver", "").Default("true").BoolVar(&on)
		app.Flag("web.max-requests", "").Default("40").IntVar(&n)
		app.Flag("log.level", "").Default("info").EnumVar(&level, "debug", "info", "warn", "error")
		err = cfg.Apply(app, "officescan.server-dir")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}

// A well-typed value still parses after the check, and the command line
// still wins over it.
func TestApplyCheckLeavesValidValuesToParse(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("collector.timeout: 3s\nweb.max-requests: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	app := kingpin.New("t", "")
	var timeout time.Duration
	var n int
	app.Flag("collector.timeout", "").Default("10s").DurationVar(&timeout)
	app.Flag("web.max-requests", "").Default("40").IntVar(&n)
	if err := cfg.Apply(app, "officescan.server-dir"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Parse([]string{"--web.max-requests=9"}); err != nil {
		t.Fatal(err)
	}
	if timeout != 3*time.Second || n != 9 {
		t.Fatalf("timeout %s, max-requests %d; want 3s from the file and 9 from the command line", timeout, n)
	}
}
