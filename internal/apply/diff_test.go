package apply_test

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/plan"
)

// testConn is a small connection for the Diff tests.
func testConn() *plan.Conn {
	return &plan.Conn{
		Name:        "hq-branch",
		Origin:      "tunnel hq-branch",
		Version:     2,
		LocalAddrs:  []string{"192.0.2.1"},
		RemoteAddrs: []string{"198.51.100.1"},
		Local:       plan.AuthRound{Auth: "psk", ID: "@hq"},
		Remote:      plan.AuthRound{Auth: "psk", ID: "@branch"},
		Proposals:   []string{"aes256gcm16-prfsha384-ecp384"},
		RekeyTime:   4 * time.Hour,
		Children: []*plan.Child{{
			Name:     "hq-branch",
			LocalTS:  []string{"10.0.0.0/24"},
			RemoteTS: []string{"10.1.0.0/24"},
			Mode:     "tunnel", RekeyTime: time.Hour,
		}},
	}
}

func testPool() *plan.Pool {
	return &plan.Pool{Name: "rw", Addrs: netip.MustParsePrefix("10.99.0.0/24")}
}

func testSecret() *plan.Secret {
	return &plan.Secret{Name: "ike-hq-branch", Kind: "ike", IDs: []string{"@hq", "@branch"}}
}

