package render_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/nft"
)

// Regression tests for problems found while writing the golden, property
// and determinism tests.

// TestChildStartAction: a child's start: (ChildDef.Start, decoded from
// the topology file) must reach the rendered start_action.
func TestChildStartAction(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: [10.1.0.0/24]}
  b: {public: 192.0.2.2, lan: [10.2.0.0/24]}
tunnels:
  - between: [a, b]
    initiator: a
    start: trap
    psk: {env: PSK}
    children:
      - {name: always, start: start}
      - {name: ondemand}
`
	gws := planAll(t, loadGen(t, "child-start.yaml", src))
	c := findConn(gws["a"], "a-b")
	got := map[string]string{}
	for _, ch := range c.Children {
		got[ch.Name] = ch.StartAction
	}
	if got["always"] != "start" || got["ondemand"] != "trap" {
		t.Errorf("start actions %v, want always=start ondemand=trap", got)
	}
}

// knownProtocols are the protocol names charon resolves with
// getprotobyname(3) on Debian 12 (netbase /etc/protocols), as used in
// selectors; numbers are always fine.
var knownProtocols = map[string]bool{"icmp": true, "tcp": true, "udp": true, "gre": true, "esp": true, "ipv6-icmp": true, "sctp": true}

var tsProto = regexp.MustCompile(`\[([^/\]]+)`)

// TestSelectorProtocolNamesLoad: every protocol name in a rendered
// selector must be one charon knows. "icmpv6" is accepted by
// topology.ParseTS (protocols map) but charon 5.9.8 rejects it:
// "loading connection 'a-b' failed: invalid value for: local_ts, config
// discarded" (checked against a real charon).
func TestSelectorProtocolNamesLoad(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 2001:db8:1::1, lan: ["fd00:1::/64"]}
  b: {public: 2001:db8:2::1, lan: ["fd00:2::/64"]}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: icmp
        ts: {a: ["fd00:1::/64[icmpv6]"], b: ["fd00:2::/64[icmpv6]"]}
`
	for name, gw := range planAll(t, loadGen(t, "icmpv6.yaml", src)) {
		files, err := render.Gateway(gw, render.Options{Source: "icmpv6.yaml", Redact: true})
		if err != nil {
			t.Fatal(err)
		}
		root, err := parseSettings(string(fileData(t, files, render.SwanctlConf)))
		if err != nil {
			t.Fatal(err)
		}
		ch := root.sub("connections", "a-b", "children", "icmp")
		for _, ts := range append(ch.list("local_ts"), ch.list("remote_ts")...) {
			for _, m := range tsProto.FindAllStringSubmatch(ts, -1) {
				if p := m[1]; !knownProtocols[p] && strings.Trim(p, "0123456789") != "" {
					t.Errorf("%s: selector %s names protocol %q, which charon does not know", name, ts, p)
				}
			}
		}
	}
}

// TestGatewaySelfToInternetAllowed: S3 allows the gateway's own resolver
// to forward DNS upstream (`allow: {from: [gw.self], to: [internet],
// ports: [53/udp, 53/tcp]}`), with output default-drop. The output chain
// must accept it.
func TestGatewaySelfToInternetAllowed(t *testing.T) {
	gws := renderAll(t, "../../examples/s3-hardened-gateway.yaml")
	gw := gws["gw"]
	out := nftChain(string(nft.Render(gw, "s3.yaml")), "output")
	for _, proto := range []string{"udp", "tcp"} {
		if !regexp.MustCompile(proto + ` dport (\{ )?53\b.*accept`).MatchString(out) {
			t.Errorf("nft output chain accepts no %s/53 to the internet:\n%s", proto, out)
		}
	}
	v4, _ := iptables.Render(gw, "s3.yaml")
	for _, proto := range []string{"udp", "tcp"} {
		if !regexp.MustCompile(`(?m)^-A STYX-OUT.*-p ` + proto + ` --dport 53 .*-j ACCEPT$`).Match(v4) {
			t.Errorf("iptables STYX-OUT accepts no %s/53 to the internet", proto)
		}
	}
}

// nftChain returns the text of one chain of an nftables file.
func nftChain(file, name string) string {
	i := strings.Index(file, "\tchain "+name+" {")
	if i < 0 {
		return ""
	}
	j := strings.Index(file[i:], "\n\t}")
	if j < 0 {
		return file[i:]
	}
	return file[i : i+j]
}

// TestRemoteAccessMSSClamp: road-warrior tunnels are tunnel paths too
// (issue 3: "MSS clamping on tunnel paths"), and road warriors are
// usually behind NAT (ESP in UDP): S3 and S4 must clamp TCP MSS towards
// and from their pools.
func TestRemoteAccessMSSClamp(t *testing.T) {
	for ex, name := range map[string]string{
		"../../examples/s3-hardened-gateway.yaml": "gw",
		"../../examples/s4-roadwarrior-eap.yaml":  "vpn",
	} {
		gw := renderAll(t, ex)[name]
		mss := nftChain(string(nft.Render(gw, ex)), "mss")
		if !strings.Contains(mss, "maxseg size set") {
			t.Errorf("%s/%s: no MSS clamp for the road-warrior pools", exampleName(ex), name)
		}
	}
}
