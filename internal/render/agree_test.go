package render_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/topology"
)

// "Both ends agree by construction" (issue 3, item 2): for every tunnel,
// the connections rendered for its two gateways mirror each other. The
// property is checked twice: on the plans (plan.Conn) and on the rendered
// swanctl.conf and secrets.conf text, read back with parseSettings.

// sourceSecrets returns, for every secret, a fake value that names where
// the secret comes from: two ends that read the same source render the
// same value, two sources never do.
type sourceSecrets struct{}

func (sourceSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	return []byte("fake-psk-for " + s.Source()), nil
}

// initiatorEnd returns the index of the end that starts tunnel t, or -1
// if neither does (initiator: none, or start: none).
func initiatorEnd(t *topology.Tunnel) int {
	if t.Start == "none" {
		return -1
	}
	for i, e := range t.Ends {
		if e.Initiator {
			return i
		}
	}
	return -1
}

func findConn(gw *plan.Gateway, name string) *plan.Conn {
	for _, c := range gw.Conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func findSecret(gw *plan.Gateway, name string) *plan.Secret {
	for _, s := range gw.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func childNames(cs []*plan.Child) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkPlanAgreement checks the property on the plans of both ends of
// every tunnel.
func checkPlanAgreement(t reporter, net *topology.Network, gws map[string]*plan.Gateway) {
	t.Helper()
	for _, tun := range net.Tunnels {
		na, nb := tun.Ends[0].Gateway.Name, tun.Ends[1].Gateway.Name
		ca, cb := findConn(gws[na], tun.Name), findConn(gws[nb], tun.Name)
		if ca == nil || cb == nil {
			t.Errorf("tunnel %s: connection missing on %s (%v) or %s (%v)", tun.Name, na, ca != nil, nb, cb != nil)
			continue
		}
		where := fmt.Sprintf("tunnel %s (%s, %s)", tun.Name, na, nb)
		if ca.Local.ID == "" || ca.Remote.ID == "" || cb.Local.ID == "" || cb.Remote.ID == "" {
			t.Errorf("%s: an id is empty: %q %q %q %q", where, ca.Local.ID, ca.Remote.ID, cb.Local.ID, cb.Remote.ID)
		}
		if ca.Local.ID != cb.Remote.ID || cb.Local.ID != ca.Remote.ID {
			t.Errorf("%s: ids not mirrored: %s local %q remote %q, %s local %q remote %q", where, na, ca.Local.ID, ca.Remote.ID, nb, cb.Local.ID, cb.Remote.ID)
		}
		if ca.Local.Auth != cb.Remote.Auth || cb.Local.Auth != ca.Remote.Auth {
			t.Errorf("%s: auth methods differ: %s/%s vs %s/%s", where, ca.Local.Auth, ca.Remote.Auth, cb.Local.Auth, cb.Remote.Auth)
		}
		if ca.Version != cb.Version {
			t.Errorf("%s: versions %d and %d", where, ca.Version, cb.Version)
		}
		if len(ca.Proposals) == 0 || !slices.Equal(ca.Proposals, cb.Proposals) {
			t.Errorf("%s: proposals %q and %q", where, ca.Proposals, cb.Proposals)
		}
		if ca.Mobike != cb.Mobike || ca.Encap != cb.Encap {
			t.Errorf("%s: mobike %v/%v, encap %v/%v", where, ca.Mobike, cb.Mobike, ca.Encap, cb.Encap)
		}
		if ca.Initiator && cb.Initiator {
			t.Errorf("%s: both ends initiate", where)
		}
		if !slices.Equal(childNames(ca.Children), childNames(cb.Children)) {
			t.Errorf("%s: children %q and %q", where, childNames(ca.Children), childNames(cb.Children))
			continue
		}
		init := initiatorEnd(tun)
		for k, a := range ca.Children {
			b := cb.Children[k]
			cw := where + " child " + a.Name
			if !slices.Equal(a.LocalTS, b.RemoteTS) || !slices.Equal(a.RemoteTS, b.LocalTS) {
				t.Errorf("%s: selectors not mirrored: %s %q === %q, %s %q === %q", cw, na, a.LocalTS, a.RemoteTS, nb, b.LocalTS, b.RemoteTS)
			}
			if len(a.LocalTS) == 0 || len(a.RemoteTS) == 0 {
				t.Errorf("%s: empty selectors %q === %q", cw, a.LocalTS, a.RemoteTS)
			}
			if len(a.ESPProposals) == 0 || !slices.Equal(a.ESPProposals, b.ESPProposals) {
				t.Errorf("%s: esp_proposals %q and %q", cw, a.ESPProposals, b.ESPProposals)
			}
			if a.Mode != b.Mode {
				t.Errorf("%s: modes %q and %q", cw, a.Mode, b.Mode)
			}
			starts := []string{a.StartAction, b.StartAction}
			for i, s := range starts {
				want := s == "none"
				if i == init {
					want = s != "none"
				}
				if !want {
					t.Errorf("%s: start_action %q on %s and %q on %s; want exactly one non-none, on end %d (start %q)", cw, a.StartAction, na, b.StartAction, nb, init, tun.Start)
					break
				}
			}
			if (a.IfIDIn != 0) != (b.IfIDIn != 0) || (a.MarkIn != 0) != (b.MarkIn != 0) {
				t.Errorf("%s: route-based on one end only: if_id %d/%d, mark %d/%d", cw, a.IfIDIn, b.IfIDIn, a.MarkIn, b.MarkIn)
			}
		}
		// PSK: the same secret source on both ends, with both ids
		if tun.Auth.Method == topology.AuthPSK {
			sa, sb := findSecret(gws[na], "ike-"+tun.Name), findSecret(gws[nb], "ike-"+tun.Name)
			switch {
			case sa == nil || sb == nil:
				t.Errorf("%s: PSK secret missing on one end", where)
			case sa.Source == nil || sb.Source == nil || *sa.Source != *sb.Source:
				t.Errorf("%s: PSK sources differ: %v and %v", where, sa.Source, sb.Source)
			case !sameSet(sa.IDs, []string{ca.Local.ID, ca.Remote.ID}) || !sameSet(sb.IDs, []string{cb.Local.ID, cb.Remote.ID}):
				t.Errorf("%s: secret ids %q and %q do not list both ends", where, sa.IDs, sb.IDs)
			}
		}
	}
}

// reporter is the part of testing.T the checks use, so that a test can
// feed them broken input and see that they notice.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// recorder collects the errors of a check.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// renderedText is the parsed swanctl.conf and secrets.conf of a gateway.
type renderedText struct {
	conf, secrets *settingsSection
}

func parseRendered(t *testing.T, gw *plan.Gateway, source string) renderedText {
	t.Helper()
	files, err := render.Gateway(gw, render.Options{Source: source, Secrets: sourceSecrets{}})
	if err != nil {
		t.Fatalf("render %s: %v", gw.Name, err)
	}
	var out renderedText
	for _, f := range files {
		switch f.Path {
		case render.SwanctlConf, render.SecretsConf:
			s, err := parseSettings(string(f.Data))
			if err != nil {
				t.Fatalf("%s/%s does not parse: %v\n%s", gw.Name, f.Path, err, numbered(string(f.Data)))
			}
			if f.Path == render.SwanctlConf {
				out.conf = s
			} else {
				out.secrets = s
			}
		}
	}
	if out.conf == nil || out.secrets == nil {
		t.Fatalf("%s: swanctl.conf or secrets.conf not rendered", gw.Name)
	}
	return out
}

// startAction is the child's start action as charon reads it (none if absent).
func startAction(ch *settingsSection) string {
	if !ch.has("start_action") {
		return "none"
	}
	return ch.value("start_action")
}

// checkTextAgreement checks the property on the rendered text.
func checkTextAgreement(t reporter, net *topology.Network, texts map[string]renderedText) {
	t.Helper()
	for _, tun := range net.Tunnels {
		ga, gb := tun.Ends[0].Gateway, tun.Ends[1].Gateway
		ta, tb := texts[ga.Name], texts[gb.Name]
		ca, cb := ta.conf.sub("connections", tun.Name), tb.conf.sub("connections", tun.Name)
		where := fmt.Sprintf("swanctl.conf, tunnel %s (%s, %s)", tun.Name, ga.Name, gb.Name)
		if ca == nil || cb == nil {
			t.Errorf("%s: connection missing on one end (%v, %v)", where, ca != nil, cb != nil)
			continue
		}
		la, ra := ca.sub("local").value("id"), ca.sub("remote").value("id")
		lb, rb := cb.sub("local").value("id"), cb.sub("remote").value("id")
		if la == "" || ra == "" || la != rb || lb != ra {
			t.Errorf("%s: ids not mirrored: %s local.id %q remote.id %q, %s local.id %q remote.id %q", where, ga.Name, la, ra, gb.Name, lb, rb)
		}
		if ca.value("version") != "2" || cb.value("version") != "2" {
			t.Errorf("%s: version %q and %q, want 2 on both", where, ca.value("version"), cb.value("version"))
		}
		if pa, pb := ca.list("proposals"), cb.list("proposals"); len(pa) == 0 || !slices.Equal(pa, pb) {
			t.Errorf("%s: proposals %q and %q", where, pa, pb)
		}
		for _, k := range []string{"mobike", "encap", "dpd_delay", "rekey_time", "reauth_time"} {
			if ca.value(k) != cb.value(k) {
				t.Errorf("%s: %s %q and %q", where, k, ca.value(k), cb.value(k))
			}
		}
		// each end connects to the other's public address (or accepts any)
		for _, p := range []struct {
			c    *settingsSection
			peer *topology.Gateway
		}{{ca, gb}, {cb, ga}} {
			ra := p.c.list("remote_addrs")
			if p.peer.Dynamic {
				if !slices.Equal(ra, []string{"%any"}) {
					t.Errorf("%s: remote_addrs %q for dynamic %s, want %%any", where, ra, p.peer.Name)
				}
				continue
			}
			for _, a := range p.peer.Public {
				if !slices.Contains(ra, a.String()) {
					t.Errorf("%s: remote_addrs %q lacks %s's public address %s", where, ra, p.peer.Name, a)
				}
			}
		}
		chA, chB := ca.sub("children"), cb.sub("children")
		if chA == nil || chB == nil || !slices.Equal(chA.subOrder, chB.subOrder) || len(chA.subOrder) == 0 {
			t.Errorf("%s: children differ or are missing", where)
			continue
		}
		init := initiatorEnd(tun)
		for _, name := range chA.subOrder {
			a, b := chA.sub(name), chB.sub(name)
			cw := where + " child " + name
			if !slices.Equal(a.list("local_ts"), b.list("remote_ts")) || !slices.Equal(a.list("remote_ts"), b.list("local_ts")) {
				t.Errorf("%s: selectors not mirrored: %s %q === %q, %s %q === %q", cw,
					ga.Name, a.list("local_ts"), a.list("remote_ts"), gb.Name, b.list("local_ts"), b.list("remote_ts"))
			}
			if ea, eb := a.list("esp_proposals"), b.list("esp_proposals"); len(ea) == 0 || !slices.Equal(ea, eb) {
				t.Errorf("%s: esp_proposals %q and %q", cw, ea, eb)
			}
			if a.value("mode") != b.value("mode") {
				t.Errorf("%s: mode %q and %q", cw, a.value("mode"), b.value("mode"))
			}
			sa, sb := startAction(a), startAction(b)
			nonNone := 0
			for i, s := range []string{sa, sb} {
				if s != "none" {
					nonNone++
					if i != init {
						t.Errorf("%s: end %d starts (%q) but end %d is the initiator", cw, i, s, init)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[init >= 0]; nonNone != want {
				t.Errorf("%s: start_action %q and %q: %d ends start, want %d", cw, sa, sb, nonNone, want)
			}
			if a.has("if_id_in") != b.has("if_id_in") || a.has("mark_in") != b.has("mark_in") {
				t.Errorf("%s: route-based on one end only", cw)
			}
		}
		// secrets: the same PSK on both ends, listing both ids
		if tun.Auth.Method != topology.AuthPSK {
			continue
		}
		sa, sb := ta.secrets.sub("secrets", "ike-"+tun.Name), tb.secrets.sub("secrets", "ike-"+tun.Name)
		if sa == nil || sb == nil {
			t.Errorf("%s: secrets.conf lacks ike-%s on one end", where, tun.Name)
			continue
		}
		if sa.value("secret") == "" || sa.value("secret") != sb.value("secret") {
			t.Errorf("%s: PSKs differ: %q and %q", where, sa.value("secret"), sb.value("secret"))
		}
		ids := func(s *settingsSection) []string {
			var out []string
			for _, k := range s.keyOrder {
				if strings.HasPrefix(k, "id") {
					out = append(out, s.value(k))
				}
			}
			return out
		}
		if !sameSet(ids(sa), []string{la, ra}) || !sameSet(ids(sb), []string{lb, rb}) {
			t.Errorf("%s: secret ids %q and %q, want both ends' ids", where, ids(sa), ids(sb))
		}
	}
}

// checkAgreement runs both checks on a network.
func checkAgreement(t *testing.T, net *topology.Network, source string) {
	t.Helper()
	gws := planAll(t, net)
	checkPlanAgreement(t, net, gws)
	texts := map[string]renderedText{}
	for name, gw := range gws {
		texts[name] = parseRendered(t, gw, source)
	}
	checkTextAgreement(t, net, texts)
}

func TestBothEndsAgreeExamples(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(exampleName(ex), func(t *testing.T) {
			net, _, diags, err := topology.Load(ex)
			if err != nil || diags.HasErrors() {
				t.Fatalf("%v %v", err, diags)
			}
			if len(net.Tunnels) == 0 && len(net.RemoteAccess) == 0 {
				t.Fatal("example without tunnels")
			}
			checkAgreement(t, net, ex)
		})
	}
}

func TestBothEndsAgreeGenerated(t *testing.T) {
	cases := map[string]*genTopology{
		"hub-lan-12":        hubTopology(12, hubOptions{service: true}),
		"hub-host-12":       hubTopology(12, hubOptions{hostToHost: true}),
		"hub-route-12":      hubTopology(12, hubOptions{route: true, transfer: "2001:db8:ff::/64"}),
		"mesh-2":            meshTopology(2),
		"mesh-9":            meshTopology(9),
		"hub-lan-1-service": hubTopology(1, hubOptions{service: true}),
	}
	for seed := range uint64(mixedSeeds) {
		cases[fmt.Sprintf("mixed-%02d", seed)] = mixedTopology(rand.New(rand.NewPCG(seed, 1)))
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src := cases[name].yaml()
			net := loadGen(t, name+".yaml", src)
			checkAgreement(t, net, name+".yaml")
			if t.Failed() {
				t.Logf("topology:\n%s", numbered(src))
			}
		})
	}
}

// TestAgreementCheckDetects breaks one end of S1 in several ways, in the
// plan and in the rendered text, and makes sure the checks notice: a
// property test that cannot fail proves nothing.
func TestAgreementCheckDetects(t *testing.T) {
	const ex = "../../examples/s1-iot-cloud.yaml"
	load := func() (*topology.Network, map[string]*plan.Gateway) {
		net, _, diags, err := topology.Load(ex)
		if err != nil || diags.HasErrors() {
			t.Fatalf("%v %v", err, diags)
		}
		return net, planAll(t, net)
	}
	planMutations := map[string]func(gws map[string]*plan.Gateway){
		"remote id": func(g map[string]*plan.Gateway) { findConn(g["sitea"], "cloud-sitea").Remote.ID = "@other" },
		"local ts": func(g map[string]*plan.Gateway) {
			findConn(g["sitea"], "cloud-sitea").Children[0].LocalTS = []string{"10.1.0.0/24"}
		},
		"ts order": func(g map[string]*plan.Gateway) {
			c := findConn(g["cloud"], "cloud-sitea").Children[0]
			c.RemoteTS = append(c.RemoteTS, "10.9.0.0/24")
		},
		"proposals": func(g map[string]*plan.Gateway) {
			findConn(g["cloud"], "cloud-sitea").Proposals = []string{"aes128-sha256-modp3072"}
		},
		"esp proposals": func(g map[string]*plan.Gateway) { findConn(g["cloud"], "cloud-sitea").Children[0].ESPProposals = nil },
		"version":       func(g map[string]*plan.Gateway) { findConn(g["cloud"], "cloud-sitea").Version = 1 },
		"both start": func(g map[string]*plan.Gateway) {
			findConn(g["cloud"], "cloud-sitea").Children[0].StartAction = "start"
		},
		"none start": func(g map[string]*plan.Gateway) { findConn(g["sitea"], "cloud-sitea").Children[0].StartAction = "none" },
		"child name": func(g map[string]*plan.Gateway) { findConn(g["sitea"], "cloud-sitea").Children[0].Name = "x" },
		"psk source": func(g map[string]*plan.Gateway) {
			findSecret(g["sitea"], "ike-cloud-sitea").Source = &topology.Secret{Env: "OTHER"}
		},
		"psk ids": func(g map[string]*plan.Gateway) { findSecret(g["cloud"], "ike-cloud-sitea").IDs = []string{"@cloud"} },
	}
	for name, mutate := range planMutations {
		net, gws := load()
		mutate(gws)
		var rec recorder
		checkPlanAgreement(&rec, net, gws)
		if len(rec.errs) == 0 {
			t.Errorf("plan check missed a broken %s", name)
		}
		texts := map[string]renderedText{}
		for n, gw := range gws {
			texts[n] = parseRendered(t, gw, ex)
		}
		rec = recorder{}
		checkTextAgreement(&rec, net, texts)
		if len(rec.errs) == 0 {
			t.Errorf("text check missed a broken %s", name)
		}
	}
	// the unbroken example passes both
	net, gws := load()
	var rec recorder
	checkPlanAgreement(&rec, net, gws)
	texts := map[string]renderedText{}
	for n, gw := range gws {
		texts[n] = parseRendered(t, gw, ex)
	}
	checkTextAgreement(&rec, net, texts)
	if len(rec.errs) > 0 {
		t.Errorf("unbroken S1 fails: %q", rec.errs)
	}
}
