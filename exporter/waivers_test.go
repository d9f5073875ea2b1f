package exporter

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestWaiverCollector(t *testing.T) {
	const head = `# HELP officescan_hazard_waived 1 for each hazard the config file waives (waivers: <hazard>: "reason"), with the reason it gives; a waived hazard reads clear whether or not its collector runs. Absent means not waived.
# TYPE officescan_hazard_waived gauge
`
	for _, tc := range []struct {
		name    string
		waivers []Waiver
		want    string
	}{
		{"none: absent", nil, ""},
		{"one", []Waiver{{Hazard: "dbserver", Reason: "this server's database is SQL Server, not DbServer.exe"}},
			head + `officescan_hazard_waived{hazard="dbserver",reason="this server's database is SQL Server, not DbServer.exe"} 1` + "\n"},
		{"several, quotes and backslashes kept", []Waiver{
			{Hazard: "share", Reason: `no client runs \\srv\ofcscan\autopcc`},
			{Hazard: "autopcc", Reason: `"not a terminal server"`},
		}, head +
			`officescan_hazard_waived{hazard="autopcc",reason="\"not a terminal server\""} 1` + "\n" +
			`officescan_hazard_waived{hazard="share",reason="no client runs \\\\srv\\ofcscan\\autopcc"} 1` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(NewWaiverCollector(tc.waivers))
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want), "officescan_hazard_waived"); err != nil {
				t.Fatal(err)
			}
			if n, err := testutil.GatherAndCount(reg); err != nil || n != len(tc.waivers) {
				t.Fatalf("%d series (%v), want one per waiver (%d)", n, err, len(tc.waivers))
			}
		})
	}
}
