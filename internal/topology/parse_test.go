package topology_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/topology"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in      string
		want    string // "" = error
		errHas  string
		masked  string // for host-bits errors
		comment string
	}{
		{in: "10.0.0.0/24", want: "10.0.0.0/24"},
		{in: "  10.0.0.0/24\t", want: "10.0.0.0/24", comment: "spaces are trimmed"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "::/0", want: "::/0"},
		{in: "10.0.0.1", want: "10.0.0.1/32", comment: "a bare address is a host prefix"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "10.0.0.1/32", want: "10.0.0.1/32"},
		{in: "2001:db8:a1::/64", want: "2001:db8:a1::/64"},
		{in: "10.1.2.3/16", errHas: "has host bits set (the network is 10.1.0.0/16)", masked: "10.1.0.0/16"},
		{in: "10.0.0.1/31", errHas: "host bits", masked: "10.0.0.0/31"},
		{in: "2001:db8::1/64", errHas: "host bits", masked: "2001:db8::/64"},
		{in: "10.0.0.0/33", errHas: "is not an IP prefix"},
		{in: "10.0.0.0/-1", errHas: "is not an IP prefix"},
		{in: "10.0.0.0/", errHas: "is not an IP prefix"},
		{in: "10.0.0.0/8/8", errHas: "is not an IP prefix"},
		{in: "10.0.0/24", errHas: "is not an IP prefix"},
		{in: "10.0.0.256", errHas: "is not an IP prefix"},
		{in: "", errHas: "is not an IP prefix"},
		{in: "lan", errHas: "is not an IP prefix"},
		{in: "fe80::1%eth0", errHas: "has a zone"},
		{in: "fe80::%eth0/64", errHas: "is not an IP prefix"},
	}
	for _, tt := range tests {
		p, err := topology.ParsePrefix(tt.in)
		if tt.want != "" {
			if err != nil || p.String() != tt.want {
				t.Errorf("ParsePrefix(%q) = %v, %v; want %s (%s)", tt.in, p, err, tt.want, tt.comment)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want error containing %q", tt.in, p, err, tt.errHas)
			continue
		}
		var hb *topology.HostBitsError
		if errors.As(err, &hb) != (tt.masked != "") {
			t.Errorf("ParsePrefix(%q): HostBitsError = %v, want %v", tt.in, hb != nil, tt.masked != "")
		} else if hb != nil && (hb.Masked.String() != tt.masked || hb.In != tt.in) {
			t.Errorf("ParsePrefix(%q): HostBitsError = %+v, want masked %s", tt.in, hb, tt.masked)
		}
	}
}

// TestParsePrefixMapped: an IPv4-mapped IPv6 address is the IPv4 address
// for ParseAddr, and for ParsePrefix too, so that "::ffff:10.1.0.0/120"
// overlaps "10.1.0.0/24" in the overlap checks; a mapped prefix shorter
// than /96 is an IPv6 prefix.
func TestParsePrefixMapped(t *testing.T) {
	a, err := topology.ParseAddr("::ffff:10.1.0.1")
	if err != nil || a != netip.MustParseAddr("10.1.0.1") {
		t.Fatalf("ParseAddr = %v, %v; want 10.1.0.1", a, err)
	}
	p, err := topology.ParsePrefix("::ffff:10.1.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if p != netip.MustParsePrefix("10.1.0.1/32") {
		t.Errorf("ParsePrefix(::ffff:10.1.0.1) = %s, want 10.1.0.1/32", p)
	}
	for in, want := range map[string]string{
		"::ffff:10.1.0.0/120": "10.1.0.0/24", "::ffff:0.0.0.0/96": "0.0.0.0/0", "::fffe:0:0/95": "::fffe:0:0/95",
	} {
		if p, err := topology.ParsePrefix(in); err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%s) = %v, %v; want %s", in, p, err, want)
		}
	}
	var hb *topology.HostBitsError
	if _, err := topology.ParsePrefix("::ffff:10.1.0.1/120"); !errors.As(err, &hb) || hb.Masked.String() != "10.1.0.0/24" {
		t.Errorf("ParsePrefix(::ffff:10.1.0.1/120) = %v, want host bits set, network 10.1.0.0/24", err)
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", " 2001:db8::1 ": "2001:db8::1", "::ffff:192.0.2.1": "192.0.2.1",
		"fe80::1%eth0": "", "192.0.2.1/32": "", "": "", "host.example": "",
	} {
		a, err := topology.ParseAddr(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseAddr(%q) = %v, want an error", in, a)
			}
			continue
		}
		if err != nil || a.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
}

