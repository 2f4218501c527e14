package lint_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/crypto"
	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

// ruleCase is one lint rule: a topology that triggers it and a closely
// related one that does not.
type ruleCase struct {
	name    string
	rule    string
	trigger string
	sev     diag.Severity
	pos     string // where the diagnostic must point: the value to change
	msg     string // substring of the message
	quiet   string // must not trigger the rule
	profile string
	secrets []string // key/value pairs for fakeSecrets
}

// two sites and a hub; PSK is in the fake environment
const base3 = `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
`

var ruleCases = []ruleCase{
	{
		name: "same lan behind two spokes of one hub",
		rule: lint.RuleOverlap, sev: diag.Error, pos: "5:33",
		msg: "gateway hub would route 10.1.0.0/24 into tunnel hub-s1 (to s1) and 10.1.0.0/24 into tunnel hub-s2 (to s2): they overlap",
		trigger: `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
  s2: {public: 192.0.2.12, lan: 10.1.0.0/24}
tunnels:
  - hub: hub
    spokes: [s1, s2]
    psk: {env: "PSK_{spoke}"}
`,
		// the same lans, NATed behind host-to-host tunnels (seed 000)
		quiet: `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24, masquerade: true}
  s2: {public: 192.0.2.12, lan: 10.1.0.0/24, masquerade: true}
tunnels:
  - hub: hub
    spokes: [s1, s2]
    traffic: host-to-host
    psk: {env: "PSK_{spoke}"}
`,
	},
	{
		name: "overlapping prefixes in explicit selectors",
		rule: lint.RuleOverlap, sev: diag.Error, pos: "11:41",
		msg: "gateway a would route 10.2.0.0/24 into tunnel a-b (to b) and 10.2.0.128/25 into tunnel a-c (to c)",
		trigger: base3 + `  - {between: [a, b], psk: {env: PSK}}
  - between: [a, c]
    psk: {env: PSK2}
    children:
      - {name: x, ts: {c: [10.3.0.0/24, 10.2.0.128/25]}}
`,
		// redundant gateways of one site may share prefixes
		quiet: strings.NewReplacer("lan: 10.2.0.0/24}", "lan: 10.2.0.0/24, site: dc}", "lan: 10.3.0.0/24}", "lan: 10.3.0.0/24, site: dc}").Replace(base3) + `  - {between: [a, b], psk: {env: PSK}}
  - between: [a, c]
    psk: {env: PSK2}
    children:
      - {name: x, ts: {c: [10.3.0.0/24, 10.2.0.128/25]}}
`,
	},
	{
		name: "selector outside the lan",
		rule: lint.RuleTSOutside, sev: diag.Error, pos: "11:31",
		msg: "tunnel a-b, child web: selector 10.9.0.0/24 on gateway a is not inside its lan, addresses or SNAT address",
		trigger: base3 + `  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: web
        ts: {a: [10.1.0.0/25, 10.9.0.0/24]}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: web
        ts: {a: [10.1.0.0/25, 10.1.0.128/25]}
`,
	},
	{
		name: "selector outside the lan of an external peer is a warning",
		rule: lint.RuleTSOutside, sev: diag.Warning, pos: "11:18",
		msg: "selector 10.8.0.0/24 on gateway c",
		trigger: strings.Replace(base3, "lan: 10.3.0.0/24}", "lan: 10.3.0.0/24, external: true}", 1) + `  - between: [a, c]
    psk: {env: PSK}
    children:
      - name: web
        ts: {c: [10.8.0.0/24]}
`,
		// SNAT into the selector makes it covered
		quiet: base3 + `  - between: [a, c]
    psk: {env: PSK}
    children:
      - name: web
        ts: {a: [192.0.2.0/24]}
        snat: {a: 192.0.2.1}
`,
	},
	{
		name: "IKEv1",
		rule: lint.RuleIKEv1, sev: diag.Error, pos: "8:14",
		msg: "tunnel a-b uses IKEv1",
		trigger: base3 + `  - between: [a, b]
    version: 1
    psk: {env: PSK}
`,
		quiet: base3 + `  - between: [a, b]
    version: 2
    psk: {env: PSK}
`,
	},
	{
		name: "IKEv1 is a warning under legacy-interop",
		rule: lint.RuleIKEv1, sev: diag.Warning, pos: "8:14", profile: "legacy-interop",
		msg: "tunnel a-b uses IKEv1",
		trigger: base3 + `  - between: [a, b]
    version: 1
    psk: {env: PSK}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
`,
	},
	{
		name: "IKEv1 for road warriors",
		rule: lint.RuleIKEv1, sev: diag.Error, pos: "7:5",
		msg: "remote access rw uses IKEv1",
		trigger: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
    version: 1
`,
		quiet: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
`,
	},
	{
		name: "aggressive mode",
		rule: lint.RuleAggressive, sev: diag.Error, pos: "8:17",
		msg: "tunnel a-b uses IKEv1 aggressive mode",
		trigger: base3 + `  - between: [a, b]
    aggressive: true
    psk: {env: PSK}
`,
		quiet: base3 + `  - between: [a, b]
    aggressive: false
    psk: {env: PSK}
`,
	},
	{
		name: "the S1 seed's single PSK for both sites",
		rule: lint.RulePSKReused, sev: diag.Warning, pos: "10:17",
		msg:     "tunnel cloud-siteb uses the same pre-shared key (file secrets/shared.psk) as tunnel cloud-sitea",
		secrets: []string{"file secrets/shared.psk", key1, "file secrets/cloud-sitea.psk", key2, "file secrets/cloud-siteb.psk", key3},
		trigger: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24, masquerade: true}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24, masquerade: true}
  siteb: {public: 172.17.17.17, lan: 10.1.0.0/24, masquerade: true}
