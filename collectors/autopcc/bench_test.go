package autopcc

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/officescan-exporter/officescan_exporter/procs/procstest"
)

// BenchmarkUpdate is the collector's scrape-time search over tables of
// growing size.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			c := New(procstest.Synthetic(n, "AutoPcc.exe", "autopccp.EXE"))
			ch := make(chan prometheus.Metric, 1)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Update(context.Background(), ch); err != nil {
					b.Fatal(err)
				}
				<-ch
			}
		})
	}
}
