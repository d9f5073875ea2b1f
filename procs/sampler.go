package procs

import (
	"context"
	"sync"
	"time"
)

// SamplerConfig sets how a Sampler watches a set of process names.
type SamplerConfig struct {
	// Names are the image names to watch, matched ignoring case.
	Names []string
	// Interval between two CPU samples of the known processes.
	Interval time.Duration
	// Rediscover is how often the whole table is searched for the names; in
	// between only the known PIDs are read, which is what keeps the sampler cheap.
	Rediscover time.Duration
	// Window is the span the utilization is averaged over.
	Window time.Duration
	// NumCPU is the number of logical CPUs the utilization is a share of.
	NumCPU int
}

// Usage is what the sampler knows after its last sample.
type Usage struct {
	// Processes is how many processes with the names were running.
	Processes int
	// User and System are CPU seconds used by those processes while the
	// sampler watched them. They only grow. A process already running at the
	// sampler's first successful sample counts from that sample: what it used
	// before was not watched. A process that started after it (a restart, a
	// new PID or start time) counts from its start, on first sight, so the
	// CPU it used before the search found it (up to Rediscover) is not lost;
	// it is counted once, even if a later read misses it for a while.
	User, System float64
	// Utilization is the share of all logical CPUs (0..1) used over the last
	// window; valid only once a whole window has been sampled.
	Utilization      float64
	UtilizationValid bool
	// NumCPU is the number of logical CPUs Utilization is a share of
	// (SamplerConfig.NumCPU, at least 1).
	NumCPU int
	// Sampled is when the last sample was taken; zero before the first.
	Sampled time.Time
	// Err is the last sample's error; the other fields then hold the last
	// good values and must not be trusted.
	Err error
}

type point struct {
	at    time.Time
	total float64
}

type key struct {
	pid     int32
	started int64
}

type goneProcess struct {
	p   Process
	seq uint64 // order of leaving, for dropping the oldest
}

// maxGone bounds Sampler.gone: far more DbServer.exe processes than ever run
// at once, so only processes that exited long ago are dropped.
const maxGone = 256

// Sampler measures the CPU use of the processes with some names in the
// background, so that a scrape only reads the result.
type Sampler struct {
	cfg SamplerConfig
	src Source

	mu sync.Mutex
	// known holds the last sample by process; spare is the map the next
	// sample is built in, so that a sample allocates no map.
	known, spare map[key]Process
	// gone holds the last sample of processes that left the table, so that
	// one a read missed for a while continues from there and is never
	// counted from its start twice. Exited processes never come back under
	// the same key; the oldest are dropped beyond maxGone.
	gone    map[key]goneProcess
	goneSeq uint64
	// watching is set by the first successful sample; watchedFrom is the
	// source's clock (StartedNow) just before it. A process whose Started is
	// later began while watched.
	watching     bool
	watchedFrom  int64
	current      []Process
	lastFind     time.Time
	user, system float64
	points       []point
	usage        Usage
}

// NewSampler returns a sampler over src. Call Run to start it.
func NewSampler(src Source, cfg SamplerConfig) *Sampler {
	if cfg.NumCPU < 1 {
		cfg.NumCPU = 1
	}
	return &Sampler{cfg: cfg, src: src, known: map[key]Process{}, spare: map[key]Process{}, gone: map[key]goneProcess{}}
}

// Run samples every Interval until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	s.Step(time.Now())
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.Step(now)
		}
	}
}

// Usage returns the result of the last sample.
func (s *Sampler) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Step takes one sample at now. Times are compared through Go's monotonic
// clock, so a wall-clock jump cannot make an interval negative.
func (s *Sampler) Step(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()

	var (
		found []Process
		err   error
		clock int64
	)
	if !s.watching {
		// Read before the table: a process in the first sample that
		// started after this is still only a baseline, never counted twice.
		clock = s.src.StartedNow()
	}
	if s.lastFind.IsZero() || now.Sub(s.lastFind) >= s.cfg.Rediscover {
		found, err = s.src.Find(s.cfg.Names)
		if err == nil {
			s.lastFind = now
		}
	} else {
		found, err = s.src.Refresh(s.current)
	}
	if err != nil {
		s.usage.Err = err
		// A gap in the samples must not be averaged over: start a new window.
		s.points = s.points[:0]
		s.usage.UtilizationValid = false
		return
	}

	next := s.spare
	clear(next)
	for _, p := range found {
		k := key{p.PID, p.Started}
		prev, ok := s.known[k]
		if !ok {
			var g goneProcess
			if g, ok = s.gone[k]; ok {
				prev = g.p
				delete(s.gone, k)
			}
		}
		switch {
		case ok:
			du, ds := p.User-prev.User, p.System-prev.System
			// Counters of one process never go back; if they do, the sample is
			// not comparable and only becomes the new baseline.
			if du >= 0 && ds >= 0 {
				s.user += du
				s.system += ds
			}
		case s.watching && p.Started > s.watchedFrom:
			// First sight of a process that started while watched: all the
			// CPU it used, it used while watched.
			if p.User >= 0 && p.System >= 0 {
				s.user += p.User
				s.system += p.System
			}
		}
		next[k] = p
	}
	for k, p := range s.known {
		if _, ok := next[k]; !ok {
			s.leave(k, p)
		}
	}
	s.known, s.spare = next, s.known
	s.current = found
	if !s.watching {
		s.watching, s.watchedFrom = true, clock
	}

	// A sample that does not follow the last one within a window (the
	// machine slept or the VM was paused, so the clock moved on while nothing
	// was sampled) or that comes before it would average over a span other
	// than the window: a whole busy window could then read as idle. Start a
	// new window, as after an error.
	if n := len(s.points); n > 0 {
		if gap := now.Sub(s.points[n-1].at); gap < 0 || gap > s.cfg.Window {
			s.points = s.points[:0]
		}
	}
	s.points = append(s.points, point{at: now, total: s.user + s.system})
	// Keep the newest point that is at least a window old, and all after it.
	cut := 0
	for i := range s.points {
		if now.Sub(s.points[i].at) >= s.cfg.Window {
			cut = i
		}
	}
	s.points = s.points[cut:]

	s.usage = Usage{Processes: len(found), User: s.user, System: s.system, NumCPU: s.cfg.NumCPU, Sampled: now}
	oldest := s.points[0]
	elapsed := now.Sub(oldest.at)
	// Half an interval of slack absorbs ticker jitter.
	if elapsed > 0 && elapsed >= s.cfg.Window-s.cfg.Interval/2 {
		s.usage.Utilization = (s.user + s.system - oldest.total) / elapsed.Seconds() / float64(s.cfg.NumCPU)
		s.usage.UtilizationValid = true
	}
}

// leave remembers the last sample of a process that left the table.
func (s *Sampler) leave(k key, p Process) {
	s.goneSeq++
	s.gone[k] = goneProcess{p: p, seq: s.goneSeq}
	if len(s.gone) <= maxGone {
		return
	}
	oldest := k
	for gk, g := range s.gone {
		if g.seq < s.gone[oldest].seq {
			oldest = gk
		}
	}
	delete(s.gone, oldest)
}