tunnels:
  - hub: cloud
    spokes: [sitea, siteb]
    traffic: host-to-host
    psk: {file: secrets/shared.psk}
`,
		quiet: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24, masquerade: true}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24, masquerade: true}
  siteb: {public: 172.17.17.17, lan: 10.1.0.0/24, masquerade: true}
tunnels:
  - hub: cloud
    spokes: [sitea, siteb]
    traffic: host-to-host
    psk: {file: "secrets/{tunnel}.psk"}
`,
	},
	{
		name: "one key under two names",
		rule: lint.RulePSKReused, sev: diag.Warning, pos: "8:34",
		msg:     "tunnel a-c has the same pre-shared key as tunnel a-b",
		secrets: []string{"env PSK_AB", key1, "env PSK_AC", key1, "env PSK_AC2", key2},
		trigger: base3 + `  - {between: [a, b], psk: {env: PSK_AB}}
  - {between: [a, c], psk: {env: PSK_AC}}
`,
		quiet: base3 + `  - {between: [a, b], psk: {env: PSK_AB}}
  - {between: [a, c], psk: {env: PSK_AC2}}
`,
	},
	{
		name: "inline key",
		rule: lint.RulePSKInline, sev: diag.Warning, pos: "8:18",
		msg: "tunnel a-b: the pre-shared key is written in the topology file",
		trigger: base3 + `  - between: [a, b]
    psk: {value: "` + key1 + `"}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
`,
	},
	{
		name: "inline user password",
		rule: lint.RulePSKInline, sev: diag.Warning, pos: "10:39",
		msg: "remote access rw: the password of user alice is written in the topology file",
		trigger: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
    users: {alice: {password: {value: "` + key2 + `"}}}
`,
		quiet: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
    users: {alice: {password: {env: ALICE}}}
`,
	},
	{
		name: "secret not available here",
		rule: lint.RuleSecretMissing, sev: diag.Info, pos: "8:16",
		msg: "tunnel a-b: environment variable PSK_MISSING is not available here: strength not checked",
		trigger: base3 + `  - between: [a, b]
    psk: {env: PSK_MISSING}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
`,
	},
	{
		name: "no firewall on a responder",
		rule: lint.RuleLeak, sev: diag.Warning, pos: "4:54",
		msg: "gateway b (firewall: none): while tunnel a-b is down, traffic to 10.1.0.0/24 leaves unencrypted (it does not initiate with a trap)",
		trigger: strings.Replace(base3, "lan: 10.2.0.0/24}", "lan: 10.2.0.0/24, firewall: none}", 1) + `  - between: [a, b]
    psk: {env: PSK}
`,
		// the initiator's trap policy keeps traffic in
		quiet: strings.Replace(base3, "lan: 10.1.0.0/24}", "lan: 10.1.0.0/24, firewall: none}", 1) + `  - between: [a, b]
    psk: {env: PSK}
`,
	},
	{
		name: "SNAT rule rewrites tunnel traffic",
		rule: lint.RuleNATCapture, sev: diag.Error, pos: "7:9",
		msg: "nat rule rewrites traffic from 10.1.0.0/24 to 10.2.0.0/24 (tunnel a-b) to source 192.0.2.1, which is outside the selector 10.1.0.0/24",
		trigger: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    lan: 10.1.0.0/24
    nat:
      - from: 10.1.0.0/24
        snat: 192.0.2.1
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
`,
		quiet: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    lan: 10.1.0.0/24
    nat:
      - from: 10.1.0.0/24
        to: [198.51.100.0/24]
        snat: 192.0.2.1
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
`,
	},
	{
		name: "service no tunnel carries",
		rule: lint.RuleServiceNoTunnel, sev: diag.Error, pos: "13:12",
		msg: "service iot-api: no tunnel carries 172.30.30.30:8080/tcp from sitea to cloud",
		trigger: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    psk: {env: PSK}
services:
  - name: iot-api
    on: cloud
    publish: 172.30.30.30:8080/tcp
    to: 10.0.0.2:8080
    from: [sitea]
`,
		quiet: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    traffic: host-to-host
    psk: {env: PSK}
services:
  - name: iot-api
    on: cloud
    publish: 172.30.30.30:8080/tcp
    to: 10.0.0.2:8080
    from: [sitea]
`,
	},
	{
		name: "service published on an address the gateway does not own",
		rule: lint.RuleServiceAddr, sev: diag.Error, pos: "12:14",
		msg: "service web is published on 172.30.30.31, which gateway cloud does not own",
		trigger: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    traffic: host-to-host
    psk: {env: PSK}
services:
  - name: web
    on: cloud
    publish: 172.30.30.31:80/tcp
    to: 10.0.0.2:8080
`,
		quiet: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24, addresses: [172.30.30.31]}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    traffic: host-to-host
    psk: {env: PSK}
services:
  - name: web
    on: cloud
    publish: 172.30.30.31:80/tcp
    to: 10.0.0.2:8080
`,
	},
	{
		name: "service forwards outside the lan",
		rule: lint.RuleServiceAddr, sev: diag.Warning, pos: "13:9",
		msg: "service web forwards to 10.7.0.2, which is outside gateway cloud's lan",
		trigger: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    traffic: host-to-host
    psk: {env: PSK}
services:
  - name: web
    on: cloud
    publish: 172.30.30.30:80/tcp
    to: 10.7.0.2:8080
`,
		quiet: `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: [10.0.0.0/24, 10.7.0.0/24]}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
