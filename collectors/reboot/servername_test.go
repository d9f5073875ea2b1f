package reboot

import "testing"

func TestServerName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"osce01.corp.example", "osce01.corp.example"},
		{"OSCE01.Corp.Example", "osce01.corp.example"},
		{"OSCE01.Corp.Example:8080", "osce01.corp.example"},
		{"  OSCE01:4343 ", "osce01"},
		{"osce01.corp.example.", "osce01.corp.example"},
		{"OSCE01.corp.example.:8080", "osce01.corp.example"},
		{"10.0.0.5", "10.0.0.5"},
		{"10.0.0.5:8080", "10.0.0.5"},
		{"[fe80::1]:443", "fe80::1"},
		{"[2001:DB8::A]", "2001:db8::a"},
		// Without brackets the last group is no port: the address stays whole.
		{"fe80::1", "fe80::1"},
		{"2001:db8::8080", "2001:db8::8080"},
		{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"::ffff:10.0.0.5", "10.0.0.5"},
		{"https://OSCE01.Corp.Example:4343/officescan", "osce01.corp.example"},
		{"http://[2001:db8::1]:8080/", "2001:db8::1"},
		{"host:", "host"},
		{"", ""},
		// Not a name at all: lower-cased, otherwise left as the agent wrote it.
		{`OSCE01\"quoted"`, `osce01\"quoted"`},
	} {
		if got := ServerName(tc.in); got != tc.want {
			t.Errorf("ServerName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
