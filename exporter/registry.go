package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Registry knows every collector and whether the user switched it on.
type Registry struct {
	specs   []Spec
	enabled map[string]*bool
}

// NewRegistry returns a registry of specs. Names must be unique.
func NewRegistry(specs ...Spec) *Registry {
	r := &Registry{enabled: map[string]*bool{}}
	for _, s := range specs {
		if _, dup := r.enabled[s.Name]; dup {
			panic("exporter: collector registered twice: " + s.Name)
		}
		on := s.DefaultEnabled
		r.enabled[s.Name] = &on
		r.specs = append(r.specs, s)
	}
	sort.Slice(r.specs, func(i, j int) bool { return r.specs[i].Name < r.specs[j].Name })
	return r
}

// AddFlags adds --collector.<name> (and kingpin's --no-collector.<name>) for each collector.
func (r *Registry) AddFlags(app *kingpin.Application) {
	for _, s := range r.specs {
		def := "disabled"
		if s.DefaultEnabled {
			def = "enabled"
		}
		app.Flag("collector."+s.Name, fmt.Sprintf("%s (default: %s).", s.Help, def)).
			Default(fmt.Sprint(s.DefaultEnabled)).BoolVar(r.enabled[s.Name])
	}
}

// Enable switches a collector on or off, as the flags do.
func (r *Registry) Enable(name string, on bool) error {
	p, ok := r.enabled[name]
	if !ok {
		return fmt.Errorf("unknown collector %q", name)
	}
	*p = on
	return nil
}

// Specs returns every known collector, sorted by name.
func (r *Registry) Specs() []Spec { return r.specs }

// Enabled reports whether the named collector is switched on.
func (r *Registry) Enabled(name string) bool {
	p, ok := r.enabled[name]
	return ok && *p
}

// Build constructs every enabled collector. A collector whose constructor
// fails is still listed, failing each scrape with that error, so that the
// failure is visible in officescan_scrape_collector_success and not only in
// a start-up log line.
func (r *Registry) Build(ctx context.Context, logger *slog.Logger, opts ScrapeOptions) *Scraper {
	var runs []*run
	for _, s := range r.specs {
		if !*r.enabled[s.Name] {
			continue
		}
		l := logger.With("collector", s.Name)
		c, err := s.New(ctx, l)
		if err != nil {
			l.Error("collector cannot start; it will report failure on every scrape", "err", err)
			c = failing{err}
		}
		runs = append(runs, &run{name: s.Name, c: c, logger: l})
	}
	return newScraper(runs, opts)
}

type failing struct{ err error }

func (f failing) Update(context.Context, chan<- prometheus.Metric) error { return f.err }
