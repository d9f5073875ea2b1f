package flagvalue

import (
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

func TestPlainErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--wait=abc"}, `--wait="abc" is not a duration: use a number and a unit, such as 500ms, 30s, 5m or 1h`},
		{[]string{"--wait=-5s"}, `--wait="-5s" is negative`},
		{[]string{"--max=x"}, `--max="x" is not a whole number of 0 or more, such as 40`},
		{[]string{"--max=-1"}, `--max="-1" is not a whole number`},
		{[]string{"--max=2.5"}, `--max="2.5" is not a whole number`},
	} {
		app := kingpin.New("t", "")
		var d time.Duration
		var n int
		Duration(app.Flag("wait", "").Default("1s"), &d)
		Count(app.Flag("max", "").Default("40"), &n)
		_, err := app.Parse(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
		for _, internal := range []string{"strconv", "time: invalid", "ParseFloat"} {
			if err != nil && strings.Contains(err.Error(), internal) {
				t.Errorf("%v: error %q shows a Go internal", tc.args, err)
			}
		}
	}
	app := kingpin.New("t", "")
	var d time.Duration
	var n int
	Duration(app.Flag("wait", "").Default("1s"), &d)
	Count(app.Flag("max", "").Default("40"), &n)
	if _, err := app.Parse([]string{"--wait=90s"}); err != nil || d != 90*time.Second || n != 40 {
		t.Fatalf("good values: %v, %s, %d", err, d, n)
	}
}
