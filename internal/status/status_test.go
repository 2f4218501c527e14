package status

import (
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/birdd"
	"github.com/styx-vpn/styx/internal/vici"
)

func TestEvaluate(t *testing.T) {
	up := vici.IKESA{Name: "a", State: "ESTABLISHED", RemoteHost: "192.0.2.1", RemoteID: "@a", Encryption: "AES_GCM_16_256", PRF: "PRF_HMAC_SHA2_384", DHGroup: "ECP_384",
		Children: []vici.ChildSA{{Name: "a", State: "INSTALLED", BytesIn: 4741, BytesOut: 6105, PacketsIn: 55, PacketsOut: 55, UseIn: 3, UseOut: 3, RekeyIn: 660}}}
	tests := []struct {
		name    string
		conns   []Conn
		states  []string
		summary string
	}{
		{"all up", []Conn{{Name: "a", Expected: []string{"a"}, SAs: []vici.IKESA{up}}}, []string{"up"}, "healthy: 1 of 1 tunnels up"},
		{"down", []Conn{{Name: "a", Expected: []string{"a"}}, {Name: "b", Expected: []string{"b"}}}, []string{"down", "down"}, "degraded: 0 of 2 tunnels up; down: a, b"},
		{"child missing", []Conn{{Name: "a", Expected: []string{"a", "gre"}, SAs: []vici.IKESA{up}}}, []string{"partial"}, "degraded: 0 of 1 tunnels up; down: a"},
		{"connecting", []Conn{{Name: "a", SAs: []vici.IKESA{{State: "CONNECTING"}}}}, []string{"connecting"}, "degraded: 0 of 1 tunnels up; down: a"},
		{"road warriors do not count", []Conn{{Name: "rw", RoadWarrior: true, SAs: []vici.IKESA{up, up}}}, []string{"up"}, "no site-to-site connections; 2 road warrior(s) connected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Conns: tt.conns}
			r.Evaluate()
			for i, want := range tt.states {
				if got := r.Conns[i].State; got != want {
					t.Errorf("conn %d: state %q, want %q", i, got, want)
				}
			}
			if r.Health.Summary != tt.summary {
				t.Errorf("summary %q, want %q", r.Health.Summary, tt.summary)
			}
		})
	}
}

func TestTable(t *testing.T) {
	r := &Report{Conns: []Conn{
		{Name: "cloud-sitea", Expected: []string{"cloud-sitea"}, SAs: []vici.IKESA{{Name: "cloud-sitea", State: "ESTABLISHED", RemoteHost: "172.16.16.16", RemoteID: "sitea", Encryption: "AES_GCM_16_256", PRF: "PRF_HMAC_SHA2_384", DHGroup: "ECP_384",
			Children: []vici.ChildSA{{Name: "cloud-sitea", State: "INSTALLED", BytesIn: 4741, BytesOut: 6105, PacketsIn: 55, PacketsOut: 55, UseIn: 3, UseOut: -1, RekeyIn: 660}}}}},
		{Name: "cloud-siteb", Expected: []string{"cloud-siteb"}, Reason: "waiting for siteb to initiate"},
	}}
	r.Evaluate()
	var b strings.Builder
	if err := r.Table(&b); err != nil {
		t.Fatal(err)
	}
	want := `CONNECTION   STATE  PEER                IKE                                       CHILD        CHILD STATE  BYTES IN/OUT  PACKETS IN/OUT  LAST IN/OUT  REKEY IN
cloud-sitea  up     172.16.16.16 sitea  AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384  cloud-sitea  INSTALLED    4.7k/6.1k     55/55           3s/never     11m
cloud-siteb  down   -                   -                                         -            -            -             -               -            waiting for siteb to initiate
degraded: 1 of 2 tunnels up; down: cloud-siteb
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestBGP(t *testing.T) {
	protos := []birdd.Protocol{
		{Name: "device1", Proto: "Device", State: "up"},
		{Name: "tun_a", Proto: "BGP", State: "up", Since: "10:00:00", Info: "Established"},
		{Name: "tun_b", Proto: "BGP", State: "start", Since: "10:00:01", Info: "Active Socket: Connection refused"},
	}
	want := map[string][2]string{"tun_a": {"a", "gw-a"}, "tun_b": {"b", "gw-b"}, "tun_c": {"c", "gw-c"}}
	got := BGPFromBird(protos, want)
	exp := []BGPSession{
		{Name: "tun_a", Tunnel: "a", Peer: "gw-a", State: "established", Since: "10:00:00"},
		{Name: "tun_b", Tunnel: "b", Peer: "gw-b", State: "active", Since: "10:00:01", Info: "Socket: Connection refused"},
		{Name: "tun_c", Tunnel: "c", Peer: "gw-c", State: "down", Info: "not configured in BIRD (run styx apply)"},
	}
	if len(got) != len(exp) {
		t.Fatalf("got %+v", got)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("session %d: %+v, want %+v", i, got[i], exp[i])
		}
	}
	r := &Report{BGP: got}
	r.Evaluate()
	if r.Health.OK || r.Health.Summary != "no site-to-site connections; BGP: 1 of 3 sessions established (not: tun_b, tun_c)" {
		t.Errorf("health %+v", r.Health)
	}
	var b strings.Builder
	r.Table(&b)
	if !strings.Contains(b.String(), "BGP SESSION") || !strings.Contains(b.String(), "tun_b        active") {
		t.Errorf("table:\n%s", b.String())
	}
	r = &Report{BGP: got[:1]}
	r.Evaluate()
	if !r.Health.OK {
		t.Errorf("one established session: %+v", r.Health)
	}
}