// stateOf is the state after applying gw with secret value "key" and
// nftables file nft; indent formats the JSON as the state file does.
func stateOf(t *testing.T, gw *plan.Gateway, nft string, indent bool) *apply.State {
	t.Helper()
	st := &apply.State{Gateway: gw.Name, Conns: map[string]json.RawMessage{}, Secrets: map[string]apply.StateSecret{}, Pools: map[string]json.RawMessage{}, Nft: nft}
	marshal := func(v any) json.RawMessage {
		var b []byte
		var err error
		if indent {
			b, err = json.MarshalIndent(v, "    ", "  ")
		} else {
			b, err = json.Marshal(v)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range gw.Conns {
		st.Conns[c.Name] = marshal(c)
	}
	for _, p := range gw.Pools {
		st.Pools[p.Name] = marshal(p)
	}
	for _, s := range gw.Secrets {
		st.Secrets[s.Name] = apply.StateSecret{Kind: s.Kind, Owners: s.IDs, Value: "0sa2V5"} // "key"
	}
	return st
}

const nftV1 = `table inet styx {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		ip saddr 10.1.0.0/24 accept
	}
}
`

func TestDiff(t *testing.T) {
	base := func() *plan.Gateway {
		return &plan.Gateway{
			Name:    "hq",
			Conns:   []*plan.Conn{testConn()},
			Pools:   []*plan.Pool{testPool()},
			Secrets: []*plan.Secret{testSecret()},
			Sysctls: []plan.Sysctl{{Key: "net.ipv4.ip_forward", Value: "1"}},
		}
	}
	// live is charon, the table and the sysctls as the previous apply left them.
	live := func(st *apply.State) apply.Observed {
		return apply.Observed{
			State:     st,
			Conns:     []string{"hq-branch", "foreign"},
			Shared:    []string{"ike-hq-branch"},
			Pools:     []string{"rw"},
			NftExists: true,
			Sysctls:   map[string]string{"net.ipv4.ip_forward": "1"},
		}
	}
	tests := []struct {
		name string
		// edit changes the desired gateway, nft file and secrets after the
		// state was taken.
		edit func(gw *plan.Gateway, nft *string, secrets map[string][]byte)
		// observe changes what the gateway has.
		observe func(o *apply.Observed)
		// indent formats the state's JSON as the state file does.
		indent bool
		want   string
	}{
		{name: "nothing changed"},
		{name: "state JSON formatting is ignored", indent: true},
		{
			name: "scalar fields, nested",
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				c := gw.Conns[0]
				c.DPDDelay = 30 * time.Second
				c.Remote.ID = "@branch2"
				c.Children[0].RekeyTime = 2 * time.Hour
				c.Children[0].StartAction = "trap"
			},
			want: `~ connection hq-branch
    Children[0].RekeyTime: 3600000000000 -> 7200000000000
    Children[0].StartAction: "" -> "trap"
    DPDDelay: 0 -> 30000000000
    Remote.ID: "@branch" -> "@branch2"
`,
		},
		{
			name: "list of the same length is compared element by element",
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Conns[0].Proposals = []string{"aes128gcm16-prfsha256-ecp256"}
			},
			want: `~ connection hq-branch
    Proposals[0]: "aes256gcm16-prfsha384-ecp384" -> "aes128gcm16-prfsha256-ecp256"
`,
		},
		{
			name: "list of another length is shown whole",
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Conns[0].Children[0].RemoteTS = []string{"10.1.0.0/24", "10.2.0.0/24"}
			},
			want: `~ connection hq-branch
    Children[0].RemoteTS: ["10.1.0.0/24"] -> ["10.1.0.0/24","10.2.0.0/24"]
`,
		},
		{
			name: "null and empty",
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Pools[0].DNS = []netip.Addr{netip.MustParseAddr("10.99.0.1")}
				gw.Conns[0].Pools = []string{}
			},
			want: `~ pool rw
    DNS: null -> ["10.99.0.1"]
~ connection hq-branch
    Pools: null -> []
`,
		},
		{
			name: "nftables lines added and removed",
			edit: func(_ *plan.Gateway, nft *string, _ map[string][]byte) {
				*nft = `table inet styx {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ip saddr 10.1.0.0/24 accept

		ip saddr 10.2.0.0/24 accept
	}
}
`
			},
			want: `~ nftables table inet styx
    - type filter hook forward priority filter; policy accept;
    + type filter hook forward priority filter; policy drop;
    + ip saddr 10.2.0.0/24 accept
`,
		},
		{
			name:    "nftables table missing",
			observe: func(o *apply.Observed) { o.NftExists = false },
			want: `+ nftables table inet styx
    7 lines
`,
		},
		{
			name: "secret value changed",
			edit: func(gw *plan.Gateway, _ *string, secrets map[string][]byte) {
				secrets["ike-hq-branch"] = []byte("other key")
			},
			want: `~ secret ike-hq-branch
    owners @hq, @branch, value <redacted>
`,
		},
		{
			name: "secret owners changed",
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Secrets[0].IDs = []string{"@hq", "@branch", "@branch-b"}
			},
			want: `~ secret ike-hq-branch
    owners @hq, @branch, @branch-b, value <redacted>
`,
		},
		{
			name: "secret given encoded, same value",
			edit: func(gw *plan.Gateway, _ *string, secrets map[string][]byte) {
				secrets["ike-hq-branch"] = []byte("0sa2V5")
			},
		},
		{
			name:    "sysctl unset and changed",
			observe: func(o *apply.Observed) { o.Sysctls = map[string]string{} },
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Sysctls = append(gw.Sysctls, plan.Sysctl{Key: "net.ipv4.conf.all.rp_filter", Value: "2"})
			},
			want: `~ sysctl net.ipv4.ip_forward
    (unset) -> 1
~ sysctl net.ipv4.conf.all.rp_filter
    (unset) -> 2
`,
		},
		{
			name: "removals: only what styx applied and charon still has",
			edit: func(gw *plan.Gateway, nft *string, _ map[string][]byte) {
				gw.Conns, gw.Pools, gw.Secrets = nil, nil, nil
				*nft = ""
			},
			want: `- connection hq-branch
- secret ike-hq-branch
- pool rw
- nftables table inet styx
`,
		},
		{
			name:    "removals: charon lost them already",
			observe: func(o *apply.Observed) { o.Conns, o.Shared, o.Pools = []string{"foreign"}, nil, nil },
			edit: func(gw *plan.Gateway, _ *string, _ map[string][]byte) {
				gw.Conns, gw.Pools, gw.Secrets = nil, nil, nil
			},
		},
		{
			name:    "reload after a charon restart",
			observe: func(o *apply.Observed) { o.Conns, o.Shared, o.Pools = nil, nil, nil },
			want: `+ secret ike-hq-branch (missing in charon, reload)
    owners @hq, @branch, value <redacted>
+ pool rw (missing in charon, reload)
    10.99.0.0/24
+ connection hq-branch (missing in charon, reload)
    tunnel hq-branch
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := base()
			st := stateOf(t, gw, nftV1, tt.indent)
			o := live(st)
			if tt.observe != nil {
				tt.observe(&o)
			}
			gw = base()
			nft := nftV1
			secrets := map[string][]byte{"ike-hq-branch": []byte("key")}
			if tt.edit != nil {
				tt.edit(gw, &nft, secrets)
			}
			d := apply.Desired{Gateway: gw, Secrets: secrets}
			if nft != "" {
				d.Nft = []byte(nft)
			}
			if got := changesText(apply.Diff(d, o)); got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s\n%s", got, tt.want, diffText(got, tt.want))
			}
		})
	}
}

func TestDiffWithoutState(t *testing.T) {
	d := apply.Desired{Gateway: &plan.Gateway{Name: "hq", Conns: []*plan.Conn{testConn()}}}
	o := apply.Observed{Conns: []string{"hq-branch"}} // loaded by someone else
	want := `+ connection hq-branch
    tunnel hq-branch
`
	if got := changesText(apply.Diff(d, o)); got != want {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, want)
	}
}

// TestListing: counter values in nft listings and iptables-save chain
// headers do not count; everything else does.
func TestListing(t *testing.T) {
	for in, want := range map[string]string{
		"\t\tct state invalid counter packets 12 bytes 3456 drop\n": "\t\tct state invalid counter drop\n",
		"\t\tct state invalid counter drop\n":                       "\t\tct state invalid counter drop\n",
		":STYX-FWD - [17:2048]\n-A STYX-FWD -j DROP\n":              ":STYX-FWD - [0:0]\n-A STYX-FWD -j DROP\n",
		"\t\tip saddr 10.0.0.12 drop\n":                             "\t\tip saddr 10.0.0.12 drop\n",
		"":                                                          "",
	} {
		if got := apply.Listing([]byte(in)); got != want {
			t.Errorf("Listing(%q) = %q, want %q", in, got, want)
		}
	}
}
