package procs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/officescan-exporter/officescan_exporter/procs"
	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// BenchmarkSamplerStep is one background sample over tables of growing size;
// with the default settings every fifth step searches the whole table.
func BenchmarkSamplerStep(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			s := procs.NewSampler(procstest.Synthetic(n, "DbServer.exe"), procs.SamplerConfig{
				Names: []string{"DbServer.exe"}, Interval: time.Second, Rediscover: 5 * time.Second,
				Window: 10 * time.Second, NumCPU: 2,
			})
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				s.Step(now)
				now = now.Add(time.Second)
			}
			if u := s.Usage(); u.Processes != 1 || u.Err != nil {
				b.Fatalf("usage = %+v, want the one DbServer.exe", u)
			}
		})
	}
}
