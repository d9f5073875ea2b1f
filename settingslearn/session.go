package settingslearn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/officescan-exporter/officescan_exporter/config"
	"github.com/officescan-exporter/officescan_exporter/hazard"
	"github.com/officescan-exporter/officescan_exporter/settingsdiff"
)

// Session is one run of `settings learn`.
type Session struct {
	// Dir is the server folder (PCCSRV); DirSource says where it came from.
	Dir, DirSource string
	// ConfigPath is the config file the mappings are written into.
	ConfigPath string
	// Settings are learned in order.
	Settings []hazard.Setting
	// Mapped are the mappings the config file holds already.
	Mapped map[string]config.Setting
	In     io.Reader
	Out    io.Writer

	lines <-chan string
	// readErr is why lines was closed.
	readErr error
}

// Result says what became of each setting.
type Result struct {
	Learned, Skipped []string
	// Quit: the admin stopped before the last setting.
	Quit bool
}

// errSkip and errQuit are the admin's answers s and q.
var (
	errSkip = errors.New("skip")
	errQuit = errors.New("quit")
)

// Run learns each setting in turn. An error ends the session: input that
// ended, a folder that cannot be read, a config file that cannot be
// written. Mappings written before stay written.
func (s *Session) Run(ctx context.Context) (Result, error) {
	var r Result
	s.startReading()
	s.printf("Server folder: %s (%s)\nConfig file:   %s\n", s.Dir, s.DirSource, s.ConfigPath)
	s.printf("For each setting: you change one option in the OfficeScan web console and save; this finds the ini\n" +
		"key that changed; you change the option back, the key must return to its first value, and the\n" +
		"mapping is written into the config file (the previous file kept as a .bak beside it).\n")
	for i, set := range s.Settings {
		s.printf("\n== Setting %d of %d: %s\n", i+1, len(s.Settings), set.Name)
		err := s.learn(ctx, set)
		switch {
		case err == nil:
			r.Learned = append(r.Learned, set.Name)
		case errors.Is(err, errSkip):
			r.Skipped = append(r.Skipped, set.Name)
			s.printf("Skipped %s: nothing written for it. Make sure the option is set the way you want it.\n", set.Name)
		case errors.Is(err, errQuit):
			r.Quit = true
			for _, rest := range s.Settings[i:] {
				r.Skipped = append(r.Skipped, rest.Name)
			}
			s.summary(r)
			return r, nil
		default:
			s.summary(r)
			return r, fmt.Errorf("setting %s: %w", set.Name, err)
		}
	}
	s.summary(r)
	return r, nil
}

