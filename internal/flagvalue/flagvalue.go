// Package flagvalue gives kingpin flags values whose errors a person can
// read: the flag, the value given and what is expected, never a Go internal
// such as `strconv.ParseFloat` or `time: invalid duration`.
package flagvalue

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

type duration struct {
	flag string
	p    *time.Duration
}

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("--%s=%q is not a duration: use a number and a unit, such as 500ms, 30s, 5m or 1h", d.flag, s)
	}
	if v < 0 {
		return fmt.Errorf("--%s=%q is negative: use 0 or more, such as 30s", d.flag, s)
	}
	*d.p = v
	return nil
}

func (d *duration) String() string { return d.p.String() }

// Duration makes f a duration flag stored in p.
func Duration(f *kingpin.FlagClause, p *time.Duration) {
	f.SetValue(&duration{flag: f.Model().Name, p: p})
}

type integer struct {
	flag string
	p    *int
}

func (i *integer) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return fmt.Errorf("--%s=%q is not a whole number of 0 or more, such as 40", i.flag, s)
	}
	*i.p = v
	return nil
}

func (i *integer) String() string { return strconv.Itoa(*i.p) }

// Count makes f a flag of a whole number, 0 or more, stored in p.
func Count(f *kingpin.FlagClause, p *int) {
	f.SetValue(&integer{flag: f.Model().Name, p: p})
}
