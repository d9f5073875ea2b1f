//go:build !windows

package share

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
)

func TestNotSupportedOffWindows(t *testing.T) {
	s := Spec(&Options{Name: "ofcscan", LoginScriptFiles: DefaultLoginScriptFiles})
	if s.DefaultEnabled {
		t.Error("share collector on by default where it cannot work")
	}
	if _, err := s.New(context.Background(), promslog.NewNopLogger()); err == nil || !strings.Contains(err.Error(), "not supported on this OS") {
		t.Errorf("New = %v, want a 'not supported on this OS' error", err)
	}
}
