package promfmt

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m",
		26 * time.Hour: "1d2h", 1500 * time.Millisecond: "1s500ms", -time.Minute: "-1m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestLabels(t *testing.T) {
	if got := Labels(map[string]string{"reason": "b", "hazard": `a"`}); got != `{hazard="a\"",reason="b"}` {
		t.Errorf("Labels = %s", got)
	}
	if got := Labels(nil); got != "{}" {
		t.Errorf("Labels(nil) = %s", got)
	}
}
