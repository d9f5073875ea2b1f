// Command fakeproc stands in for an OfficeScan process in tests and the demo.
// Copy it to the name to imitate (DbServer.exe, AutoPcc.exe) and run it: the
// OS then lists a process of that name. With -spin it keeps one core busy, as
// a working database would.
package main

import (
	"flag"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	spin := flag.Bool("spin", false, "keep one core busy")
	lifetime := flag.Duration("for", 0, "exit after this long (0: run until signalled)")
	flag.Parse()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var deadline <-chan time.Time
	if *lifetime > 0 {
		deadline = time.After(*lifetime)
	}
	if !*spin {
		select {
		case <-stop:
		case <-deadline:
		}
		return
	}
	for {
		select {
		case <-stop:
			return
		case <-deadline:
			return
		default:
			burn()
		}
	}
}

// burn keeps the CPU busy for a moment between checks for a signal.
func burn() {
	x := uint64(1)
	for i := 0; i < 1_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	if x == 42 {
		os.Exit(3) // never: keeps the loop from being optimised away
	}
}