tunnels:
  - between: [cloud, sitea]
    traffic: host-to-host
    psk: {env: PSK}
services:
  - name: web
    on: cloud
    publish: 172.30.30.30:80/tcp
    to: 10.7.0.2:8080
`,
	},
	{
		name: "allow between lans no tunnel connects",
		rule: lint.RuleAllowNoPath, sev: diag.Warning, pos: "10:6",
		msg: "allow from a to c has no effect: no tunnel carries traffic between their lans",
		trigger: base3 + `  - between: [a, b]
    psk: {env: PSK}
allow:
  - {from: a, to: c, ports: [443/tcp]}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
allow:
  - {from: a, to: b, ports: [443/tcp]}
`,
	},
	{
		name: "seed 002: route-based tunnel with mtu 1500",
		rule: lint.RuleMTU, sev: diag.Error, pos: "8:33",
		msg: "tunnel v1-1-v3-2 on v1-1: interface mtu 1500 does not fit: 1500 - ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16) = 1423",
		trigger: `styx: 1
gateways:
  v1-1: {public: "2001:db8:1::1", lan: "2001:db8:a1::/64"}
  v3-2: {public: "2001:db8:3::2", lan: "2001:db8:a3::/64"}
tunnels:
  - between: [v1-1, v3-2]
    mode: route
    interface: {type: vti, mtu: 1500}
    psk: {env: PSK}
