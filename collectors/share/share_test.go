package share

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
)

const pccsrv = `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV`

// loadRows reads a recorded FILE_INFO_3 table from testdata.
func loadRows(t *testing.T, name string) []OpenFile {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []OpenFile
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 5 {
			t.Fatalf("%s:%d: %d fields, want 5", name, line, len(fields))
		}
		var nums [3]uint32
		for i := range nums {
			n, err := strconv.ParseUint(fields[i], 10, 32)
			if err != nil {
				t.Fatalf("%s:%d: field %d: %v", name, line, i+1, err)
			}
			nums[i] = uint32(n)
		}
		rows = append(rows, OpenFile{ID: nums[0], Permissions: nums[1], Locks: nums[2], Path: fields[3], User: fields[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func defaultMatcher(t *testing.T) *Matcher {
	t.Helper()
	m, err := NewMatcher(DefaultLoginScriptFiles)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCountRecordedTables(t *testing.T) {
	for _, tc := range []struct {
		file string
		dir  string
		want Counts
	}{
		// AutoPcc.exe x4 (one without a user), AUTOPCCP.EXE, the Autopcc.cfg
		// folder and a file in it, Admin\ApNT.ini; not the console's utility log
		// or Download\Product.ini. Outside: the folder itself, PCCSRV2, a pipe, D:.
		{"logon-wave.tsv", pccsrv, Counts{Open: 10, LoginScript: 8, Users: 4}},
		// The share's folder as NetShareGetInfo may spell it: other case, trailing separator.
		{"logon-wave.tsv", strings.ToLower(pccsrv) + `\`, Counts{Open: 10, LoginScript: 8, Users: 4}},
		{"logon-wave.tsv", `C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV2`, Counts{Open: 1, LoginScript: 1, Users: 1}},
		{"logon-wave.tsv", `E:\ofcscan`, Counts{}},
		{"idle.tsv", pccsrv, Counts{Open: 1}},
	} {
		if got := Count(loadRows(t, tc.file), tc.dir, defaultMatcher(t)); got != tc.want {
			t.Errorf("Count(%s, %q) = %+v, want %+v", tc.file, tc.dir, got, tc.want)
		}
	}
}

func TestCountDriveRoot(t *testing.T) {
	rows := []OpenFile{{Path: `E:\AutoPcc.exe`, User: "a"}, {Path: `E:\x\y.txt`, User: "b"}, {Path: `F:\AutoPcc.exe`, User: "c"}}
	if got, want := Count(rows, `E:\`, defaultMatcher(t)), (Counts{Open: 2, LoginScript: 1, Users: 1}); got != want {
		t.Errorf("Count under E:\\ = %+v, want %+v", got, want)
	}
}

func TestMatcher(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		rel      string
		want     bool
	}{
		{DefaultLoginScriptFiles, `AutoPcc.exe`, true},
		{DefaultLoginScriptFiles, `autopccp.EXE`, true},
		{DefaultLoginScriptFiles, `Autopcc.cfg\sub\file.dat`, true},
		{DefaultLoginScriptFiles, `Admin\APNT.INI`, true},
		{DefaultLoginScriptFiles, `Admin\ApNT.ini.bak`, false},
		{DefaultLoginScriptFiles, `Admin\Utility\x.log`, false},
		{DefaultLoginScriptFiles, `NotAutoPcc.exe`, false},
		{[]string{`Admin/Utility`}, `admin\utility\sub\x.log`, true},
		{[]string{`Admin\Utility`}, `Admin\Utility\x.log`, true},
		{[]string{`Admin/Utility`}, `Other\Admin\Utility\x.log`, false},
		{[]string{`Admin/*.ini`}, `Admin\ofcscan.ini`, true},
		{[]string{`Admin/*.ini`}, `Admin\sub\ofcscan.ini`, false},
		{[]string{`/Download/`}, `Download\Product.ini`, true},
		{nil, `AutoPcc.exe`, false},
	} {
		m, err := NewMatcher(tc.patterns)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Match(tc.rel); got != tc.want {
			t.Errorf("patterns %q: Match(%q) = %v, want %v", tc.patterns, tc.rel, got, tc.want)
		}
	}
}

func TestMatcherRejectsBadPatterns(t *testing.T) {
	for _, p := range []string{"[", "Admin/[a-", "", "/"} {
		if _, err := NewMatcher([]string{"AutoPcc*", p}); err == nil || !strings.Contains(err.Error(), strconv.Quote(p)) {
			t.Errorf("NewMatcher(%q) = %v, want an error naming the pattern", p, err)
		}
	}
}

// fakeSystem serves recorded rows for one folder, as NetFileEnum would.
type fakeSystem struct {
	shares   map[string]string
	rows     []OpenFile
	err      error
	listedIn []string
}

func (f *fakeSystem) SharePath(name string) (string, error) {
	p, ok := f.shares[strings.ToLower(name)]
	if !ok {
		return "", errors.New("no share named " + name)
	}
	return p, nil
}

func (f *fakeSystem) OpenFiles(dir string) ([]OpenFile, error) {
	f.listedIn = append(f.listedIn, dir)
	if f.err != nil {
		return nil, f.err
	}
	var out []OpenFile
	for _, r := range f.rows {
		// NetFileEnum's base path is a case-insensitive prefix.
		if strings.HasPrefix(strings.ToLower(r.Path), strings.ToLower(dir)) {
			out = append(out, r)
		}
	}
	return out, nil
}

func update(c *Collector) (map[string]float64, error) {
	ch := make(chan prometheus.Metric, 10)
	err := c.Update(context.Background(), ch)
	close(ch)
	got := map[string]float64{}
	for m := range ch {
		name := m.Desc().String()
		name = name[strings.Index(name, `"`)+1:]
		name = name[:strings.Index(name, `"`)]
		got[name] = testutil.ToFloat64(constCollector{m})
	}
	return got, err
}

type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }

// parseFlags returns the options the flags give for args.
func parseFlags(t *testing.T, args ...string) Options {
	t.Helper()
	app := kingpin.New("test", "")
	o := AddFlags(app)
	if _, err := app.Parse(args); err != nil {
		t.Fatal(err)
	}
	return *o
}

func TestCollectorFindsShareFolderAndCounts(t *testing.T) {
	sys := &fakeSystem{shares: map[string]string{"ofcscan": pccsrv}, rows: loadRows(t, "logon-wave.tsv")}
	c, err := newCollector(sys, parseFlags(t), promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	got, err := update(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"officescan_share_login_script_open_files": 8,
		"officescan_share_login_script_users":      4,
		"officescan_share_open_files":              10,
	}
	if len(got) != len(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(sys.listedIn) != 1 || sys.listedIn[0] != pccsrv {
		t.Errorf("NetFileEnum base paths %q, want [%q]", sys.listedIn, pccsrv)
	}
}

func TestCollectorFlags(t *testing.T) {
	sys := &fakeSystem{shares: map[string]string{"ofcscan": `E:\wrong`, "apex": `E:\wrong2`}, rows: loadRows(t, "logon-wave.tsv")}
	// --collector.share.path wins: the share is not looked up.
	c, err := newCollector(sys, parseFlags(t, "--collector.share.path", pccsrv,
		"--collector.share.login-script-file", "Download", "--collector.share.login-script-file", "AutoPccP.exe"), promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	got, err := update(c)
	if err != nil {
		t.Fatal(err)
	}
	if got["officescan_share_login_script_open_files"] != 2 || got["officescan_share_login_script_users"] != 2 {
		t.Errorf("with patterns Download, AutoPccP.exe: %v, want 2 files by 2 users", got)
	}
	if sys.listedIn[0] != pccsrv {
		t.Errorf("listed %q, want the --collector.share.path folder", sys.listedIn)
	}

	// --collector.share.name picks another share.
	sys.listedIn = nil
	c, err = newCollector(sys, parseFlags(t, "--collector.share.name", "APEX"), promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := update(c); err != nil {
		t.Fatal(err)
	}
	if sys.listedIn[0] != `E:\wrong2` {
		t.Errorf("listed %q, want share apex's folder", sys.listedIn)
	}

	if _, err := newCollector(sys, parseFlags(t, "--collector.share.login-script-file", "[x"), promslog.NewNopLogger()); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}

func TestCollectorFailsWithoutZero(t *testing.T) {
	for _, tc := range []struct {
		name string
		sys  *fakeSystem
		opts []string
		want []string
	}{
		{"share missing", &fakeSystem{}, nil, []string{`share "ofcscan"`, "--collector.share.path"}},
		{"enumeration fails", &fakeSystem{err: errors.New("NetFileEnum: access denied: run the exporter as an administrator")},
			[]string{"--collector.share.path", pccsrv}, []string{pccsrv, "administrator"}},
	} {
		c, err := newCollector(tc.sys, parseFlags(t, tc.opts...), promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		got, err := update(c)
		if err == nil || len(got) != 0 {
			t.Errorf("%s: Update = %v with metrics %v, want an error and no samples", tc.name, err, got)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec(&Options{Name: "ofcscan", LoginScriptFiles: DefaultLoginScriptFiles})
	if s.Name != "share" || s.DefaultEnabled != Supported {
		t.Errorf("spec %q default %v, want share, %v", s.Name, s.DefaultEnabled, Supported)
	}
}
