package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// CheckOptions configure RunCheck.
type CheckOptions struct {
	Eval EvaluateOptions
	// Timeout bounds a single check: it samples until the database's
	// measurement window is complete, but no longer than this.
	Timeout time.Duration
	// Wait, when positive, keeps checking until the verdict has been safe
	// without a break for Settle, and gives up after Wait.
	Wait   time.Duration
	Settle time.Duration
	// Interval is the time between two evaluations.
	Interval time.Duration
	// JSON prints the verdict as JSON instead of a checklist.
	JSON bool
	// Out receives the verdict; Progress receives --wait's progress lines.
	Out, Progress io.Writer
}

// Report is what a check prints: the verdict and how it was reached.
type Report struct {
	Verdict
	ExitCode int `json:"exit_code"`
	// SafeForSeconds is how long the verdict has been safe without a break
	// (--wait only).
	SafeForSeconds float64 `json:"safe_for_seconds,omitempty"`
	// Notes explain the measurement, e.g. that the database window is
	// shorter than the rules'.
	Notes []string `json:"notes"`
}

// EvaluateScrape scrapes s once and evaluates the result. A scrape that
// cannot be gathered makes the verdict unknown at best.
func EvaluateScrape(ctx context.Context, s *Scraper, opts EvaluateOptions) Verdict {
	obs, err := s.Observe(ctx)
	v := Evaluate(obs, opts)
	if err != nil {
		v.Checks = append(v.Checks, Check{Name: "Scrape", Title: "The exporter's scrape is consistent",
			State: StateUnknown, Evidence: err.Error(),
			Action: "Report this as a bug of the exporter; its metrics cannot be trusted until it is fixed."})
		v.Outcome = outcomeOf(v.Checks)
		v.Safe = v.Outcome == OutcomeSafe
	}
	return v
}

// RunCheck answers whether the upgrade may start now (or, with Wait, once it
// may) and prints the answer. It returns the exit code: 0 safe, 1 blocked
// (or still not settled at the deadline), 2 could not tell.
func RunCheck(ctx context.Context, s *Scraper, o CheckOptions) (Report, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	var r Report
	if o.Wait > 0 {
		r = waitSafe(ctx, s, o)
	} else {
		r = checkOnce(ctx, s, o)
	}
	r.Notes = append(notes(o, r.Verdict), r.Notes...)
	return r, writeReport(o, r)
}

func checkOnce(ctx context.Context, s *Scraper, o CheckOptions) Report {
	deadline := time.Now().Add(o.Timeout)
	for {
		v := EvaluateScrape(ctx, s, o.Eval)
		left := time.Until(deadline)
		if !v.Pending() || left <= 0 {
			return Report{Verdict: v, ExitCode: v.Outcome.ExitCode()}
		}
		if !sleep(ctx, min(o.Interval, left)) {
			return Report{Verdict: v, ExitCode: v.Outcome.ExitCode(), Notes: []string{"interrupted before the measurement was complete"}}
		}
	}
}

func waitSafe(ctx context.Context, s *Scraper, o CheckOptions) Report {
	start := time.Now()
	deadline := start.Add(o.Wait)
	var (
		safeSince time.Time
		lastLine  string
		lastShown time.Time
		v         Verdict
	)
	for {
		v = EvaluateScrape(ctx, s, o.Eval)
		now := time.Now()
		if v.Safe {
			if safeSince.IsZero() {
				safeSince = now
			}
		} else {
			safeSince = time.Time{}
		}
		var safeFor time.Duration
		if !safeSince.IsZero() {
			safeFor = now.Sub(safeSince)
		}
		if v.Safe && safeFor >= o.Settle {
			progress(o, now, fmt.Sprintf("safe for %s: done", human(safeFor.Round(time.Second))))
			return Report{Verdict: v, ExitCode: 0, SafeForSeconds: safeFor.Seconds()}
		}
		line := progressLine(v, safeFor, o.Settle)
		// A line when the situation changes, and one a minute otherwise so
		// that a long wait visibly lives.
		if line != lastLine || now.Sub(lastShown) >= time.Minute {
			progress(o, now, fmt.Sprintf("%s (gives up in %s)", line, human(deadline.Sub(now).Round(time.Second))))
			lastLine, lastShown = line, now
		}
		left := deadline.Sub(now)
		if left <= 0 || !sleep(ctx, min(o.Interval, left)) {
			r := Report{Verdict: v, SafeForSeconds: safeFor.Seconds(), ExitCode: 1}
			if v.Outcome == OutcomeUnknown {
				r.ExitCode = 2
			}
			why := fmt.Sprintf("gave up after %s", human(now.Sub(start).Round(time.Second)))
			if ctx.Err() != nil {
				why = "interrupted"
			}
			if v.Safe {
				why += fmt.Sprintf(": safe for only %s of the %s settle period", human(safeFor.Round(time.Second)), human(o.Settle))
			}
			r.Notes = []string{why}
			progress(o, now, why)
			return r
		}
	}
}

func progressLine(v Verdict, safeFor, settle time.Duration) string {
	if v.Safe {
		return fmt.Sprintf("safe for %s of %s", human(safeFor.Round(time.Second)), human(settle))
	}
	var parts []string
	for _, c := range v.Blockers() {
		what := string(c.State)
		if c.Pending {
			what = "measuring"
		}
		parts = append(parts, c.Name+" "+what)
	}
	if len(parts) == 0 {
		return string(v.Outcome)
	}
	return fmt.Sprintf("%s: %s", v.Outcome, strings.Join(parts, ", "))
}

func progress(o CheckOptions, now time.Time, msg string) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "%s %s\n", now.Format(time.RFC3339), msg)
	}
}

// notes say what the measurement was, so that nobody mistakes a check's
// short database window for the rules' five minutes.
func notes(o CheckOptions, v Verdict) []string {
	if !v.measuredDatabase() {
		return nil
	}
	w := o.Eval.DatabaseWindow
	if o.Wait > 0 {
		n := fmt.Sprintf("DbServer.exe's CPU is measured over sliding %s windows; --wait requires every evaluation to be safe for %s (--settle)", human(w), human(o.Settle))
		if o.Settle < DatabaseIdleWindow {
			n += fmt.Sprintf(", which is shorter than the %s the alert rule averages the database over", human(DatabaseIdleWindow))
		}
		return []string{n + "."}
	}
	return []string{fmt.Sprintf("DbServer.exe's CPU was measured over the last %s only, not the %s the alert rule averages over; use --wait to watch it for longer.", human(w), human(DatabaseIdleWindow))}
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

var outcomeText = map[Outcome]string{
	OutcomeSafe:    "SAFE to upgrade",
	OutcomeBlocked: "BLOCKED",
	OutcomeUnknown: "COULD NOT TELL",
}

func writeReport(o CheckOptions, r Report) error {
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
	fmt.Fprintf(&b, "OfficeScan upgrade readiness: %s (exit code %d) at %s\n", outcomeText[r.Outcome], r.ExitCode, r.Time.Format(time.RFC3339))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		line := oneLine(c.Evidence)
		if c.Action != "" {
			line += ". To do: " + oneLine(c.Action)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.State, c.Name, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a value read from a file or an error message on its line,
// so the checklist stays one line per hazard.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