`,
		quiet: `styx: 1
gateways:
  v1-1: {public: "2001:db8:1::1", lan: "2001:db8:a1::/64"}
  v3-2: {public: "2001:db8:3::2", lan: "2001:db8:a3::/64"}
tunnels:
  - between: [v1-1, v3-2]
    mode: route
    interface: {type: vti, mtu: 1423}
    psk: {env: PSK}
`,
	},
	{
		name: "seed 004: GRE mtu 1476 over ESP",
		rule: lint.RuleMTU, sev: diag.Error, pos: "24:16",
		msg:     "tunnel cloud-dc, child gre on cloud: GRE mtu 1476 does not fit: 1500 - ESP overhead 65 (IPv4 20 + UDP 8 + ESP 8 + IV 8 + pad 5 + ICV 16) - GRE 24 = 1411",
		trigger: seed004("mtu: 1476"),
		quiet:   seed004("mtu: 1411"),
	},
	{
		name: "IPv6 through a tunnel with less than 1280 bytes inside",
		rule: lint.RuleMTU, sev: diag.Error, pos: "6:5",
		msg: "tunnel v1-v2 on v1: only 1243 bytes fit inside the tunnel",
		trigger: `styx: 1
gateways:
  v1: {public: 192.0.2.1, lan: "2001:db8:a1::/64", mtu: 1300}
  v2: {public: 192.0.2.2, lan: "2001:db8:a2::/64"}
tunnels:
  - between: [v1, v2]
    psk: {env: PSK}
`,
		quiet: `styx: 1
gateways:
  v1: {public: 192.0.2.1, lan: "2001:db8:a1::/64", mtu: 1340}
  v2: {public: 192.0.2.2, lan: "2001:db8:a2::/64"}
tunnels:
  - between: [v1, v2]
    psk: {env: PSK}
`,
	},
	{
		name: "trap on kernel-libipsec",
		rule: lint.RuleTrapLibipsec, sev: diag.Warning, pos: "8:12",
		msg: "tunnel b-a: start: trap does not work on gateway b (kernel-libipsec drops packets that hit a trap)",
		trigger: strings.Replace(base3, "lan: 10.2.0.0/24}", "lan: 10.2.0.0/24, dataplane: libipsec}", 1) + `  - between: [b, a]
    start: trap
    psk: {env: PSK}
`,
		// libipsec initiators default to start: start
		quiet: strings.Replace(base3, "lan: 10.2.0.0/24}", "lan: 10.2.0.0/24, dataplane: libipsec}", 1) + `  - between: [b, a]
    psk: {env: PSK}
`,
	},
	{
		name: "pool overlaps a lan",
		rule: lint.RulePoolOverlap, sev: diag.Error, pos: "9:11",
		msg: "remote access rw: pool 10.2.0.128/25 overlaps lan 10.2.0.0/24 of gateway b",
		trigger: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 10.2.0.128/25
`,
		quiet: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
