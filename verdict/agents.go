package verdict

import (
	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// Agents, as alerts' agentRules count them: a waiting agent is an
// officescan_agent_reboot_pending other than 0 (NaN waits too), joined to
// its officescan_agent_info on the target labels of the agent's series, and
// counted for the server whose officescan_server_address_info address equals
// the info's server label. A waiting agent with no info, or whose server is
// no server target's address, counts for every server.

type agentCounts struct {
	// monitored: officescan:agent_reboot_pending:count has a series.
	monitored bool
	// total and waiting across all servers.
	total, waiting int
	// unmatched is officescan:agent_reboot_pending:waiting_unmatched.
	unmatched int
	// waitingByServer and agentsByServer count info series by server label.
	waitingByServer, agentsByServer map[string]int
	// addresses are each server target's address labels, by target key.
	addresses map[string][]string
}

func (e *eval) countAgents(ix *index) agentCounts {
	c := agentCounts{waitingByServer: map[string]int{}, agentsByServer: map[string]int{}, addresses: map[string][]string{}}
	pendingKeys, waitingKeys := map[string]bool{}, map[string]bool{}
	var pending []inst
	for _, s := range ix.byMetric[hazard.MetricAgentRebootPending] {
		if !matches(s.labels, e.o.AgentSelector) {
			continue
		}
		if p, ok := e.w.instant(s.points, e.t, e.lookback); ok {
			pending = append(pending, inst{s, p})
			pendingKeys[s.key] = true
			c.total++
			if p.v != 0 {
				waitingKeys[s.key] = true
				c.waiting++
			}
		}
	}
	c.monitored = c.total > 0
	addressSet := map[string]bool{}
	for _, x := range e.byKey[hazard.MetricServerAddressInfo] {
		for _, a := range x {
			// label_replace(..., "server", "$1", "address", "(.*)"): an
			// address label, or none, which matches a missing server label.
			addr := a.s.labels["address"]
			addressSet[addr] = true
			c.addresses[a.s.key] = append(c.addresses[a.s.key], addr)
		}
	}
	infoKeys := map[string]bool{}
	for _, s := range ix.byMetric[hazard.MetricAgentInfo] {
		if !matches(s.labels, e.o.AgentSelector) {
			continue
		}
		if _, ok := e.w.instant(s.points, e.t, e.lookback); !ok {
			continue
		}
		infoKeys[s.key] = true
		server := s.labels["server"]
		if pendingKeys[s.key] {
			c.agentsByServer[server]++
		}
		if waitingKeys[s.key] {
			c.waitingByServer[server]++
			if !addressSet[server] {
				c.unmatched++
			}
		}
	}
	for _, x := range pending {
		if x.p.v != 0 && !infoKeys[x.s.key] {
			c.unmatched++
		}
	}
	return c
}

// byTarget is officescan:agent_reboot_pending:waiting_by_target and
// agents_by_target: the agents of the target's addresses, plus every waiting
// agent matched to no server.
func (c agentCounts) byTarget(key string) (waiting, agents int) {
	for _, a := range c.addresses[key] {
		waiting += c.waitingByServer[a]
		agents += c.agentsByServer[a]
	}
	return waiting + c.unmatched, agents + c.unmatched
}
