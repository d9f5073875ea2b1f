// Package share counts the files that clients running the OfficeScan Login
// Script hold open on the server's ofcscan share.
//
// The login script (\\<server>\ofcscan\autopcc) runs AutoPcc.exe on each
// client from the share; while it runs, the client holds the program and the
// files it compares open over SMB, and the server cannot be upgraded. From the
// server these are the share's open files, which NetFileEnum (level 3: path and
// user) lists to administrators. Which open files belong to the login script
// is decided by patterns (see Matcher): the program names are documented, the
// rest of the login script's file set is not, so the patterns are a flag.
package share

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/exporter"
)

const subsystem = "share"

var (
	loginScriptFilesDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "login_script_open_files"),
		"Files on the OfficeScan share held open by clients running the Login Script (NetFileEnum, matched by --collector.share.login-script-file).",
		nil, nil)
	loginScriptUsersDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "login_script_users"),
		"Distinct user names holding Login Script files open on the OfficeScan share.",
		nil, nil)
	openFilesDesc = prometheus.NewDesc(
		prometheus.BuildFQName(exporter.Namespace, subsystem, "open_files"),
		"All files open over SMB under the OfficeScan share's folder, Login Script or not.",
		nil, nil)
)

// DefaultLoginScriptFiles are the default --collector.share.login-script-file
// patterns. "AutoPcc*" covers AutoPcc.exe and AutoPccP.exe (documented as the
// login script's programs) and anything in a folder whose name starts with
// AutoPcc (believed to hold its configuration; not documented). ApNT.ini is
// documented as the list AutoPcc compares; where it lives is not.
var DefaultLoginScriptFiles = []string{"AutoPcc*", "ApNT.ini"}

// Options are the collector's flags.
type Options struct {
	// Name is the share whose folder is searched.
	Name string
	// Path, when set, is the folder itself, and the share is not looked up.
	Path string
	// LoginScriptFiles are Matcher patterns.
	LoginScriptFiles []string
}

// AddFlags adds the collector's flags to app.
func AddFlags(app *kingpin.Application) *Options {
	o := &Options{}
	app.Flag("collector.share.name", "Share the Login Script runs from; its folder is read with NetShareGetInfo.").
		Default("ofcscan").StringVar(&o.Name)
	app.Flag("collector.share.path", "Local folder of the OfficeScan share (e.g. the PCCSRV folder); when set, --collector.share.name is not looked up.").
		PlaceHolder("DIR").StringVar(&o.Path)
	app.Flag("collector.share.login-script-file", "Open files counted as the Login Script's, relative to the share's folder (repeatable). A pattern without '/' matches any folder or file name on the path, one with '/' matches from the share's root; glob syntax, case-insensitive.").
		Default(DefaultLoginScriptFiles...).StringsVar(&o.LoginScriptFiles)
	return o
}

// OpenFile is one row of NetFileEnum level 3 (FILE_INFO_3).
type OpenFile struct {
	ID          uint32
	Permissions uint32
	Locks       uint32
	// Path is the server's local path of the open file, e.g.
	// C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV\AutoPcc.exe.
	Path string
	// User is the name the client authenticated as.
	User string
}

// Matcher decides which paths, relative to the share's folder, belong to the
// login script.
type Matcher struct {
	patterns []string // lower case, '/' separated
}

