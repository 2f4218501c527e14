package status

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/styx-vpn/styx/internal/birdd"
	"github.com/styx-vpn/styx/internal/vici"
)

// Conn is one configured connection and its SAs.
type Conn struct {
	Name string `json:"name"`
	// State is "up" (an IKE_SA is established and every expected child is
	// installed), "partial", "connecting" or "down".
	State string `json:"state"`
	// Initiator tells whether this gateway brings the tunnel up.
	Initiator bool `json:"initiator"`
	// Expected children (from the topology, when known).
	Expected []string     `json:"expected_children,omitempty"`
	SAs      []vici.IKESA `json:"ike_sas"`
	// Reason explains a connection that is not up, when known.
	Reason string `json:"reason,omitempty"`
	// RoadWarrior marks remote-access connections (any number of SAs).
	RoadWarrior bool `json:"road_warrior,omitempty"`
}

// Report is the status of one gateway. Its JSON form is documented in
// docs/status.md and stays compatible within a major version.
type Report struct {
	Version int    `json:"version"` // 1
	Gateway string `json:"gateway,omitempty"`
	Conns   []Conn `json:"connections"`
	// BGP are the gateway's BGP sessions (BIRD), for gateways with bgp.
	BGP    []BGPSession `json:"bgp,omitempty"`
	Health Health       `json:"health"`
}

// BGPSession is one BGP session of BIRD over a route-based tunnel.
type BGPSession struct {
	Name   string `json:"name"`             // BIRD protocol name
	Tunnel string `json:"tunnel,omitempty"` // the tunnel it runs over
	Peer   string `json:"peer,omitempty"`   // the peer gateway
	// State is "established", "down" (BIRD has no such protocol: not
	// configured) or BIRD's BGP state in lower case (active, connect,
	// idle, opensent, openconfirm).
	State string `json:"state"`
	Since string `json:"since,omitempty"`
	// Info is the rest of BIRD's line (e.g. the last error).
	Info string `json:"info,omitempty"`
}

// Health summarises a report.
type Health struct {
	OK      bool     `json:"ok"`
	Up      int      `json:"up"`
	Total   int      `json:"total"`
	Down    []string `json:"down,omitempty"`
	Summary string   `json:"summary"`
}

// Evaluate sets each connection's state and the report's health.
func (r *Report) Evaluate() {
	r.Version = 1
	r.Health = Health{}
	for i := range r.Conns {
		c := &r.Conns[i]
		c.State = connState(c)
		if c.RoadWarrior {
			continue // road warriors come and go
		}
		r.Health.Total++
		if c.State == "up" {
			r.Health.Up++
		} else {
			r.Health.Down = append(r.Health.Down, c.Name)
		}
	}
	var bgpDown []string
	for _, s := range r.BGP {
		if s.State != "established" {
			bgpDown = append(bgpDown, s.Name)
		}
	}
	r.Health.OK = r.Health.Up == r.Health.Total && len(bgpDown) == 0
	switch {
	case r.Health.Total == 0:
		r.Health.Summary = "no site-to-site connections"
	case r.Health.OK:
		r.Health.Summary = fmt.Sprintf("healthy: %d of %d tunnels up", r.Health.Up, r.Health.Total)
	default:
		r.Health.Summary = fmt.Sprintf("degraded: %d of %d tunnels up; down: %s", r.Health.Up, r.Health.Total, strings.Join(r.Health.Down, ", "))
	}
	var rw, rwUp int
	for _, c := range r.Conns {
		if c.RoadWarrior {
			rw++
			rwUp += len(c.SAs)
		}
	}
	if rw > 0 {
		r.Health.Summary += fmt.Sprintf("; %d road warrior(s) connected", rwUp)
	}
	if len(r.BGP) > 0 {
		r.Health.Summary += fmt.Sprintf("; BGP: %d of %d sessions established", len(r.BGP)-len(bgpDown), len(r.BGP))
		if len(bgpDown) > 0 {
			r.Health.Summary += " (not: " + strings.Join(bgpDown, ", ") + ")"
		}
	}
}

