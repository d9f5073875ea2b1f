package simulator

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
)

// Database states.
const (
	DatabaseIdle    = "idle"
	DatabaseBusy    = "busy"
	DatabaseStopped = "stopped"
)

// State is what the simulated server looks like.
type State struct {
	Database     string   `json:"database"`
	LoginScripts int      `json:"login_scripts"`
	Settings     Settings `json:"settings"`
}

// Controller keeps the simulated server in the requested State.
type Controller struct {
	dir      string
	fakeproc string
	logger   *slog.Logger

	mu      sync.Mutex
	state   State
	db      *exec.Cmd
	scripts []*exec.Cmd
}

// NewController writes the PCCSRV folder under dir and returns a controller
// that starts processes from copies of the fakeproc program.
func NewController(dir, fakeproc string, logger *slog.Logger) (*Controller, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	c := &Controller{dir: dir, fakeproc: fakeproc, logger: logger,
		state: State{Database: DatabaseStopped, Settings: Clear()}}
	if err := WriteIni(dir, c.state.Settings); err != nil {
		return nil, err
	}
	return c, nil
}

// State returns the current state.
func (c *Controller) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Apply moves the server to s: restarts DbServer.exe if its mode changed,
// starts or stops AutoPcc.exe processes, and rewrites Ofcscan.ini.
func (c *Controller) Apply(s State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s.Database {
	case DatabaseIdle, DatabaseBusy, DatabaseStopped:
	default:
		return fmt.Errorf("database must be idle, busy or stopped, not %q", s.Database)
	}
	if s.LoginScripts < 0 || s.LoginScripts > 50 {
		return fmt.Errorf("login_scripts must be 0..50, not %d", s.LoginScripts)
	}
	if s.Database != c.state.Database {
		stop(c.db)
		c.db = nil
		if s.Database != DatabaseStopped {
			var args []string
			if s.Database == DatabaseBusy {
				args = append(args, "-spin")
			}
			cmd, err := c.start("DbServer.exe", args...)
			if err != nil {
				return err
			}
			c.db = cmd
		}
	}
	for len(c.scripts) > s.LoginScripts {
		stop(c.scripts[len(c.scripts)-1])
		c.scripts = c.scripts[:len(c.scripts)-1]
	}
	for len(c.scripts) < s.LoginScripts {
		cmd, err := c.start("AutoPcc.exe")
		if err != nil {
			return err
		}
		c.scripts = append(c.scripts, cmd)
	}
	if s.Settings == nil {
		s.Settings = c.state.Settings
	}
	if err := WriteIni(c.dir, s.Settings); err != nil {
		return err
	}
	c.state = s
	c.logger.Info("simulated server changed", "database", s.Database, "login_scripts", s.LoginScripts, "settings", fmt.Sprint(s.Settings))
	return nil
}

// Close stops every process the controller started.
func (c *Controller) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	stop(c.db)
	for _, s := range c.scripts {
		stop(s)
	}
	c.db, c.scripts = nil, nil
}

// start runs a copy of fakeproc named name, so the process table shows name.
func (c *Controller) start(name string, args ...string) (*exec.Cmd, error) {
	exe := filepath.Join(c.dir, "bin", name)
	if _, err := os.Stat(exe); err != nil {
		if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(c.fakeproc)
		if err != nil {
			return nil, fmt.Errorf("reading the fake process program: %w", err)
		}
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			return nil, fmt.Errorf("writing %s: %w", exe, err)
		}
	}
	cmd := exec.Command(exe, args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go cmd.Wait() //nolint:errcheck // reaped; the exit status does not matter
	return cmd, nil
}

func stop(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// ServeHTTP answers GET with the state as JSON, and POST with form values
// database=idle|busy|stopped, login_scripts=N and setting NAME=0|1.
func (c *Controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s := c.State()
		settings := Settings{}
		for k, v := range s.Settings {
			settings[k] = v
		}
		s.Settings = settings
		for k, vs := range r.PostForm {
			v := vs[len(vs)-1]
			switch {
			case k == "database":
				s.Database = v
			case k == "login_scripts":
				n, err := strconv.Atoi(v)
				if err != nil {
					http.Error(w, fmt.Sprintf("login_scripts=%q: not a number", v), http.StatusBadRequest)
					return
				}
				s.LoginScripts = n
			default:
				if _, ok := SettingKeys[k]; !ok {
					http.Error(w, fmt.Sprintf("unknown key %q (database, login_scripts, or a setting name)", k), http.StatusBadRequest)
					return
				}
				s.Settings[k] = v
			}
		}
		if err := c.Apply(s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c.State())
}