// NewMatcher compiles patterns. A pattern without '/' matches when any
// element of the relative path (a folder or the file name) matches it, so
// "AutoPcc*" takes every file below a folder named AutoPcc.cfg. A pattern with
// '/' matches the path's leading elements, so "Admin/Utility" takes every file
// below that folder. Backslashes count as '/'. Case is ignored, as Windows does.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for _, p := range patterns {
		lp := strings.Trim(strings.ToLower(strings.ReplaceAll(p, `\`, "/")), "/")
		if lp == "" {
			return nil, fmt.Errorf("login script file pattern %q: empty", p)
		}
		if _, err := path.Match(lp, ""); err != nil {
			return nil, fmt.Errorf("login script file pattern %q: %w", p, err)
		}
		m.patterns = append(m.patterns, lp)
	}
	return m, nil
}

// Match reports whether rel, a path relative to the share's folder with
// either separator, belongs to the login script.
func (m *Matcher) Match(rel string) bool {
	elems := strings.FieldsFunc(strings.ToLower(rel), func(r rune) bool { return r == '/' || r == '\\' })
	for _, p := range m.patterns {
		if !strings.Contains(p, "/") {
			for _, e := range elems {
				if ok, _ := path.Match(p, e); ok {
					return true
				}
			}
			continue
		}
		// '*' never matches '/', so a pattern of k+1 elements can only match
		// the path's first k+1: joining every prefix would be quadratic in a
		// deep path, and paths come from other machines' sessions.
		if n := strings.Count(p, "/") + 1; len(elems) >= n {
			if ok, _ := path.Match(p, strings.Join(elems[:n], "/")); ok {
				return true
			}
		}
	}
	return false
}

// Counts summarises the open files of one share.
type Counts struct {
	// Open is every file open below the share's folder.
	Open int
	// LoginScript is those the Matcher takes.
	LoginScript int
	// Users is the distinct non-empty user names holding LoginScript files,
	// compared ignoring case.
	Users int
}

// Count counts files below dir, a local folder, that m takes. Rows outside
// dir are ignored: NetFileEnum's base path is a plain prefix, so
// C:\PCCSRV2\x is listed for C:\PCCSRV, and named pipes may be listed too.
func Count(files []OpenFile, dir string, m *Matcher) Counts {
	var c Counts
	users := map[string]bool{}
	for _, f := range files {
		rel, ok := relative(dir, f.Path)
		if !ok {
			continue
		}
		c.Open++
		if !m.Match(rel) {
			continue
		}
		c.LoginScript++
		if f.User != "" {
			users[strings.ToLower(f.User)] = true
		}
	}
	c.Users = len(users)
	return c
}

// relative returns p relative to dir when p lies below dir, comparing as
// Windows does: either separator, any case.
func relative(dir, p string) (string, bool) {
	dir = strings.TrimRight(strings.ReplaceAll(dir, "/", `\`), `\`)
	p = strings.ReplaceAll(p, "/", `\`)
	if len(p) <= len(dir)+1 || !strings.EqualFold(p[:len(dir)], dir) || p[len(dir)] != '\\' {
		return "", false
	}
	return p[len(dir)+1:], true
}

// system is the operating system's view of shares and open files.
type system interface {
	// SharePath returns the local folder a share exports.
	SharePath(name string) (string, error)
	// OpenFiles lists files open over the network whose path starts with dir.
	OpenFiles(dir string) ([]OpenFile, error)
}

// Collector reports the login script's open files at scrape time.
type Collector struct {
	sys     system
	opts    Options
	matcher *Matcher
	logger  *slog.Logger
}

func newCollector(sys system, opts Options, logger *slog.Logger) (*Collector, error) {
	m, err := NewMatcher(opts.LoginScriptFiles)
	if err != nil {
		return nil, err
	}
	return &Collector{sys: sys, opts: opts, matcher: m, logger: logger}, nil
}

// Update lists the share's open files. The share's folder is looked up on
// every scrape, so a share created or moved after start-up is followed.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	dir := c.opts.Path
	if dir == "" {
		d, err := c.sys.SharePath(c.opts.Name)
		if err != nil {
			return fmt.Errorf("finding the folder of share %q (or set --collector.share.path): %w", c.opts.Name, err)
		}
		dir = d
	}
	files, err := c.sys.OpenFiles(dir)
	if err != nil {
		return fmt.Errorf("listing files open under %s: %w", dir, err)
	}
	n := Count(files, dir, c.matcher)
	c.logger.Debug("open files", "dir", dir, "listed", len(files), "below_dir", n.Open, "login_script", n.LoginScript, "users", n.Users)
	ch <- prometheus.MustNewConstMetric(loginScriptFilesDesc, prometheus.GaugeValue, float64(n.LoginScript))
	ch <- prometheus.MustNewConstMetric(loginScriptUsersDesc, prometheus.GaugeValue, float64(n.Users))
	ch <- prometheus.MustNewConstMetric(openFilesDesc, prometheus.GaugeValue, float64(n.Open))
	return nil
}

// Spec registers the collector; it is on by default where the OS can list
// open files (Windows).
func Spec(opts *Options) exporter.Spec {
	return exporter.Spec{
		Name:           "share",
		Help:           "files held open on the ofcscan share by clients running the Login Script (Windows)",
		DefaultEnabled: Supported,
		New: func(_ context.Context, logger *slog.Logger) (exporter.Collector, error) {
			sys, err := newSystem()
			if err != nil {
				return nil, err
			}
			return newCollector(sys, *opts, logger)
		},
	}
}