`,
	},
	{
		name: "two pools overlap",
		rule: lint.RulePoolOverlap, sev: diag.Error, pos: "12:11",
		msg: "remote access rw2: pool 100.64.0.128/25 overlaps pool 100.64.0.0/24 of rw",
		trigger: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
  - name: rw2
    gateway: b
    pool: 100.64.0.128/25
`,
		quiet: base3[:len(base3)-len("tunnels:\n")] + `remote_access:
  - name: rw
    gateway: a
    pool: 100.64.0.0/24
  - name: rw2
    gateway: b
    pool: 100.64.1.0/24
`,
	},
	{
		name: "close_action start",
		rule: lint.RuleCloseStart, sev: diag.Warning, pos: "8:19",
		msg: "tunnel a-b: close_action: start on both ends can cause renegotiation storms",
		trigger: base3 + `  - between: [a, b]
    close_action: start
    psk: {env: PSK}
`,
		quiet: base3 + `  - between: [a, b]
    close_action: trap
    psk: {env: PSK}
`,
	},
	{
		name: "nobody initiates",
		rule: lint.RuleNoInitiator, sev: diag.Info, pos: "8:16",
		msg: "tunnel a-b: initiator: none, nobody brings it up",
		trigger: base3 + `  - between: [a, b]
    initiator: none
    psk: {env: PSK}
`,
		quiet: base3 + `  - between: [a, b]
    initiator: b
    psk: {env: PSK}
`,
	},
	{
		name: "lab host outside its gateway's lan",
		rule: lint.RuleLabHost, sev: diag.Error, pos: "11:5",
		msg: "lab host h1: address 10.2.0.5 is outside gateway a's lan",
		trigger: base3 + `  - between: [a, b]
    psk: {env: PSK}
lab:
  hosts:
    h1: {behind: a, address: 10.2.0.5}
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
lab:
  hosts:
    h1: {behind: a, address: 10.1.0.5}
`,
	},
	{
		name: "local selector inside the remote one",
		rule: lint.RuleSelfOverlap, sev: diag.Error, pos: "13:15",
		msg: "tunnel a-b, child net: selector 10.1.0.0/24 on a overlaps 10.0.0.0/8 on b",
		trigger: base3 + `  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: net
        ts:
          a: [lan]
          b: [10.0.0.0/8]
`,
		quiet: base3 + `  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: net
        ts:
          a: [lan]
          b: [10.2.0.0/24]
`,
	},
	{
		name: "remote access without a server certificate",
		rule: lint.RuleRACert, sev: diag.Error, pos: "3:3",
		msg: "remote access rw: gateway gw has no certificate and key",
		trigger: `styx: 1
gateways:
  gw: {public: 192.0.2.1, lan: 10.0.0.0/24}
remote_access:
  - {name: rw, gateway: gw, pool: 10.9.0.0/24, auth: cert}
`,
		quiet: `styx: 1
gateways:
  gw: {public: 192.0.2.1, lan: 10.0.0.0/24, cert: gw.crt, key: gw.key}
remote_access:
  - {name: rw, gateway: gw, pool: 10.9.0.0/24, auth: cert}
`,
	},
	{
		name: "export_routes without BGP",
		rule: lint.RuleExportNoBGP, sev: diag.Warning, pos: "5:75",
		msg: "remote access rw: export_routes has no effect, gateway gw has no bgp:",
		trigger: `styx: 1
gateways:
  gw: {public: 192.0.2.1, lan: 10.0.0.0/24, cert: gw.crt, key: gw.key}
remote_access:
  - {name: rw, gateway: gw, pool: 10.9.0.0/24, auth: cert, export_routes: true}
`,
		quiet: `styx: 1
gateways:
  gw: {public: 192.0.2.1, lan: 10.0.0.0/24, cert: gw.crt, key: gw.key, bgp: {asn: 65001, router_id: 192.0.2.1, export: [lan, pools]}}
remote_access:
  - {name: rw, gateway: gw, pool: 10.9.0.0/24, auth: cert, export_routes: true}
`,
	},
}

// reader is the fake secret store of a case: the common keys plus its own.
func (c ruleCase) reader() *fakeSecrets {
	return newFakeSecrets(append([]string{"env PSK", key1, "env PSK2", key2, "env PSK_s1", key3, "env PSK_s2", key4}, c.secrets...)...)
}

func seed004(greMTU string) string {
	return `styx: 1
gateways:
  cloud:
    public: 203.0.113.10
    local: 10.10.0.5
    lan: 10.45.8.16/28
    addresses: [10.44.6.1]
  dc:
    public: 198.51.100.20
    external: true
    lan: 10.15.30.0/24
    addresses: [10.44.7.1]
tunnels:
  - between: [cloud, dc]
    psk: {env: PSK}
    children:
      - name: tcp
        ts: {cloud: [10.45.8.16/28], dc: [10.15.30.0/24]}
      - name: gre
        ts: {cloud: ["10.44.6.1/32[gre]"], dc: ["10.44.7.1/32[gre]"]}
        gre:
          address: {cloud: 10.44.4.6/30, dc: 10.44.4.5/30}
          multicast: true
          ` + greMTU + `
`
}

