package topology

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// ParsePrefix parses a prefix and rejects one with host bits set
// ("10.1.2.3/16"), which netip accepts. A bare address is a host prefix
// (/32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP prefix", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone; prefixes cannot", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP prefix", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, &HostBitsError{In: s, Masked: unmapPrefix(p.Masked())}
	}
	return unmapPrefix(p), nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix of /96 or longer
// (::ffff:10.1.0.0/120) into the IPv4 prefix it stands for (10.1.0.0/24),
// as ParseAddr does for addresses, so that both forms overlap and compare
// equal. Shorter prefixes are IPv6 prefixes and stay as they are.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}

// HostBitsError is returned by ParsePrefix for a prefix with host bits set.
type HostBitsError struct {
	In     string
	Masked netip.Prefix
}

func (e *HostBitsError) Error() string {
	return fmt.Sprintf("prefix %q has host bits set (the network is %s)", e.In, e.Masked)
}

// ParseAddr parses an IP address without zone.
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a.Unmap(), nil
}

// protocolNames are the protocol names selectors accept, by number: the
// names charon resolves with getprotobyname(3), which selectors are
// normalised to. "icmpv6" is accepted too, as ipv6-icmp.
var protocolNames = map[uint64]string{
	1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 58: "ipv6-icmp", 132: "sctp",
}

// protocolName returns the name a selector protocol, given by name or
// number, is written with ([6] and [tcp] are tcp, [icmpv6] is ipv6-icmp,
// [0115] is 115), and false for an unknown name or a number outside 1-255.
func protocolName(p string) (string, bool) {
	if p == "icmpv6" {
		return protocolNames[58], true
	}
	for _, name := range protocolNames {
		if p == name {
			return name, true
		}
	}
	n, err := strconv.ParseUint(p, 10, 8)
	if err != nil || n == 0 {
		return "", false
	}
	if name, ok := protocolNames[n]; ok {
		return name, true
	}
	return strconv.FormatUint(n, 10), true
}

// ParseTS parses a traffic selector in swanctl syntax:
// "10.0.0.0/24", "10.0.0.2/32[tcp/8080]", "10.44.6.1/32[gre]",
// "0.0.0.0/0[udp/1000-2000]" or "dynamic".
func ParseTS(s string) (TS, error) {
	s = strings.TrimSpace(s)
	var ts TS
	net, rest, hasProto := strings.Cut(s, "[")
	if net == "dynamic" {
		ts.Dynamic = true
	} else {
		p, err := ParsePrefix(net)
		if err != nil {
			return TS{}, err
		}
		ts.Prefix = p
	}
	if !hasProto {
		return ts, nil
	}
	body, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return TS{}, fmt.Errorf("selector %q: missing ']'", s)
	}
	proto, port, hasPort := strings.Cut(body, "/")
	if proto != "" && proto != "any" && proto != "%any" {
		name, ok := protocolName(proto)
		if !ok {
			return TS{}, fmt.Errorf("selector %q: unknown protocol %q (use tcp, udp, icmp, ipv6-icmp, gre, sctp or a number)", s, proto)
		}
		ts.Proto = name
	}
	if hasPort && port != "" && port != "%any" && port != "any" {
		if ts.Proto != "tcp" && ts.Proto != "udp" && ts.Proto != "sctp" {
			return TS{}, fmt.Errorf("selector %q: a port needs tcp, udp or sctp", s)
		}
		from, to, err := parsePortRange(port)
		if err != nil {
			return TS{}, fmt.Errorf("selector %q: %v", s, err)
		}
		ts.PortFrom, ts.PortTo = from, to
	}
	return ts, nil
}

func parsePortRange(s string) (uint16, uint16, error) {
	a, b, isRange := strings.Cut(s, "-")
	from, err := strconv.ParseUint(a, 10, 16)
	if err != nil || from == 0 {
		return 0, 0, fmt.Errorf("invalid port %q", a)
	}
	to := from
	if isRange {
		to, err = strconv.ParseUint(b, 10, 16)
		if err != nil || to < from {
			return 0, 0, fmt.Errorf("invalid port range %q", s)
		}
	}
	return uint16(from), uint16(to), nil
}

// String returns the selector in swanctl syntax.
func (t TS) String() string {
	var b strings.Builder
	if t.Dynamic {
		b.WriteString("dynamic")
	} else {
		b.WriteString(t.Prefix.String())
	}
	if t.Proto != "" || t.PortFrom != 0 {
		b.WriteByte('[')
		if t.Proto != "" {
			b.WriteString(t.Proto)
		}
		if t.PortFrom != 0 {
			b.WriteByte('/')
			b.WriteString(strconv.Itoa(int(t.PortFrom)))
			if t.PortTo != t.PortFrom {
				b.WriteByte('-')
				b.WriteString(strconv.Itoa(int(t.PortTo)))
			}
		}
		b.WriteByte(']')
	}
	return b.String()
}

// ParseEndpoint parses "172.30.30.30:8080/tcp", "[2001:db8::1]:443/tcp" or,
// with defProto, "10.0.0.2:8080".
func ParseEndpoint(s, defProto string) (Endpoint, error) {
	s = strings.TrimSpace(s)
	hostport, proto, hasProto := strings.Cut(s, "/")
	if !hasProto {
		proto = defProto
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return Endpoint{}, fmt.Errorf("%q: protocol must be tcp, udp or sctp", s)
	}
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		return Endpoint{}, fmt.Errorf("%q is not address:port/protocol (e.g. 192.0.2.1:8080/tcp)", s)
	}
	return Endpoint{Addr: ap.Addr().Unmap(), Port: ap.Port(), Proto: proto}, nil
}

// String formats e as "addr:port/proto".
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.Addr, e.Port).String() + "/" + e.Proto
}

// ParsePort parses a flow or service port: "53/udp", "8080/tcp",
// "1000-2000/tcp", "icmp", "any", or "http/8080" style (name/port, where
// the name implies tcp).
func ParsePort(s string) (Port, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "any":
		return Port{Proto: "any"}, nil
	case "icmp", "ipv6-icmp", "gre", "esp":
		return Port{Proto: s}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Port{}, fmt.Errorf("%q is not a port (write 53/udp, 8080/tcp, icmp or any)", s)
	}
	// "http/8080" (service/port) and "8080/tcp" (port/proto)
	if _, err := strconv.Atoi(a[:min(1, len(a))]); err != nil && a != "" {
		a, b = b, map[string]string{"http": "tcp", "https": "tcp", "tcp": "tcp", "udp": "udp", "sctp": "sctp", "dns": "udp"}[a]
		if b == "" {
			return Port{}, fmt.Errorf("%q: unknown service (use http, https, tcp, udp, sctp or dns)", s)
		}
	}
	if b != "tcp" && b != "udp" && b != "sctp" {
		return Port{}, fmt.Errorf("%q: protocol must be tcp, udp or sctp", s)
	}
	from, to, err := parsePortRange(a)
	if err != nil {
		return Port{}, fmt.Errorf("%q: %v", s, err)
	}
	return Port{Proto: b, From: from, To: to}, nil
}

// String formats p as written in a topology file.
func (p Port) String() string {
	if p.From == 0 {
		return p.Proto
	}
	if p.To != p.From {
		return fmt.Sprintf("%d-%d/%s", p.From, p.To, p.Proto)
	}
	return fmt.Sprintf("%d/%s", p.From, p.Proto)
}

var (
	hostnameRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
	ifnameRE   = regexp.MustCompile(`^[A-Za-z0-9_.:@+-]{1,15}$`)
)