func (s *Session) summary(r Result) {
	s.printf("\nLearned: %s\n", list(r.Learned))
	var kept, unknown []string
	for _, name := range r.Skipped {
		if _, ok := s.Mapped[name]; ok {
			kept = append(kept, name)
		} else {
			unknown = append(unknown, name)
		}
	}
	if len(kept) > 0 {
		s.printf("Not learned, mapping kept as it was: %s.\n", list(kept))
	}
	if len(unknown) > 0 {
		s.printf("Not learned: %s. Each stays unknown, which blocks the upgrade verdict, until it is mapped:\n"+
			"run settings learn again, or see docs/collector.settings.md.\n", list(unknown))
	}
	if len(r.Learned) > 0 {
		s.printf("Restart the exporter to read the new mappings.\n")
	}
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// learn is one setting, from the first snapshot to the mapping written.
func (s *Session) learn(ctx context.Context, set hazard.Setting) error {
	s.printf("Option: %s\nWhere:  %s\n", set.Option, set.ConsolePath)
	if m, ok := s.Mapped[set.Name]; ok {
		s.printf("Mapped already (at %s) to %s [%s] %s; learning it again replaces that mapping.\n", m.Source, m.File, m.Section, m.Key)
	}
	for {
		c, before, err := s.toggle(ctx)
		if err != nil {
			return err
		}
		if c == nil {
			continue // start again
		}
		opts := settingsdiff.BlockOptions{Setting: set.Name, File: c.File}
		if _, err := settingsdiff.Mapping(c.Change, opts); err != nil {
			s.printf("%s cannot be mapped: %v.\n", c.Where(), err)
			if err := s.retryOrSkip(ctx); err != nil {
				return err
			}
			continue
		}
		if opts.EnabledInBefore, err = s.onOrOff(ctx); err != nil {
			return err
		}
		m, err := settingsdiff.Mapping(c.Change, opts)
		if err != nil {
			return err
		}
		if err := s.confirm(ctx, *c, before); err != nil {
			return err
		}
		return s.write(set.Name, *c, m)
	}
}

// maxOther caps the list of changes that are not candidates.
const maxOther = 20

// toggle has the admin change the option and returns the key that changed
// with the snapshot from before; nil when the admin asked to start again.
func (s *Session) toggle(ctx context.Context) (*Candidate, *Snapshot, error) {
	before, err := s.snapshot()
	if err != nil {
		return nil, nil, err
	}
	s.printf("In the web console, change this option only (on if it is off, off if it is on) and save it.\n")
	if _, err := s.ask(ctx, "Press Enter once it is saved (s: skip this setting, q: quit) > "); err != nil {
		return nil, nil, err
	}
	after, err := s.snapshot()
	if err != nil {
		return nil, nil, err
	}
	cmp := Compare(before, after)
	if len(cmp.Other) > 0 {
		s.printf("Also changed (not candidates: a key that is missing on one side cannot be mapped):\n")
		for i, o := range cmp.Other {
			if i == maxOther {
				s.printf("  ... and %d more\n", len(cmp.Other)-maxOther)
				break
			}
			s.printf("  %s\n", o)
		}
	}
	switch len(cmp.Changed) {
	case 0:
		s.printf("No key changed value in the %d ini files under %s.\n"+
			"Was the option saved? If it was, it may not be kept in an ini file of this folder.\n", len(after.Files), s.Dir)
		return nil, nil, s.retryOrSkip(ctx)
	case 1:
		c := cmp.Changed[0]
		s.printf("One key changed value: %s\n", c)
		return &c, before, nil
	}
	s.printf("%d keys changed value:\n", len(cmp.Changed))
	for i, c := range cmp.Changed {
		s.printf("  %d) %s\n", i+1, c)
	}
	s.printf("Keys that change at every save (time stamps, counters) show up here too: changing the option\n" +
		"back and forth once more shows which key follows the option.\n")
	for {
		answer, err := s.ask(ctx, fmt.Sprintf("Type the number of the option's key (1-%d), r to start this setting again, s to skip it > ", len(cmp.Changed)))
		if err != nil {
			return nil, nil, err
		}
		if answer == "r" {
			return nil, nil, nil
		}
		if n, err := strconv.Atoi(answer); err == nil && n >= 1 && n <= len(cmp.Changed) {
			c := cmp.Changed[n-1]
			s.printf("Picked %s\n", c)
			return &c, before, nil
		}
		s.printf("%q is none of these.\n", answer)
	}
}

// retryOrSkip asks whether to start the setting again (nil) or skip it.
func (s *Session) retryOrSkip(ctx context.Context) error {
	for {
		answer, err := s.ask(ctx, "Type r to start this setting again, s to skip it > ")
		if err != nil {
			return err
		}
		if answer == "r" {
			return nil
		}
		s.printf("%q is neither r nor s.\n", answer)
	}
}

// onOrOff asks how the option is now; true when it is now off, i.e. it was
// on in the first snapshot.
func (s *Session) onOrOff(ctx context.Context) (bool, error) {
	for {
		answer, err := s.ask(ctx, "Is the option now on or off? Type on or off > ")
		if err != nil {
			return false, err
		}
		switch answer {
		case "on":
			return false, nil
		case "off":
			return true, nil
		}
		s.printf("%q is neither on nor off.\n", answer)
	}
}

// confirm has the admin change the option back and checks that c's key
// returned to the value it had in before.
func (s *Session) confirm(ctx context.Context, c Candidate, before *Snapshot) error {
	want, err := before.Value(c)
	if err != nil {
		return err
	}
	s.printf("To confirm, change the option back as it was and save it.\n")
	for {
		if _, err := s.ask(ctx, "Press Enter once it is saved (s: skip this setting, q: quit) > "); err != nil {
			return err
		}
		now, err := s.snapshot()
		if err != nil {
			return err
		}
		got, err := now.Value(c)
		switch {
		case err != nil:
			s.printf("%s cannot be read now: %v.\n", c.Where(), err)
		case got == want:
			s.printf("Confirmed: %s is back to %q.\n", c.Where(), want)
			return nil
		default:
			s.printf("%s did not return to %q: it is %q now. Nothing was written.\n", c.Where(), want, got)
		}
		s.printf("Change the option back as it was, save it, and press Enter to look again.\n")
	}
}

func (s *Session) write(name string, c Candidate, m config.Setting) error {
	w, err := config.WriteSetting(s.ConfigPath, name, m, settingsdiff.Note(c.Change, "learned by settings learn from "+c.File))
	if err != nil {
		return err
	}
	verb := "Added"
	if w.Replaced {
		verb = "Replaced"
	}
	s.printf("%s settings.%s in %s: %s, enabled_values %q, disabled_values %q.\n", verb, name, w.Path, c.Where(), m.EnabledValues, m.DisabledValues)
	if w.Backup != "" {
		s.printf("The previous file is kept as %s.\n", w.Backup)
	}
	s.printf("Read back: the file loads and maps %s.\n", name)
	return nil
}

func (s *Session) snapshot() (*Snapshot, error) {
	snap, err := Take(s.Dir)
	if err != nil {
		return nil, err
	}
	s.printf("Read %d ini files under %s", len(snap.Files), s.Dir)
	if n := len(snap.Unreadable); n > 0 {
		s.printf(" (%d could not be read)", n)
	}
	s.printf(".\n")
	return snap, nil
}

func (s *Session) printf(format string, args ...any) { fmt.Fprintf(s.Out, format, args...) }

// startReading reads the admin's lines in the background, so that a
// cancelled context ends a session waiting for one.
func (s *Session) startReading() {
	lines := make(chan string)
	s.lines = lines
	go func() {
		defer close(lines)
		r := bufio.NewReader(s.In)
		for {
			line, err := r.ReadString('\n')
			if line != "" || err == nil {
				lines <- strings.TrimSpace(line)
			}
			if err != nil {
				s.readErr = err
				return
			}
		}
	}()
}

// ask prints prompt and returns the answer, trimmed and lower-cased; s and
// q (skip, quit) are returned as errSkip and errQuit.
func (s *Session) ask(ctx context.Context, prompt string) (string, error) {
	s.printf("%s", prompt)
	select {
	case <-ctx.Done():
		s.printf("\n")
		return "", fmt.Errorf("interrupted: %w", ctx.Err())
	case line, ok := <-s.lines:
		if !ok {
			s.printf("\n")
			if s.readErr == io.EOF {
				return "", errors.New("standard input ended before the setting was learned")
			}
			return "", fmt.Errorf("reading standard input: %w", s.readErr)
		}
		switch answer := strings.ToLower(line); answer {
		case "s":
			return "", errSkip
		case "q":
			return "", errQuit
		default:
			return answer, nil
		}
	}
}
