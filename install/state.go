package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateFileName is the file, in the data folder, where install records what
// it added that uninstall cannot tell from the system alone.
const StateFileName = "install-state.json"

// State is what install added. The service and the event source carry the
// exporter's own names and are always removed by uninstall; a firewall rule
// of the same name may be the administrator's own, so only a rule recorded
// here is removed.
type State struct {
	Note string `json:"note"`
	// ConfigFile is the config file the service reads; ConfigWritten says
	// install wrote it (uninstall keeps it either way).
	ConfigFile    string `json:"config_file"`
	ConfigWritten bool   `json:"config_file_written,omitempty"`
	// Firewall is the rule install added, nil when it added none.
	Firewall *Rule `json:"firewall_rule,omitempty"`
}

const stateNote = "Written by officescan_exporter install; officescan_exporter uninstall reads it to remove exactly what install added. Do not edit."

func statePath(dataDir string) string { return filepath.Join(dataDir, StateFileName) }

// readState returns the recorded state; a missing file is an empty State.
func readState(dataDir string) (State, bool, error) {
	var st State
	data, err := os.ReadFile(statePath(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, false, fmt.Errorf("%s: %w", statePath(dataDir), err)
	}
	return st, true, nil
}

// writeState writes st unless the file holds it already, and reports
// whether it wrote.
func writeState(dataDir string, st State) (bool, error) {
	st.Note = stateNote
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return false, err
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(statePath(dataDir)); err == nil && string(old) == string(data) {
		return false, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return false, err
	}
	return true, writeFileAtomic(statePath(dataDir), data)
}

// writeFileAtomic writes data to a new file beside path, then renames it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}
