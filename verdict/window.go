package verdict

import (
	"time"

	"github.com/officescan-exporter/officescan_exporter/hazard"
)

// The alert OfficeScanUpgradeWindowOpen is `officescan:upgrade_window_safe
// == 1` with `for: 15m`: it fires at an evaluation when the verdict was safe
// at that one and at every evaluation of the 15 minutes before. The rules
// evaluate once per evaluation interval, so this looks back in those steps
// from `at`.

// WindowOpen reports whether OfficeScanUpgradeWindowOpen fires at `at` for
// the target: every target whose labels include all of target's was safe at
// each evaluation from at-hazard.WindowOpenFor to at. This is what `check
// --wait` and the page wait for.
func WindowOpen(h History, at time.Time, o Options, target map[string]string) (bool, error) {
	d, safe, err := SafeFor(h, at, o, target, hazard.WindowOpenFor)
	return safe && d >= hazard.WindowOpenFor, err
}

// SafeFor returns how long the target has been safe at every evaluation up
// to `at`, looking back at most limit, and whether it is safe at `at`
// (safe for 0 means safe at this evaluation only). The history must reach
// back limit plus the idle window and the lookback for the answer to say
// "limit".
func SafeFor(h History, at time.Time, o Options, target map[string]string, limit time.Duration) (time.Duration, bool, error) {
	o, err := o.complete()
	if err != nil {
		return 0, false, err
	}
	ix := newIndex(h, o.TargetLabels)
	step := o.EvaluationInterval
	t := toMillis(at)
	var d time.Duration
	for k := 0; time.Duration(k)*step <= limit; k++ {
		if !allSafe(ix.evaluate(t-int64(k)*millis(step), &o), target) {
			return d, k > 0, nil
		}
		d = time.Duration(k) * step
	}
	return d, true, nil
}

// allSafe: some verdict matches target, and every one that does is safe.
func allSafe(vs []TargetVerdict, target map[string]string) bool {
	found := false
	for _, v := range vs {
		if !matches(v.Target, target) {
			continue
		}
		found = true
		if !v.Safe {
			return false
		}
	}
	return found
}
