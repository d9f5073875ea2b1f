// Command perfprobe measures the exporter for scripts/perf.sh (Linux only).
//
//	perfprobe barescan [-n 20]
//	    reads /proc/*/stat and takes each process's name, n times; prints the
//	    median: the floor any process-name scan is compared with.
//	perfprobe compare -url URL [-n 200]
//	    alternates one scrape of URL with one bare scan, n times each, so both
//	    run under the same load; prints the count of processes and the median,
//	    p95 and max of each in milliseconds.
//	perfprobe usage -pid PID [-idle 60s]
//	    the process's CPU seconds over an idle interval divided by its length,
//	    and its peak RSS (VmHWM).
//
// Output is one line of key=value pairs, for the script to pick apart.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: perfprobe barescan|compare|usage [flags]")
		os.Exit(2)
	}
	var err error
	switch mode, args := os.Args[1], os.Args[2:]; mode {
	case "barescan":
		err = barescanCmd(args)
	case "compare":
		err = compareCmd(args)
	case "usage":
		err = usageCmd(args)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "perfprobe:", err)
		os.Exit(1)
	}
}

func barescanCmd(args []string) error {
	fs := flag.NewFlagSet("barescan", flag.ExitOnError)
	n := fs.Int("n", 20, "scans")
	_ = fs.Parse(args)
	var d []time.Duration
	var procs int
	for range *n {
		t, count, err := bareScan()
		if err != nil {
			return err
		}
		d, procs = append(d, t), count
	}
	fmt.Printf("processes=%d bare_median_ms=%.2f\n", procs, ms(percentile(d, 50)))
	return nil
}

// bareScan is the simplest complete name scan: list /proc, read every
// /proc/<pid>/stat, and cut the name out of its parentheses.
func bareScan() (time.Duration, int, error) {
	start := time.Now()
	dir, err := os.Open("/proc")
	if err != nil {
		return 0, 0, err
	}
	entries, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("listing /proc: %w", err)
	}
	count := 0
	for _, e := range entries {
		if e[0] < '0' || e[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e + "/stat")
		if err != nil {
			continue // exited
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open >= 0 && end > open && len(b[open+1:end]) > 0 {
			count++
		}
	}
	return time.Since(start), count, nil
}

func compareCmd(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	url := fs.String("url", "", "metrics URL")
	n := fs.Int("n", 200, "scrapes (and as many bare scans)")
	_ = fs.Parse(args)
	if *url == "" {
		return errors.New("compare: -url is required")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var scrapes, bares []time.Duration
	procs := 0
	for range *n {
		t, err := scrape(client, *url)
		if err != nil {
			return err
		}
		scrapes = append(scrapes, t)
		b, count, err := bareScan()
		if err != nil {
			return err
		}
		bares, procs = append(bares, b), count
	}
	fmt.Printf("processes=%d scrape_median_ms=%.2f scrape_p95_ms=%.2f scrape_max_ms=%.2f bare_median_ms=%.2f bare_p95_ms=%.2f bare_max_ms=%.2f\n",
		procs, ms(percentile(scrapes, 50)), ms(percentile(scrapes, 95)), ms(slices.Max(scrapes)),
		ms(percentile(bares, 50)), ms(percentile(bares, 95)), ms(slices.Max(bares)))
	return nil
}

// scrape times one whole request: connect, collect, encode, read the body.
func scrape(client *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", url, err)
	}
	elapsed := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	// A failed collector would make the numbers meaningless: a scrape that
	// skips the process table is fast.
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "officescan_scrape_collector_success{") && strings.HasSuffix(line, "} 0") {
			return 0, fmt.Errorf("%s: a collector failed: %s", url, line)
		}
	}
	return elapsed, nil
}

func usageCmd(args []string) error {
	fs := flag.NewFlagSet("usage", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process to watch")
	idle := fs.Duration("idle", time.Minute, "interval to measure CPU over")
	_ = fs.Parse(args)
	if *pid <= 0 {
		return errors.New("usage: -pid is required")
	}
	before, err := cpuTicks(*pid)
	if err != nil {
		return err
	}
	start := time.Now()
	time.Sleep(*idle)
	after, err := cpuTicks(*pid)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	hwm, err := statusKB(*pid, "VmHWM")
	if err != nil {
		return err
	}
	// USER_HZ is 100 on every Linux architecture Go supports: the kernel
	// scales /proc/<pid>/stat to it whatever its internal HZ.
	cpu := float64(after-before) / 100
	fmt.Printf("cpu_seconds=%.2f idle_seconds=%.1f cpu_percent=%.3f rss_peak_mb=%.1f\n",
		cpu, elapsed.Seconds(), 100*cpu/elapsed.Seconds(), float64(hwm)/1024)
	return nil
}

// cpuTicks returns utime+stime of pid, fields 14 and 15 of /proc/<pid>/stat.
func cpuTicks(pid int) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("%s: no ')' after the name", path)
	}
	// After ") " come fields 3 (state) onwards.
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields after the name, want at least 13", path, len(f))
	}
	var total uint64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		total += v
	}
	return total, nil
}

// statusKB reads a "Key:   123 kB" line of /proc/<pid>/status.
func statusKB(pid int, key string) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %s: %w", path, key, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: no %s line", path, key)
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
