package readiness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// CheckOptions configure RunCheck.
type CheckOptions struct {
	// ExporterURL is the running exporter's base URL; its recorded history
	// is the evidence.
	ExporterURL string
	Client      *http.Client
	// Local starts a recorder of this machine's own collectors, for when no
	// exporter answers and Wait leaves time to measure a whole window.
	Local func(ctx context.Context, interval time.Duration, keep time.Duration) *Recorder
	// Wait, when positive, keeps checking until the verdict has been safe at
	// every evaluation for Settle, and gives up after Wait.
	Wait, Settle time.Duration
	// Interval is the time between two evaluations (and recordings, when
	// measuring here).
	Interval time.Duration
	JSON     bool
	// Out receives the verdict; Progress receives --wait's progress lines.
	Out, Progress io.Writer
}

// source is where the history comes from.
type source interface {
	history(ctx context.Context) (evidence, error)
	describe() string
}

// evidence is a history to judge, the time to judge it at, its recording
// interval and the collectors' errors.
type evidence struct {
	h          verdict.History
	at         time.Time
	interval   time.Duration
	idleWindow time.Duration // zero: hazard.IdleWindow
	ctx        Context
}

func (e evidence) options() verdict.Options {
	return verdict.Options{ScrapeInterval: e.interval, EvaluationInterval: e.interval, IdleWindow: e.idleWindow}
}

type remote struct {
	url    string
	client *http.Client
}

func (r remote) describe() string { return "the exporter at " + r.url }

