package readiness

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/verdict"
)

// HistoryDoc is the wire form of a recorded history, served at
// PathHistory for `check`. Values are strings because JSON has no NaN,
// and a staleness marker is "stale".
type HistoryDoc struct {
	// Time is the exporter's clock when it answered: `check` judges at it,
	// so clocks that disagree do not matter.
	Time            time.Time `json:"time"`
	IntervalSeconds float64   `json:"interval_seconds"`
	// IdleWindowSeconds is the exporter's idle window (0: the shipped one).
	IdleWindowSeconds float64     `json:"idle_window_seconds,omitempty"`
	Series            []SeriesDoc `json:"series"`
	Context
}

// SeriesDoc is one series: samples are [unix milliseconds, value].
type SeriesDoc struct {
	Metric  string               `json:"metric"`
	Labels  map[string]string    `json:"labels"`
	Samples [][2]json.RawMessage `json:"samples"`
}

// EncodeHistory returns the wire form of h.
func EncodeHistory(h verdict.History, now time.Time, interval, idleWindow time.Duration, c Context) HistoryDoc {
	doc := HistoryDoc{Time: now, IntervalSeconds: interval.Seconds(), Series: make([]SeriesDoc, 0, len(h.Series)), Context: c}
	if idleWindow != hazard.IdleWindow {
		doc.IdleWindowSeconds = idleWindow.Seconds()
	}
	for _, s := range h.Series {
		sd := SeriesDoc{Metric: s.Metric, Labels: s.Labels, Samples: make([][2]json.RawMessage, 0, len(s.Samples))}
		for _, p := range s.Samples {
			v := "stale"
			if !p.Stale {
				v = strconv.FormatFloat(p.V, 'g', -1, 64)
			}
			sd.Samples = append(sd.Samples, [2]json.RawMessage{
				json.RawMessage(strconv.FormatInt(p.T.UnixMilli(), 10)), json.RawMessage(strconv.Quote(v)),
			})
		}
		doc.Series = append(doc.Series, sd)
	}
	return doc
}

// Decode returns the history and interval of a document, rejecting what an
// exporter never sends.
func (doc HistoryDoc) Decode() (verdict.History, time.Duration, error) {
	interval := time.Duration(doc.IntervalSeconds * float64(time.Second))
	if doc.Time.IsZero() || interval < time.Second {
		return verdict.History{}, 0, fmt.Errorf("the history has no time or no recording interval of at least 1s")
	}
	h := verdict.History{Series: make([]verdict.Series, 0, len(doc.Series))}
	for i, sd := range doc.Series {
		if sd.Metric == "" {
			return verdict.History{}, 0, fmt.Errorf("series %d has no metric name", i+1)
		}
		s := verdict.Series{Metric: sd.Metric, Labels: sd.Labels}
		for _, pair := range sd.Samples {
			ms, err := strconv.ParseInt(string(pair[0]), 10, 64)
			if err != nil {
				return verdict.History{}, 0, fmt.Errorf("series %s: sample time %s is not whole milliseconds", sd.Metric, pair[0])
			}
			var text string
			if err := json.Unmarshal(pair[1], &text); err != nil {
				return verdict.History{}, 0, fmt.Errorf("series %s: sample value %s is not a quoted number", sd.Metric, pair[1])
			}
			p := verdict.Sample{T: time.UnixMilli(ms)}
			if text == "stale" {
				p.Stale = true
			} else if p.V, err = strconv.ParseFloat(text, 64); err != nil {
				return verdict.History{}, 0, fmt.Errorf("series %s: sample value %q is not a number", sd.Metric, text)
			}
			s.Samples = append(s.Samples, p)
		}
		h.Series = append(h.Series, s)
	}
	return h, interval, nil
}
