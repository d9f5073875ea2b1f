package promtooltest

import (
	"testing"
	"time"
)

// TestValuesAndHourShare: a pattern of two safe minutes, three without a
// verdict and the rest of the hour unsafe, written in promtool's notation
// and averaged over the verdicts present.
func TestValuesAndHourShare(t *testing.T) {
	p := func(t time.Duration) int {
		switch m := int(t / time.Minute); {
		case m < 2:
			return 1
		case m < 5:
			return NoSample
		}
		return 0
	}
	if got, want := Values(p, 59*time.Minute), "1x1 _x3 0x54"; got != want {
		t.Errorf("Values = %q, want %q", got, want)
	}
	if got, ok := HourShare(p, 0); !ok || got != 2.0/57 {
		t.Errorf("HourShare = %v, %v, want 2/57", got, ok)
	}
	if _, ok := HourShare(func(time.Duration) int { return NoSample }, 0); ok {
		t.Error("an hour without any verdict has a share")
	}
}

// TestClock: promtool's clock starts on a Thursday at midnight UTC.
func TestClock(t *testing.T) {
	if d, h, w := Clock(Week + 3*24*time.Hour + 2*time.Hour); d != time.Sunday || h != 2 || w != 1 {
		t.Errorf("Clock = %v %d week %d, want Sunday 2 week 1", d, h, w)
	}
}
