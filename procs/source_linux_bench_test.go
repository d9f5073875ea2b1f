//go:build linux

package procs

import (
	"bytes"
	"os"
	"testing"
)

// The Linux source over the real /proc of the machine running the
// benchmark, beside BenchmarkBareStatScan, the floor the scan is measured
// against: run them with many processes on the machine (scripts/perf.sh
// starts them) to see the numbers docs/performance.md talks about.

var benchNames = []string{"AutoPcc.exe", "AutoPccP.exe"}

// BenchmarkLinuxSourceFind is a scan with the name cache warm: what a scrape
// pays, and the sampler every Rediscover.
func BenchmarkLinuxSourceFind(b *testing.B) {
	s := newLinuxSource("/proc")
	if _, err := s.Find(benchNames); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Find(benchNames); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.cache)), "procs")
}

// BenchmarkLinuxSourceFindCold reads every name, as the first scan does.
func BenchmarkLinuxSourceFindCold(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newLinuxSource("/proc").Find(benchNames); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinuxSourceRefresh re-reads one process's CPU times, what the
// sampler does every Interval.
func BenchmarkLinuxSourceRefresh(b *testing.B) {
	s := newLinuxSource("/proc")
	me, _, ok := s.readStat(int32(os.Getpid()))
	if !ok {
		b.Fatal("cannot read this process's stat")
	}
	me.Name = "procs.test"
	known := []Process{me}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Refresh(known); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareStatScan lists /proc and reads every /proc/<pid>/stat for the
// name, written the plain way.
func BenchmarkBareStatScan(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		d, err := os.Open("/proc")
		if err != nil {
			b.Fatal(err)
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for _, e := range names {
			if e[0] < '0' || e[0] > '9' {
				continue
			}
			st, err := os.ReadFile("/proc/" + e + "/stat")
			if err != nil {
				continue
			}
			if i, j := bytes.IndexByte(st, '('), bytes.LastIndexByte(st, ')'); i >= 0 && j > i {
				n++
			}
		}
	}
	b.ReportMetric(float64(n), "procs")
}