func (r remote) history(ctx context.Context) (evidence, error) {
	u, err := url.JoinPath(r.url, PathHistory)
	if err != nil {
		return evidence{}, fmt.Errorf("exporter URL %q: %w", r.url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return evidence{}, fmt.Errorf("exporter URL %q: %w", r.url, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return evidence{}, fmt.Errorf("no exporter answered at %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return evidence{}, fmt.Errorf("%s answered %s; is it an officescan_exporter of this version?", u, resp.Status)
	}
	var doc HistoryDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&doc); err != nil {
		return evidence{}, fmt.Errorf("reading the history from %s: %w", u, err)
	}
	h, interval, err := doc.Decode()
	if err != nil {
		return evidence{}, fmt.Errorf("reading the history from %s: %w", u, err)
	}
	idle := time.Duration(doc.IdleWindowSeconds * float64(time.Second))
	return evidence{h: h, at: doc.Time, interval: interval, idleWindow: idle, ctx: doc.Context}, nil
}

type local struct{ r *Recorder }

func (l local) describe() string { return "this machine, measured by check itself" }

func (l local) history(context.Context) (evidence, error) {
	return evidence{h: l.r.History(), at: time.Now(), interval: l.r.interval, idleWindow: l.r.idleWindow, ctx: l.r.Context()}, nil
}

// MeasureFor is how long check must measure here before it can say safe:
// the idle window, then the settle time.
func MeasureFor(settle time.Duration) time.Duration { return hazard.IdleWindow + settle }

// RunCheck answers whether the upgrade may start now (or, with Wait, once it
// may), prints the answer and returns it; the report's ExitCode is the
// process's: 0 safe, 1 blocked (or not settled at the deadline), 2 could
// not tell.
func RunCheck(ctx context.Context, o CheckOptions) (Report, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	var src source = remote{url: o.ExporterURL, client: o.Client}
	_, err := src.history(ctx)
	var notes []string
	if err != nil {
		if o.Wait < MeasureFor(o.Settle) || o.Local == nil {
			r := couldNotTell(err, o)
			return r, write(o, r)
		}
		src = local{o.Local(ctx, o.Interval, KeepFor(o.Settle, o.Interval))}
		notes = append(notes, fmt.Sprintf("%s; measuring here instead, every %s (a whole %s idle window comes first).", err, o.Interval, human(hazard.IdleWindow)))
		progress(o, time.Now(), notes[0])
	}
	var r Report
	if o.Wait > 0 {
		r, err = waitSafe(ctx, src, o)
	} else {
		r, _, err = judgeOnce(ctx, src, o.Settle)
	}
	if err != nil {
		return r, err
	}
	r.Notes = append(append(notes, "Evidence: "+src.describe()+"."), r.Notes...)
	return r, write(o, r)
}

// couldNotTell is the answer when there is no history to judge and no time
// to measure one.
func couldNotTell(err error, o CheckOptions) Report {
	return Report{
		Outcome: OutcomeUnknown, ExitCode: OutcomeUnknown.ExitCode(), Time: time.Now(),
		WindowOpenForSeconds: hazard.WindowOpenFor.Seconds(),
		Rows: []Row{{Hazard: hazard.ExporterHazard, Title: "A running exporter's history to judge", State: StateUnknown,
			Evidence: err.Error(),
			Action: fmt.Sprintf("Start the officescan_exporter service (check reads its history), point --check.exporter-url at it, "+
				"or run check --wait=%s to measure here for a whole idle window and the settle time.", human(MeasureFor(o.Settle)+time.Minute))}},
		Notes: []string{"check never says safe on less than one whole measured idle window."},
	}
}

// judgeOnce judges the source's history now; it also returns the evidence,
// for SafeFor.
func judgeOnce(ctx context.Context, src source, settle time.Duration) (Report, evidence, error) {
	ev, err := src.history(ctx)
	if err != nil {
		return couldNotTell(err, CheckOptions{Settle: settle}), ev, nil
	}
	r, err := Judge(ev.h, ev.at, ev.options(), Target, ev.ctx)
	if ev.idleWindow != 0 {
		r.Notes = append(r.Notes, measuredNote(ev.interval, ev.idleWindow)[1:]...)
	}
	return r, ev, err
}

func waitSafe(ctx context.Context, src source, o CheckOptions) (Report, error) {
	start := time.Now()
	deadline := start.Add(o.Wait)
	var lastLine string
	var lastShown time.Time
	for {
		r, ev, err := judgeOnce(ctx, src, o.Settle)
		if err != nil {
			return r, err
		}
		now := time.Now()
		safeFor := time.Duration(0)
		if r.Safe {
			if safeFor, _, err = verdict.SafeFor(ev.h, ev.at, ev.options(), Target, o.Settle); err != nil {
				return r, err
			}
			r.SafeForSeconds = safeFor.Seconds()
		}
		if r.Safe && safeFor >= o.Settle {
			progress(o, now, fmt.Sprintf("safe at every evaluation for %s: done", human(safeFor)))
			return r, nil
		}
		line := progressLine(r, safeFor, o.Settle)
		if line != lastLine || now.Sub(lastShown) >= time.Minute {
			progress(o, now, fmt.Sprintf("%s (gives up in %s)", line, human(deadline.Sub(now).Round(time.Second))))
			lastLine, lastShown = line, now
		}
		left := deadline.Sub(now)
		if left <= 0 || !sleep(ctx, min(o.Interval, left)) {
			why := fmt.Sprintf("gave up after %s", human(now.Sub(start).Round(time.Second)))
			if ctx.Err() != nil {
				why = "interrupted"
			}
			if r.Safe {
				why += fmt.Sprintf(": safe for only %s of the %s settle time", human(safeFor), human(o.Settle))
				r.Outcome, r.Safe = OutcomeBlocked, false
			}
			r.ExitCode = r.Outcome.ExitCode()
			r.Notes = append(r.Notes, why)
			progress(o, now, why)
			return r, nil
		}
	}
}

func progressLine(r Report, safeFor, settle time.Duration) string {
	if r.Safe {
		return fmt.Sprintf("safe for %s of %s", human(safeFor), human(settle))
	}
	var parts []string
	for _, row := range r.Rows {
		if row.State == StateBlocked || row.State == StateUnknown {
			parts = append(parts, row.Hazard+" "+row.State)
		}
	}
	return fmt.Sprintf("%s: %s", r.Outcome, strings.Join(parts, ", "))
}

func progress(o CheckOptions, now time.Time, msg string) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "%s %s\n", now.Format(time.RFC3339), msg)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func write(o CheckOptions, r Report) error {
	if o.Out == nil {
		return nil
	}
	if o.JSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return WriteChecklist(o.Out, r)
}

// WriteChecklist prints the report as text: a headline, the notes, then one
// line per hazard with its state, the evidence and what to do.
func WriteChecklist(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "OfficeScan upgrade readiness: %s (exit code %d) at %s\n", r.Outcome.Headline(), r.ExitCode, r.Time.Format(time.RFC3339))
	if r.Safe {
		fmt.Fprintf(&b, "Safe at every evaluation for %s; the alert OfficeScanUpgradeWindowOpen fires after %s.\n",
			human(time.Duration(r.SafeForSeconds)*time.Second), human(time.Duration(r.WindowOpenForSeconds)*time.Second))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range r.Rows {
		line := oneLine(row.Evidence)
		if row.Action != "" {
			line += ". To do: " + oneLine(row.Action)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", row.State, row.Hazard, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a value read from a file or an error message on its line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