// cryptoRules are the rule ids that come from the crypto package (tested
// there).
var cryptoRules = []string{crypto.RuleWeak, crypto.RuleInvalid, crypto.RuleNoInteg, crypto.RuleNoPFS, crypto.RuleDefaults,
	crypto.RuleIgnored, crypto.RuleOrder, crypto.RuleIKEv1Multi, crypto.RulePSKWeak}

// TestEveryRuleHasCases: every non-crypto rule in lint.Rules has a case
// in ruleCases, and every case names a listed rule.
func TestEveryRuleHasCases(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range ruleCases {
		covered[c.rule] = true
		if !slices.Contains(ruleIDs(), c.rule) {
			t.Errorf("case %q: rule %q is not in lint.Rules", c.name, c.rule)
		}
	}
	want := []string{"lan-overlap", "ts-outside-lan", "ike-v1", "aggressive-mode", "psk-reused", "psk-inline",
		"secret-unavailable", "leak-unprotected", "nat-captures-tunnel", "service-unreachable", "service-address",
		"allow-no-tunnel", "mtu-too-small", "trap-libipsec", "pool-overlap", "close-action-start", "no-initiator",
		"lab-host-outside-lan", "ts-self-overlap", "ra-certificate", "export-without-bgp"}
	var got []string
	for _, id := range ruleIDs() {
		if slices.Contains(cryptoRules, id) {
			continue
		}
		got = append(got, id)
		if !covered[id] {
			t.Errorf("rule %s has no test case", id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("non-crypto rules = %v\nwant %v", got, want)
	}
	seen := map[string]bool{}
	for _, r := range lint.Rules {
		if seen[r.ID] || r.Doc == "" {
			t.Errorf("rule %q is listed twice or has no doc", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			got := byRule(check(t, c.trigger, lint.Options{Profile: c.profile, Secrets: c.reader()}, false), c.rule)
			var found *diag.Diagnostic
			for i, d := range got {
				if d.Severity == c.sev && strings.Contains(d.Message, c.msg) {
					found = &got[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("no %s %s containing %q; %s diagnostics:\n%s", c.sev, c.rule, c.msg, c.rule, formatDiags(got))
			}
			if found.File != "net.yaml" || found.Hint == "" {
				t.Errorf("diagnostic %s: file %q, hint %q", found, found.File, found.Hint)
			}
			if q := byRule(check(t, c.quiet, lint.Options{Profile: c.profile, Secrets: c.reader()}, false), c.rule); len(q) > 0 {
				t.Errorf("the quiet variant triggers %s:\n%s", c.rule, formatDiags(q))
			}
			if pos := found.Pos.String(); pos != c.pos {
				var b strings.Builder
				diag.List{*found}.WriteText(&b, []byte(c.trigger))
				t.Errorf("position %s, want %s:\n%s", pos, c.pos, b.String())
			}
		})
	}
}

// TestRulesWithoutFile: Run accepts a nil *topology.File (positions then
// come from the model) and finds the same problems.
func TestRulesWithoutFile(t *testing.T) {
	for _, c := range ruleCases {
		net, file, diags, err := topology.LoadBytes("net.yaml", []byte(c.trigger))
		if err != nil || net == nil || diags.HasErrors() {
			t.Fatalf("%s: does not load: %v", c.name, err)
		}
		with := lint.Run(net, file, lint.Options{Profile: c.profile, Secrets: c.reader()})
		without := lint.Run(net, nil, lint.Options{Profile: c.profile, Secrets: c.reader()})
		rules := func(l diag.List) []string {
			var out []string
			for _, d := range l {
				out = append(out, d.Rule+"/"+d.Severity.String())
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(rules(with), rules(without)) {
			t.Errorf("%s: with file %v, without %v", c.name, rules(with), rules(without))
		}
		for _, d := range without {
			if !d.Pos.IsValid() {
				t.Errorf("%s: without file, %s has no position", c.name, d)
			}
		}
	}
}
