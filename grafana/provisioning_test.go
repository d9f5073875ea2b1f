package grafana

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// decodeStrict decodes a provisioning example, rejecting keys the struct
// does not list, so a misspelt key in the example fails here.
func decodeStrict(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestProvisioningExamples(t *testing.T) {
	var dashboards struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeStrict(t, filepath.Join("provisioning", "dashboards", "officescan.yaml"), &dashboards)
	if dashboards.APIVersion != 1 || len(dashboards.Providers) != 1 {
		t.Fatalf("dashboard provisioning: %+v, want apiVersion 1 and one provider", dashboards)
	}
	if p := dashboards.Providers[0]; p.Type != "file" || !path.IsAbs(p.Options.Path) {
		t.Errorf("dashboard provider %+v: want type file and an absolute options.path", p)
	}

	var datasources struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string `yaml:"name"`
			Type      string `yaml:"type"`
			UID       string `yaml:"uid"`
			Access    string `yaml:"access"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
			JSONData  struct {
				TimeInterval string `yaml:"timeInterval"`
			} `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	decodeStrict(t, filepath.Join("provisioning", "datasources", "prometheus.yaml"), &datasources)
	if datasources.APIVersion != 1 || len(datasources.Datasources) != 1 || datasources.Datasources[0].Type != "prometheus" {
		t.Errorf("datasource provisioning: %+v, want one prometheus data source", datasources)
	}
}
