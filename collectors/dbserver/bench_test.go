package dbserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// BenchmarkUpdate is the collector's scrape: it only reads the sampler's
// last result, so its cost must not grow with the table (the sampler's own
// cost is procs.BenchmarkSamplerStep).
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			s := procs.NewSampler(procstest.Synthetic(n, "DbServer.exe"), procs.SamplerConfig{
				Names: ProcessNames, Interval: time.Second, Rediscover: 5 * time.Second, Window: 2 * time.Second, NumCPU: 2,
			})
			t0 := time.Now().Add(-2 * time.Second)
			for i := range 3 {
				s.Step(t0.Add(time.Duration(i) * time.Second))
			}
			c := New(s, time.Hour)
			ch := make(chan prometheus.Metric, 5)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Update(context.Background(), ch); err != nil {
					b.Fatal(err)
				}
				for range 5 {
					<-ch
				}
			}
		})
	}
}