func connState(c *Conn) string {
	established := false
	installed := map[string]bool{}
	for _, sa := range c.SAs {
		if sa.State == "ESTABLISHED" {
			established = true
			for _, ch := range sa.Children {
				if ch.State == "INSTALLED" {
					installed[ch.Name] = true
				}
			}
		}
	}
	switch {
	case c.RoadWarrior:
		if established {
			return "up"
		}
		return "idle"
	case !established && len(c.SAs) > 0:
		return "connecting"
	case !established:
		return "down"
	}
	for _, e := range c.Expected {
		if !installed[e] {
			return "partial"
		}
	}
	if len(installed) == 0 {
		return "partial"
	}
	return "up"
}

// JSON writes the report as indented JSON. Empty lists are written as []
// (never null), so that consumers can iterate without checks.
func (r *Report) JSON(w io.Writer) error {
	if r.Conns == nil {
		r.Conns = []Conn{}
	}
	for i := range r.Conns {
		if r.Conns[i].SAs == nil {
			r.Conns[i].SAs = []vici.IKESA{}
		}
		for j := range r.Conns[i].SAs {
			if r.Conns[i].SAs[j].Children == nil {
				r.Conns[i].SAs[j].Children = []vici.ChildSA{}
			}
		}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// Table writes the report for people.
func (r *Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTION\tSTATE\tPEER\tIKE\tCHILD\tCHILD STATE\tBYTES IN/OUT\tPACKETS IN/OUT\tLAST IN/OUT\tREKEY IN")
	for _, c := range r.Conns {
		if len(c.SAs) == 0 {
			reason := c.Reason
			if reason == "" {
				reason = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t%s\n", c.Name, c.State, reason)
			continue
		}
		for _, sa := range c.SAs {
			ike := strings.Trim(strings.Join([]string{sa.Encryption, sa.PRF, sa.DHGroup}, "/"), "/")
			peer := fmt.Sprintf("%s %s", sa.RemoteHost, sa.RemoteID)
			if len(sa.Children) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t%s\n", c.Name, c.State, peer, ike, Seconds(sa.RekeyIn))
			}
			for _, ch := range sa.Children {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s/%s\t%d/%d\t%s/%s\t%s\n",
					c.Name, c.State, peer, ike, ch.Name, ch.State,
					Bytes(ch.BytesIn), Bytes(ch.BytesOut), ch.PacketsIn, ch.PacketsOut,
					Seconds(ch.UseIn), Seconds(ch.UseOut), Seconds(ch.RekeyIn))
			}
		}
	}
	if len(r.BGP) > 0 {
		fmt.Fprintln(tw, "\nBGP SESSION\tSTATE\tTUNNEL\tPEER\tSINCE\tINFO")
		for _, s := range r.BGP {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.State, dash(s.Tunnel), dash(s.Peer), dash(s.Since), dash(s.Info))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s\n", r.Health.Summary)
	return err
}

// Bytes formats a byte count: 512, 4.7k, 12.0M.
func Bytes(n uint64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 1000_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	case n < 1000_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fG", float64(n)/1e9)
}

// Seconds formats a duration in seconds (-1 = never): 42s, 11m, 3h.
func Seconds(s int64) string {
	switch {
	case s < 0:
		return "never"
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case s < 7200:
		return fmt.Sprintf("%dm", s/60)
	}
	return fmt.Sprintf("%dh", s/3600)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// BGPFromBird turns BIRD's BGP protocols into sessions; want are the
// sessions the plan expects (BIRD protocol name to tunnel and peer), shown
// as down when BIRD does not have them. Sessions are sorted by name.
func BGPFromBird(protos []birdd.Protocol, want map[string][2]string) []BGPSession {
	var out []BGPSession
	seen := map[string]bool{}
	for _, p := range protos {
		if p.Proto != "BGP" {
			continue
		}
		seen[p.Name] = true
		s := BGPSession{Name: p.Name, Since: p.Since, Tunnel: want[p.Name][0], Peer: want[p.Name][1]}
		state, info, _ := strings.Cut(p.Info, " ")
		switch {
		case p.Established():
			s.State = "established"
		case state != "":
			s.State = strings.ToLower(state)
		default:
			s.State = p.State
		}
		s.Info = info
		out = append(out, s)
	}
	for name, tp := range want {
		if !seen[name] {
			out = append(out, BGPSession{Name: name, Tunnel: tp[0], Peer: tp[1], State: "down", Info: "not configured in BIRD (run styx apply)"})
		}
	}
	slices.SortFunc(out, func(a, b BGPSession) int { return strings.Compare(a.Name, b.Name) })
	return out
}