func TestParseTS(t *testing.T) {
	tests := []struct {
		in     string
		want   topology.TS
		str    string // String(), "" = in
		errHas string
	}{
		{in: "10.0.0.0/24", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24")}},
		{in: "10.0.0.2", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.2/32")}, str: "10.0.0.2/32"},
		{in: "dynamic", want: topology.TS{Dynamic: true}},
		{in: "dynamic[udp/500]", want: topology.TS{Dynamic: true, Proto: "udp", PortFrom: 500, PortTo: 500}},
		{in: "10.0.0.2/32[tcp/8080]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.2/32"), Proto: "tcp", PortFrom: 8080, PortTo: 8080}},
		{in: "10.44.6.1/32[gre]", want: topology.TS{Prefix: netip.MustParsePrefix("10.44.6.1/32"), Proto: "gre"}},
		{in: "0.0.0.0/0[udp/1000-2000]", want: topology.TS{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Proto: "udp", PortFrom: 1000, PortTo: 2000}},
		{in: "::/0[ipv6-icmp]", want: topology.TS{Prefix: netip.MustParsePrefix("::/0"), Proto: "ipv6-icmp"}},
		{in: "10.0.0.0/24[47]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "gre"}, str: "10.0.0.0/24[gre]"},
		{in: "10.0.0.0/24[6/80]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "tcp", PortFrom: 80, PortTo: 80}, str: "10.0.0.0/24[tcp/80]"},
		{in: "10.0.0.0/24[0115]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "115"}, str: "10.0.0.0/24[115]"},
		{in: "fd00::/64[icmpv6]", want: topology.TS{Prefix: netip.MustParsePrefix("fd00::/64"), Proto: "ipv6-icmp"}, str: "fd00::/64[ipv6-icmp]"},
		{in: "::ffff:10.1.0.0/120", want: topology.TS{Prefix: netip.MustParsePrefix("10.1.0.0/24")}, str: "10.1.0.0/24"},
		{in: "10.0.0.0/24[115/80]", errHas: "a port needs tcp, udp or sctp"},
		{in: "10.0.0.0/24[sctp/9899]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "sctp", PortFrom: 9899, PortTo: 9899}},
		{in: "10.0.0.0/24[any]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24")}, str: "10.0.0.0/24"},
		{in: "10.0.0.0/24[%any]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24")}, str: "10.0.0.0/24"},
		{in: "10.0.0.0/24[tcp/%any]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "tcp"}, str: "10.0.0.0/24[tcp]"},
		{in: "10.0.0.0/24[]", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24")}, str: "10.0.0.0/24"},
		{in: " 10.0.0.0/24[tcp/22] ", want: topology.TS{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Proto: "tcp", PortFrom: 22, PortTo: 22}, str: "10.0.0.0/24[tcp/22]"},
		{in: "10.0.0.1/24", errHas: "host bits"},
		{in: "10.0.0.0/24[tcp/80", errHas: "missing ']'"},
		{in: "10.0.0.0/24[foo]", errHas: `unknown protocol "foo"`},
		{in: "10.0.0.0/24[TCP]", errHas: `unknown protocol "TCP"`},
		{in: "10.0.0.0/24[0]", errHas: "unknown protocol"},
		{in: "10.0.0.0/24[256]", errHas: "unknown protocol"},
		{in: "10.0.0.0/24[gre/80]", errHas: "a port needs tcp, udp or sctp"},
		{in: "10.0.0.0/24[/80]", errHas: "a port needs tcp, udp or sctp"},
		{in: "10.0.0.0/24[tcp/0]", errHas: `invalid port "0"`},
		{in: "10.0.0.0/24[tcp/65536]", errHas: "invalid port"},
		{in: "10.0.0.0/24[tcp/2000-1000]", errHas: "invalid port range"},
		{in: "10.0.0.0/24[tcp/http]", errHas: "invalid port"},
		{in: "dynamicx", errHas: "is not an IP prefix"},
		{in: "", errHas: "is not an IP prefix"},
	}
	for _, tt := range tests {
		ts, err := topology.ParseTS(tt.in)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("ParseTS(%q) = %+v, %v; want error containing %q", tt.in, ts, err, tt.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTS(%q): %v", tt.in, err)
			continue
		}
		if d := diff(tt.want, ts); d != "" {
			t.Errorf("ParseTS(%q): %s", tt.in, d)
		}
		str := tt.str
		if str == "" {
			str = tt.in
		}
		if ts.String() != str {
			t.Errorf("ParseTS(%q).String() = %q, want %q", tt.in, ts.String(), str)
		}
		// String() is parseable and gives the same selector
		if again, err := topology.ParseTS(ts.String()); err != nil || again != ts {
			t.Errorf("ParseTS(%q) does not round-trip: %+v, %v", ts.String(), again, err)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, def string
		want    string // String(), "" = error
		errHas  string
	}{
		{in: "172.30.30.30:8080/tcp", want: "172.30.30.30:8080/tcp"},
		{in: " 10.0.0.2:53/udp ", want: "10.0.0.2:53/udp"},
		{in: "[2001:db8::1]:443/tcp", want: "[2001:db8::1]:443/tcp"},
		{in: "[::ffff:10.0.0.2]:80/tcp", want: "10.0.0.2:80/tcp"},
		{in: "10.0.0.2:8080", def: "tcp", want: "10.0.0.2:8080/tcp"},
		{in: "10.0.0.2:8080/udp", def: "tcp", want: "10.0.0.2:8080/udp"},
		{in: "10.0.0.2:9899/sctp", want: "10.0.0.2:9899/sctp"},
		{in: "10.0.0.2:8080", errHas: "protocol must be tcp, udp or sctp"},
		{in: "10.0.0.2:8080/icmp", errHas: "protocol must be tcp, udp or sctp"},
		{in: "10.0.0.2:0/tcp", errHas: "is not address:port/protocol"},
		{in: "10.0.0.2:65536/tcp", errHas: "is not address:port/protocol"},
		{in: "10.0.0.2/tcp", errHas: "is not address:port/protocol"},
		{in: "2001:db8::1:443/tcp", errHas: "is not address:port/protocol"},
		{in: "server:80/tcp", errHas: "is not address:port/protocol"},
		{in: "", def: "tcp", errHas: "is not address:port/protocol"},
	}
	for _, tt := range tests {
		ep, err := topology.ParseEndpoint(tt.in, tt.def)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("ParseEndpoint(%q, %q) = %v, %v; want error containing %q", tt.in, tt.def, ep, err, tt.errHas)
			}
			continue
		}
		if err != nil || ep.String() != tt.want {
			t.Errorf("ParseEndpoint(%q, %q) = %v, %v; want %s", tt.in, tt.def, ep, err, tt.want)
		}
	}
}

// TestParseEndpointZone: ParseAddr rejects zones; an endpoint is an
// address too.
func TestParseEndpointZone(t *testing.T) {
	if ep, err := topology.ParseEndpoint("[fe80::1%eth0]:443/tcp", ""); err == nil {
		t.Errorf("ParseEndpoint accepts a zoned address (%s) that ParseAddr rejects", ep)
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in     string
		want   topology.Port
		str    string
		errHas string
	}{
		{in: "53/udp", want: topology.Port{Proto: "udp", From: 53, To: 53}},
		{in: "8080/tcp", want: topology.Port{Proto: "tcp", From: 8080, To: 8080}},
		{in: "1000-2000/tcp", want: topology.Port{Proto: "tcp", From: 1000, To: 2000}},
		{in: "9899/sctp", want: topology.Port{Proto: "sctp", From: 9899, To: 9899}},
		{in: "icmp", want: topology.Port{Proto: "icmp"}},
		{in: "ipv6-icmp", want: topology.Port{Proto: "ipv6-icmp"}},
		{in: "gre", want: topology.Port{Proto: "gre"}},
		{in: "esp", want: topology.Port{Proto: "esp"}},
		{in: "any", want: topology.Port{Proto: "any"}},
		{in: " 22/tcp ", want: topology.Port{Proto: "tcp", From: 22, To: 22}, str: "22/tcp"},
		// service/port style: the name implies the protocol
		{in: "http/8080", want: topology.Port{Proto: "tcp", From: 8080, To: 8080}, str: "8080/tcp"},
		{in: "https/443", want: topology.Port{Proto: "tcp", From: 443, To: 443}, str: "443/tcp"},
		{in: "dns/53", want: topology.Port{Proto: "udp", From: 53, To: 53}, str: "53/udp"},
		{in: "tcp/22", want: topology.Port{Proto: "tcp", From: 22, To: 22}, str: "22/tcp"},
		{in: "udp/5000-5010", want: topology.Port{Proto: "udp", From: 5000, To: 5010}, str: "5000-5010/udp"},
		{in: "8080", errHas: "is not a port"},
		{in: "", errHas: "is not a port"},
		{in: "ICMP", errHas: "is not a port"},
		{in: "80/icmp", errHas: "protocol must be tcp, udp or sctp"},
		{in: "ftp/21", errHas: "unknown service"},
		{in: "0/tcp", errHas: `invalid port "0"`},
		{in: "65536/udp", errHas: "invalid port"},
		{in: "2000-1000/tcp", errHas: "invalid port range"},
		{in: "http/", errHas: "invalid port"},
		{in: "/tcp", errHas: "invalid port"},
		{in: "1-/tcp", errHas: "invalid port range"},
	}
	for _, tt := range tests {
		p, err := topology.ParsePort(tt.in)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("ParsePort(%q) = %+v, %v; want error containing %q", tt.in, p, err, tt.errHas)
			}
			continue
		}
		if err != nil || p != tt.want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", tt.in, p, err, tt.want)
			continue
		}
		str := tt.str
		if str == "" {
			str = tt.in
		}
		if p.String() != str {
			t.Errorf("ParsePort(%q).String() = %q, want %q", tt.in, p.String(), str)
		}
		if again, err := topology.ParsePort(p.String()); err != nil || again != p {
			t.Errorf("ParsePort(%q) does not round-trip: %+v, %v", p.String(), again, err)
		}
	}
}

