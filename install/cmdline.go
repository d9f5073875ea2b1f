package install

import "strings"

// CommandLine is the service's command line: exe (an absolute path) and
// args quoted as Windows programs, Go's among them, split a command line
// (CommandLineToArgvW's rules).
func CommandLine(exe string, args ...string) string {
	var b strings.Builder
	// The program's name is split by simpler rules: up to the closing
	// quote, no escapes. A Windows path holds no quote.
	if strings.ContainsAny(exe, " \t") {
		b.WriteString(`"` + exe + `"`)
	} else {
		b.WriteString(exe)
	}
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(QuoteArg(a))
	}
	return b.String()
}

// QuoteArg quotes one argument when it must be: when it is empty or holds a
// space, a tab or a quote. Inside quotes, backslashes are literal except
// before a quote, where each is doubled and the quote escaped.
func QuoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
			b.WriteByte(c)
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
		}
		slashes = 0
		b.WriteByte(c)
	}
	// Backslashes before the closing quote are doubled too.
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}
