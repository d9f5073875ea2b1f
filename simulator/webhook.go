package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Notification is one alert as Alertmanager's webhook delivered it.
type Notification struct {
	Receiver  string            `json:"receiver"`
	Status    string            `json:"status"`
	AlertName string            `json:"alertname"`
	Labels    map[string]string `json:"labels"`
	Summary   string            `json:"summary"`
}

// Receiver is a webhook endpoint for Alertmanager that logs and keeps every
// notification it gets.
type Receiver struct {
	logger *slog.Logger
	mu     sync.Mutex
	got    []Notification
}

// NewReceiver returns a receiver logging through logger.
func NewReceiver(logger *slog.Logger) *Receiver { return &Receiver{logger: logger} }

type webhookMessage struct {
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// ServeHTTP takes a POST from Alertmanager; GET lists what arrived as JSON.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rc.got)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var m webhookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, fmt.Sprintf("not an Alertmanager webhook message: %v", err), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, a := range m.Alerts {
		n := Notification{Receiver: m.Receiver, Status: a.Status, AlertName: a.Labels["alertname"], Labels: a.Labels, Summary: a.Annotations["summary"]}
		rc.got = append(rc.got, n)
		rc.logger.Info("notification", "receiver", n.Receiver, "status", n.Status, "alert", n.AlertName, "labels", labelString(a.Labels), "summary", n.Summary)
	}
}

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}