// TestParsePortSCTPServiceStyle: "sctp/9899" is accepted in the
// service/port style like "tcp/22" and "udp/53", and is "9899/sctp".
func TestParsePortSCTPServiceStyle(t *testing.T) {
	p, err := topology.ParsePort("sctp/9899")
	if err != nil || p != (topology.Port{Proto: "sctp", From: 9899, To: 9899}) {
		t.Errorf("ParsePort(sctp/9899) = %+v, %v; want 9899/sctp", p, err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "4h", want: 4 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "2d", want: 48 * time.Hour},
		{in: "0d", want: 0},
		{in: "65535d", want: 65535 * 24 * time.Hour},
		{in: "3600", want: time.Hour},
		{in: "0", want: 0},
		{in: " 15m ", want: 15 * time.Minute},
		{in: "4294967295", want: 4294967295 * time.Second},
		{in: "4294967296", err: true},
		{in: "65536d", err: true},
		{in: "1d12h", err: true},
		{in: "d", err: true},
		{in: "-5s", err: true},
		{in: "-1", err: true},
		{in: "1.5d", err: true},
		{in: "30S", err: true},
		{in: "forever", err: true},
		{in: "", err: true},
		{in: "3000000h", err: true},
	}
	for _, tt := range tests {
		got, err := topology.ParseDuration(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestOverhead(t *testing.T) {
	v4 := &topology.Gateway{Name: "a", Public: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Dataplane: topology.Kernel}
	v6 := &topology.Gateway{Name: "b", Public: []netip.Addr{netip.MustParseAddr("2001:db8::1")}, Dataplane: topology.Kernel}
	natted := &topology.Gateway{Name: "c", Public: []netip.Addr{netip.MustParseAddr("192.0.2.3")}, Local: []netip.Addr{netip.MustParseAddr("10.0.0.3")}, Dataplane: topology.Kernel}
	gcm := &topology.Crypto{ESP: []string{"aes256gcm16-ecp384"}}
	cbc := &topology.Crypto{ESP: []string{"aes256gcm16-ecp384", "aes256-sha512-modp3072"}}
	tests := []struct {
		name      string
		t         *topology.Tunnel
		g, peer   *topology.Gateway
		total     int
		describes string
	}{
		{"AEAD over IPv4", &topology.Tunnel{Crypto: gcm}, v4, v4, 57, "ESP overhead 57 (IPv4 20 + ESP 8 + IV 8 + pad 5 + ICV 16)"},
		{"AEAD over IPv6", &topology.Tunnel{Crypto: gcm}, v4, v6, 77, "ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16)"},
		{"NAT-T behind 1:1 NAT", &topology.Tunnel{Crypto: gcm}, natted, v4, 65, "ESP overhead 65 (IPv4 20 + UDP 8 + ESP 8 + IV 8 + pad 5 + ICV 16)"},
		{"forced encap", &topology.Tunnel{Crypto: gcm, Encap: true}, v4, v4, 65, ""},
		{"worst case of the proposals", &topology.Tunnel{Crypto: cbc}, v4, v4, 20 + 8 + 16 + 17 + 32, "IV 16 + pad 17 + ICV 32"},
		{"no crypto", &topology.Tunnel{}, v4, v4, 57, ""},
	}
	for _, tt := range tests {
		e := topology.Overhead(tt.t, tt.g, tt.peer)
		if e.Total() != tt.total || !strings.Contains(e.String(), tt.describes) {
			t.Errorf("%s: Overhead = %d %q, want %d %q", tt.name, e.Total(), e, tt.total, tt.describes)
		}
	}
	if got := topology.GREOverhead(&topology.GRE{}); got != 24 {
		t.Errorf("GRE overhead = %d, want 24", got)
	}
	if got := topology.GREOverhead(&topology.GRE{Key: 7}); got != 28 {
		t.Errorf("GRE overhead with key = %d, want 28", got)
	}
}
