package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

var hazardWaivedDesc = prometheus.NewDesc(
	hazard.MetricHazardWaived,
	"1 for each hazard the config file waives (waivers: <hazard>: \"reason\"), with the reason it gives; "+
		"a waived hazard reads clear whether or not its collector runs. Absent means not waived.",
	[]string{"hazard", "reason"}, nil)

// WaiverCollector exports officescan_hazard_waived{hazard,reason} = 1 for
// each waiver of the config file, on every scrape. It is not one of the
// switchable collectors: switching a collector off is never a waiver, and a
// waiver must always be visible.
type WaiverCollector struct {
	waivers []Waiver
}

// Waiver is one hazard the config file leaves out, and why.
type Waiver struct{ Hazard, Reason string }

// NewWaiverCollector returns a collector of waivers.
func NewWaiverCollector(waivers []Waiver) *WaiverCollector {
	return &WaiverCollector{waivers: append([]Waiver(nil), waivers...)}
}

// Describe sends the one metric's description.
func (c *WaiverCollector) Describe(ch chan<- *prometheus.Desc) { ch <- hazardWaivedDesc }

// Collect sends one series per waiver.
func (c *WaiverCollector) Collect(ch chan<- prometheus.Metric) {
	for _, w := range c.waivers {
		ch <- prometheus.MustNewConstMetric(hazardWaivedDesc, prometheus.GaugeValue, 1, w.Hazard, w.Reason)
	}
}
