package birdd

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/styx-vpn/styx/internal/netns"
)

// Protocol is one line of `birdc show protocols`.
type Protocol struct {
	Name  string `json:"name"`
	Proto string `json:"proto"` // BGP, Kernel, Static, Device, Pipe
	State string `json:"state"` // up, down, start
	Since string `json:"since"`
	// Info is the rest of the line: for BGP the session state
	// (Established, Active, Connect, ...) and the last error, if any.
	Info string `json:"info,omitempty"`
}

// Established reports whether p is a BGP session that is established.
func (p Protocol) Established() bool {
	return p.Proto == "BGP" && p.State == "up" && strings.HasPrefix(p.Info, "Established")
}

// clock matches the time part of a Since column ("23:40:01", "23:40:01.123").
var clock = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}(\.\d+)?$`)

// ParseProtocols parses the output of `birdc show protocols`: an optional
// banner ("BIRD 2.0.12 ready."), a header line starting with "Name" and
// one line per protocol. The Since column is one field ("23:40:01.123")
// or a date and a time.
func ParseProtocols(out string) ([]Protocol, error) {
	var ps []Protocol
	header := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "BIRD ") && strings.HasSuffix(line, "ready."):
			continue
		case f[0] == "Name" && len(f) > 1 && f[1] == "Proto":
			header = true
			continue
		case !header:
			return nil, fmt.Errorf("birdc show protocols: unexpected line %q", line)
		case len(f) < 5:
			return nil, fmt.Errorf("birdc show protocols: short line %q", line)
		}
		p := Protocol{Name: f[0], Proto: f[1], State: f[3], Since: f[4]}
		rest := f[5:]
		if len(rest) > 0 && clock.MatchString(rest[0]) {
			p.Since += " " + rest[0]
			rest = rest[1:]
		}
		p.Info = strings.Join(rest, " ")
		ps = append(ps, p)
	}
	if !header {
		return nil, fmt.Errorf("birdc show protocols: no header in %q", strings.TrimSpace(out))
	}
	return ps, nil
}

// Protocols asks the BIRD behind control socket sock for its protocols
// (birdc needs no network namespace: the socket is a file).
func Protocols(ctx context.Context, sock string) ([]Protocol, error) {
	out, err := netns.Run(ctx, "", "birdc", "-s", sock, "show", "protocols")
	if err != nil {
		return nil, err
	}
	return ParseProtocols(string(out))
}
